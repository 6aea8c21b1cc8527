import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../support/stack';

export interface SsoAccount {
  name: string;
  roles: string[];
  tenants: string[];
}

export interface SsoProviderOptions {
  /** The page's URL: the client's redirect and post-logout URI. */
  pageUrl: string;
  /** The API's resource indicator, the access tokens' `aud`. */
  resource: string;
  accessTokenTTL: number;
  /** Login names (the dev login form takes any password) and what their access tokens carry. */
  accounts: Record<string, SsoAccount>;
  /** A confidential client whose client-credentials tokens carry these roles and tenants. */
  robot: { clientId: string; secret: string } & Omit<SsoAccount, 'name'>;
  port: number;
  /** A second issuer signing with the same key. */
  otherPort: number;
}

export interface SsoProvider {
  issuer: string;
  otherIssuer: string;
  /** A client-credentials access token for the API from `issuer` (default: the trusted one). */
  robotToken(issuer?: string): Promise<string>;
  /** Whether the provider still honours a refresh token (false once revoked or its session ended). */
  refreshWorks(refreshToken: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Starts oidc-provider (test/browser/reviewer-sso.provider.mjs) in a child process: it is an ES
 * module, which Jest's CommonJS runtime cannot load. Resolves when both issuers listen.
 */
export async function startSsoProvider(opts: SsoProviderOptions): Promise<SsoProvider> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'sso-spec-1', alg: 'ES256', use: 'sig' };
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'test', 'browser', 'reviewer-sso.provider.mjs'), JSON.stringify({ ...opts, jwk })],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited (${code}): ${stderr.join('')}`)));
  });
  const issuer = `http://127.0.0.1:${opts.port}`;
  const otherIssuer = `http://127.0.0.1:${opts.otherPort}`;
  const basic = `Basic ${Buffer.from(`${opts.robot.clientId}:${opts.robot.secret}`).toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  return {
    issuer,
    otherIssuer,
    async robotToken(from = issuer) {
      const res = await fetch(`${from}/token`, {
        method: 'POST',
        headers: { ...form, authorization: basic },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: opts.resource, scope: 'approvals' }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`no client-credentials token from ${from}: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async refreshWorks(refreshToken) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: 'countersign-reviewer',
          resource: opts.resource,
        }),
      });
      return res.ok;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
