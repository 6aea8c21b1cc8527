import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../support/stack';

export const UI_DIST = join(ROOT, 'services', 'approval-queue', 'ui', 'dist');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
export const DOC_IMAGES = join(ROOT, 'docs', 'images');
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface ExecutorCall {
  jobId: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The http executor's target: answers 200 and remembers every call. */
export async function startExecutorTarget(): Promise<{ url: string; calls: ExecutorCall[]; close(): Promise<void> }> {
  const calls: ExecutorCall[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      calls.push({ jobId: String(req.headers['idempotency-key'] ?? ''), headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/execute`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Whether the approval-queue itself serves the built page at `/`. */
export async function servesPage(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/`);
    return (
      res.ok &&
      (res.headers.get('content-type') ?? '').includes('text/html') &&
      (await res.text()).includes('Countersign reviewer')
    );
  } catch {
    return false;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * Development stand-in, only with REVIEWER_UI_DEV_SERVER=1, for while the service does not yet serve
 * `ui/dist`: the built files, and `/api/*` proxied to the real service.
 */
export async function startDevServer(apiBase: string): Promise<{ url: string; close(): Promise<void> }> {
  const api = new URL(apiBase);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/api/')) {
      const upstream = httpRequest(
        { host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
      return;
    }
    const file = normalize(join(UI_DIST, path === '/' ? 'index.html' : path));
    if (!file.startsWith(UI_DIST) || !existsSync(file) || !statSync(file).isFile())
      return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Debian's Chromium through playwright-core, headless, with a fresh profile. */
export async function launchBrowser(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const profile = mkdtempSync(join(tmpdir(), 'cs-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'UTC',
    permissions: ['clipboard-read', 'clipboard-write'],
  });
}

/** Saves a screenshot under test-results/screenshots and, when `doc` is given, as docs/images/reviewer-<doc>.png. */
export async function screenshot(page: Page, name: string, doc?: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  // The caret blinks and countdowns tick: hide the caret so repeated runs differ only in the time.
  await page.screenshot({ path: file, fullPage, caret: 'hide', animations: 'disabled' });
  if (doc) {
    mkdirSync(DOC_IMAGES, { recursive: true });
    copyFileSync(file, join(DOC_IMAGES, `reviewer-${doc}.png`));
  }
  return file;
}
