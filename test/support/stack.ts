import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { generateSigningKeyPair } from '@countersign/crypto';
import { testKafkaBrokers } from './test-broker';
import { freePort, positionGroupAtEnd as positionAtEnd, waitUntil } from '@countersign/testkit';

export const ROOT = resolve(__dirname, '../..');
export const KAFKA_BROKERS = testKafkaBrokers();
export const PG_ADMIN_URL = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SERVICE_NAMES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function kafka(): Kafka {
  return new Kafka({ clientId: 'test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
}

export { freePort };

const TEST_DB_PREFIX = process.env['TEST_DB_PREFIX'] ?? 'cs_test_';

/** A fresh database for one spec, so specs never see each other's rows. */
export async function createTestDatabase(name: string): Promise<string> {
  const db = `${TEST_DB_PREFIX}${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${db}`);
  } finally {
    await c.end();
  }
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Runs one query on a database of its own connection (for assertions on a service's tables). */
export async function sql<T = Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Drops a database createTestDatabase made (any other name is left alone); for afterAll, so it never throws. */
export async function dropDatabase(databaseUrl: string | undefined): Promise<void> {
  if (!databaseUrl) return;
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!name.startsWith(TEST_DB_PREFIX) || !/^[a-z0-9_]+$/.test(name)) return;
  await sql(PG_ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
}

/**
 * Barrier for a service's outbox: waits until every row staged for these keys (all rows without
 * keys) is published, so the relay sends nothing more for them. Follow it with the probe's
 * `caughtUp` before counting events.
 */
export async function outboxPublished(databaseUrl: string, schema: string, keys?: readonly string[]): Promise<void> {
  await waitUntil(
    async () =>
      (
        await sql(
          databaseUrl,
          `SELECT 1 FROM ${schema}.outbox WHERE published_at IS NULL${keys ? ' AND key = ANY($1::text[])' : ''} LIMIT 1`,
          keys ? [[...keys]] : [],
        )
      ).length === 0,
    { what: `the ${schema} outbox${keys ? ` rows of ${keys.join(', ')}` : ''} published`, timeout: 30_000 },
  );
}

/** A stack's configuration directory: the repo's system policy, and an executors file. */
export interface StackConfig {
  dir: string;
  /** The env that points policy-decision and execution-binding at it. */
  env: { POLICY_DIR: string; EXECUTORS_FILE: string };
}

/** A fresh configuration directory with `policies/system.yaml` copied from the repo and `executors.yaml` from `executors`. */
export function stackConfig(prefix: string, executors: string | readonly string[]): StackConfig {
  const dir = mkdtempSync(join(tmpdir(), `cs-${prefix}-`));
  mkdirSync(join(dir, 'policies'));
  cpSync(join(ROOT, 'policies', 'system.yaml'), join(dir, 'policies', 'system.yaml'));
  const file = join(dir, 'executors.yaml');
  writeFileSync(file, typeof executors === 'string' ? executors : executors.join('\n'));
  return { dir, env: { POLICY_DIR: join(dir, 'policies'), EXECUTORS_FILE: file } };
}

/** The producers of signed events: audit signs audit.recorded. */
export type KeyOwner = 'policy-decision' | 'approval-queue' | 'execution-binding' | 'audit';

/** Test signing keys, one pair per producer of signed events, written to files as in production. */
export interface TestKeys {
  dir: string;
  files: Record<KeyOwner, { privateKey: string; publicKey: string }>;
  pems: Record<KeyOwner, { privateKeyPem: string; publicKeyPem: string }>;
  jwtSecret: string;
}

export function makeTestKeys(): TestKeys {
  const dir = mkdtempSync(join(tmpdir(), 'cs-keys-'));
  const names = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'] as const;
  const files = {} as TestKeys['files'];
  const pems = {} as TestKeys['pems'];
  for (const n of names) {
    const pair = generateSigningKeyPair();
    pems[n] = pair;
    files[n] = { privateKey: join(dir, `${n}.key`), publicKey: join(dir, `${n}.pub`) };
    writeFileSync(files[n].privateKey, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(files[n].publicKey, pair.publicKeyPem);
  }
  return { dir, files, pems, jwtSecret: `test-secret-${Math.random().toString(36).slice(2)}-0123456789abcdef` };
}

/** The environment the stack scripts give each service: its own key, and the public keys it trusts. */
export function keyEnv(keys: TestKeys): Record<string, string> {
  return {
    POLICY_DECISION_SIGNING_KEY_FILE: keys.files['policy-decision'].privateKey,
    APPROVAL_QUEUE_SIGNING_KEY_FILE: keys.files['approval-queue'].privateKey,
    EXECUTION_BINDING_SIGNING_KEY_FILE: keys.files['execution-binding'].privateKey,
    TRUST_POLICY_DECISION_KEY_FILE: keys.files['policy-decision'].publicKey,
    TRUST_APPROVAL_QUEUE_KEY_FILE: keys.files['approval-queue'].publicKey,
    TRUST_EXECUTION_BINDING_KEY_FILE: keys.files['execution-binding'].publicKey,
    AUDIT_SIGNING_KEY_FILE: keys.files['audit'].privateKey,
    TRUST_AUDIT_KEY_FILE: keys.files['audit'].publicKey,
    APPROVER_JWT_SECRET: keys.jwtSecret,
  };
}

/** What a spec's services share: a fresh database and one set of test keys (both go to `startService`). */
export interface TestStack {
  databaseUrl: string;
  keys: TestKeys;
}

/** A fresh database `database` and test keys (new ones unless given) for a spec's services. */
export async function createTestStack(database: string, keys: TestKeys = makeTestKeys()): Promise<TestStack> {
  return { databaseUrl: await createTestDatabase(database), keys };
}

/** The four services on one stack, started together (each its own consumer group), `env` given to each. */
export function startServices(stack: TestStack, env: Record<string, string> = {}): Promise<ServiceHandle[]> {
  return Promise.all(SERVICE_NAMES.map((n) => startService(n, { ...stack, env })));
}

/** A fresh consumer group positioned at the end of every topic: the spec sees only what it publishes. */
export function positionGroupAtEnd(groupId: string): Promise<void> {
  return positionAtEnd(kafka(), groupId);
}

export interface ServiceHandle {
  name: ServiceName;
  port: number;
  url: string;
  groupId: string;
  lines: Record<string, unknown>[];
  process: ChildProcess;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

export interface StartOptions {
  databaseUrl: string;
  /** Test keys: the service gets their environment (`keyEnv`), which `env` may override. */
  keys?: TestKeys;
  env?: Record<string, string>;
  groupId?: string;
  port?: number;
  /** Position the group at the end of every topic first (default true for a new group). */
  positionAtEnd?: boolean;
  readyTimeoutMs?: number;
}

/** Starts a built service as a real process (so OpenTelemetry patches it as in production). */
export async function startService(name: ServiceName, opts: StartOptions): Promise<ServiceHandle> {
  const port = opts.port ?? (await freePort());
  const groupId = opts.groupId ?? `${name}-test-${process.pid}-${Date.now()}`;
  if (opts.positionAtEnd !== false) await positionGroupAtEnd(groupId);
  const logDir = join(ROOT, 'test-results', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = createWriteStream(join(logDir, `${groupId}.log`), { flags: 'a' });
  const child = spawn(
    process.execPath,
    ['--disable-warning=TimeoutNegativeWarning', join(ROOT, 'services', name, 'dist/src/main.js')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        KAFKA_BROKERS,
        KAFKA_GROUP_ID: groupId,
        KAFKA_CLIENT_ID: groupId,
        DATABASE_URL: opts.databaseUrl,
        OUTBOX_POLL_MS: '100',
        ...(opts.keys && keyEnv(opts.keys)),
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  const onData = (chunk: Buffer) => {
    logFile.write(chunk);
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text, raw: true });
      }
    }
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code) => {
      exitCode = code;
      logFile.end();
      res(code);
    }),
  );

  const handle: ServiceHandle = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    groupId,
    lines,
    process: child,
    async stop() {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
    waitForLog(predicate, timeoutMs = 30000) {
      return new Promise((res, rej) => {
        const check = () => {
          const hit = lines.find(predicate);
          if (hit) {
            waiters.delete(check);
            clearTimeout(t);
            res(hit);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          rej(new Error(`${name}: log line not seen within ${timeoutMs} ms; last lines:\n${tail(lines)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };

  const readyTimeout = opts.readyTimeoutMs ?? 90000;
  try {
    await waitUntil(
      async () => {
        if (exitCode !== undefined)
          throw new Error(`${name} exited with ${exitCode} before it was ready:\n${tail(lines)}`);
        return (await fetch(`${handle.url}/readyz`).catch(() => undefined))?.status === 200; // not listening yet: undefined
      },
      { what: `${name} ready`, timeout: readyTimeout, every: 200 },
    );
  } catch (e) {
    if (exitCode !== undefined) throw e;
    await handle.kill();
    throw new Error(`${name} not ready within ${readyTimeout} ms:\n${tail(lines)}`);
  }
  return handle;
}

function tail(lines: Record<string, unknown>[]): string {
  return lines
    .slice(-15)
    .map((l) => JSON.stringify(l).slice(0, 400))
    .join('\n');
}
