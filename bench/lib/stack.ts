// Shared by the benches that run services: a private Kafka broker (deploy/local/kafka.sh on its own
// ports and state dir, fresh each run), fresh databases, keys, built services as processes, and
// CPU/memory readings from /proc. Nothing here touches the shared broker or the dev databases.
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateSigningKeyPair } from '@countersign/crypto';
import pgLib, { type Client as PgClient } from 'pg';
import { freePort } from '@countersign/testkit';

const { Client } = pgLib;
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PG_ADMIN = process.env.BENCH_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const fmt = (n: number | undefined, d = 0): string =>
  n !== undefined && Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : 'n/a';
/** The number after `--<name>` on the command line, or `dflt`. */
export function numberOption(name: string, dflt: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

let KAFKA_PORT = 39092;
let STATE_DIR = join(ROOT, 'deploy/local/.kafka/bench');
let KAFKA_CONTROLLER_PORT = KAFKA_PORT + 1;
export let BROKERS = `127.0.0.1:${KAFKA_PORT}`;

/** Which private broker this bench uses (call once, before startBroker). */
export function configureBroker({ port, stateDir }: { port: number; stateDir: string }): void {
  KAFKA_PORT = port;
  KAFKA_CONTROLLER_PORT = port + 1;
  STATE_DIR = stateDir;
  BROKERS = `127.0.0.1:${KAFKA_PORT}`;
}

const children = new Set<ChildProcess>();
function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  try {
    execFileSync(join(ROOT, 'deploy/local/kafka.sh'), ['stop'], { env: kafkaEnv(), stdio: 'ignore' });
  } catch {
    // already stopped
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

export function kafkaEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KAFKA_PORT: String(KAFKA_PORT),
    KAFKA_CONTROLLER_PORT: String(KAFKA_CONTROLLER_PORT),
    KAFKA_STATE_DIR: STATE_DIR,
  };
}

export async function startBroker(): Promise<number> {
  execFileSync(join(ROOT, 'deploy/local/kafka.sh'), ['stop'], { env: kafkaEnv(), stdio: 'ignore' });
  rmSync(STATE_DIR, { recursive: true, force: true });
  execFileSync(join(ROOT, 'deploy/local/kafka.sh'), ['start'], {
    env: kafkaEnv(),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync(process.execPath, [join(ROOT, 'deploy/local/create-topics.cjs')], {
    env: { ...process.env, KAFKA_BROKERS: BROKERS },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return Number(readFileSync(join(STATE_DIR, 'broker.pid'), 'utf8').trim());
}

export async function pg<T>(url: string, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
export function dbUrl(name: string): string {
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return u.toString();
}
// BENCH_DB_PREFIX (default cs_bench_): two benches on one PostgreSQL must not drop each other's databases.
export const DB_PREFIX = process.env.BENCH_DB_PREFIX ?? 'cs_bench_';
if (!/^[a-z_][a-z0-9_]*$/.test(DB_PREFIX))
  throw new Error(`BENCH_DB_PREFIX must be a lower-case SQL identifier, got '${DB_PREFIX}'`);
/** Drops and creates the database `<BENCH_DB_PREFIX><suffix>`; returns its URL. */
export async function recreateDb(suffix: string): Promise<string> {
  const name = `${DB_PREFIX}${suffix}`;
  await pg(PG_ADMIN, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  return dbUrl(name);
}

export { freePort };

export interface BenchKeys {
  dir: string;
  env: Record<string, string>;
  jwtSecret: string;
  executorPub: string;
}

export function makeKeys(): BenchKeys {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-e2e-'));
  const env: Record<string, string> = {};
  for (const n of ['policy-decision', 'approval-queue', 'execution-binding', 'audit']) {
    const pair = generateSigningKeyPair();
    const up = n.toUpperCase().replace(/-/g, '_');
    writeFileSync(join(dir, `${n}.key`), pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, `${n}.pub`), pair.publicKeyPem);
    env[`${up}_SIGNING_KEY_FILE`] = join(dir, `${n}.key`);
    env[`TRUST_${up}_KEY_FILE`] = join(dir, `${n}.pub`);
  }
  return {
    dir,
    env,
    jwtSecret: `bench-e2e-${randomUUID()}`,
    executorPub: readFileSync(join(dir, 'execution-binding.pub'), 'utf8'),
  };
}

// BENCH_PORT_BASE=<port>: services listen on base, base+1, ... in the order they start (one more
// per service started in this process), so two benches on one machine can be kept apart; unset, on
// a free port the system picks.
const PORT_BASE = process.env.BENCH_PORT_BASE ? Number(process.env.BENCH_PORT_BASE) : undefined;
if (PORT_BASE !== undefined && !(Number.isInteger(PORT_BASE) && PORT_BASE > 0 && PORT_BASE < 65000))
  throw new Error(`BENCH_PORT_BASE must be a TCP port number, got '${process.env.BENCH_PORT_BASE}'`);
let portsTaken = 0;
export const PROBE = join(ROOT, 'bench/lib/probe.ts');

/**
 * Starts services/<name>/dist/src/main.js of `root` (default: this checkout) with cwd `root`.
 * With `probeDir`, bench/lib/probe.ts of this checkout is loaded into it and writes its counters
 * (and CPU profiles, on SIGUSR2) there as `<name>.<replica>-<pid>.json`.
 */
export interface Service {
  name: string;
  replica: number;
  url: string;
  pid: number;
  probeName: string;
  signal(sig: NodeJS.Signals): boolean;
  stop(): Promise<void>;
}

export async function startService(
  name: string,
  replica: number,
  env: Record<string, string>,
  { root = ROOT, probeDir }: { root?: string; probeDir?: string | undefined } = {},
): Promise<Service> {
  const port = PORT_BASE === undefined ? await freePort() : PORT_BASE + portsTaken++;
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": extra node flags for every service (profiling).
  const nodeArgs = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  const probeName = `${name}.${replica}`;
  const child = spawn(
    process.execPath,
    ['--disable-warning=TimeoutNegativeWarning', ...nodeArgs, join(root, 'services', name, 'dist/src/main.js')],
    {
      cwd: root,
      env: {
        ...(probeDir
          ? {
              NODE_OPTIONS: `--import ${JSON.stringify(PROBE)}`,
              BENCH_PROBE_DIR: probeDir,
              BENCH_PROBE_NAME: probeName,
            }
          : {}),
        PATH: process.env.PATH,
        HOME: process.env.HOME || '/tmp',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'warn',
        KAFKA_BROKERS: BROKERS,
        KAFKA_CLIENT_ID: `${name}-${replica}`,
        ...env,
        // BENCH_SERVICE_ENV=K=V,K=V: settings for every service, for experiments (e.g. DATABASE_POOL_MAX=20).
        ...Object.fromEntries(
          (process.env.BENCH_SERVICE_ENV || '')
            .split(',')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        ),
      },
      stdio: ['ignore', process.env.BENCH_LOG_DIR ? 'pipe' : 'ignore', process.env.BENCH_DBG ? 'inherit' : 'pipe'],
    },
  );
  children.add(child);
  // BENCH_LOG_DIR=<dir>: keep each service's log (for looking into a slow run).
  if (process.env.BENCH_LOG_DIR) {
    mkdirSync(process.env.BENCH_LOG_DIR, { recursive: true });
    child.stdout?.pipe(createWriteStream(join(process.env.BENCH_LOG_DIR, `${name}-${replica}.log`)));
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready in 120 s: ${stderr}`);
    await sleep(250);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} has no pid`);
  return {
    name,
    replica,
    url,
    pid,
    probeName,
    signal: (sig) => child.exitCode === null && child.kill(sig),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
export function usage(pid: number): { cpu: number; rssMiB: number } {
  try {
    const stat = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpu: (Number(stat[11]) + Number(stat[12])) / 100, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return { cpu: NaN, rssMiB: NaN };
  }
}
/**
 * The server's processes; with `benchOnly`, only the backends of the databases named BENCH_DB_PREFIX...
 * and the shared background processes (checkpointer, WAL writer, ...), so that other work on the same
 * PostgreSQL (tests, another bench) is not in the bench's figures.
 */
export function postgresPids({ benchOnly = false }: { benchOnly?: boolean } = {}): number[] {
  try {
    if (benchOnly)
      return execFileSync(
        'psql',
        [
          PG_ADMIN,
          '-Atc',
          `SELECT pid FROM pg_stat_activity WHERE starts_with(datname, '${DB_PREFIX}') ` +
            `OR backend_type NOT IN ('client backend', 'autovacuum worker', 'background worker', 'walsender')`,
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    return execSync('pgrep -x postgres', { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/**
 * CPU seconds and RSS of each group of processes; `byPid` lets cpuBetween() count only what each
 * process used between two samples (a process that started in between counts from its start).
 */
export interface Sample {
  cpu: number;
  rss: number;
  byPid?: Record<string, number>;
}

export function sampleAll(procs: () => Record<string, number[]>): Record<string, Sample> {
  const out: Record<string, Sample> = {};
  for (const [label, pids] of Object.entries(procs())) {
    let cpu = 0;
    let rss = 0;
    const byPid: Record<string, number> = {};
    for (const pid of pids) {
      const u = usage(pid);
      if (Number.isFinite(u.cpu)) cpu += byPid[pid] = u.cpu;
      if (Number.isFinite(u.rssMiB)) rss += u.rssMiB;
    }
    out[label] = { cpu, rss, byPid };
  }
  const self = process.cpuUsage();
  out['load generator (this process)'] = {
    cpu: (self.user + self.system) / 1e6,
    rss: process.memoryUsage().rss / 1024 / 1024,
  };
  return out;
}

/** CPU seconds a group used between two sampleAll() readings; processes gone by the second are lost. */
export function cpuBetween(before: Sample | undefined, after: Sample | undefined): number {
  if (!after) return NaN;
  if (!after.byPid) return after.cpu - (before?.cpu ?? 0);
  return Object.entries(after.byPid).reduce((n, [pid, cpu]) => n + cpu - (before?.byPid?.[pid] ?? 0), 0);
}

export function machine(): {
  cpu: string;
  nproc: string;
  mem: string;
  node: string;
  postgres: string;
  date: string;
} {
  const sh = (cmd: string): string => {
    try {
      return execSync(cmd, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: sh('nproc'),
    mem: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    postgres: sh(`psql "${PG_ADMIN}" -Atc "SHOW server_version"`),
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
  };
}

/**
 * Waits until a process is quiet: samples its CPU from /proc every `intervalMs` and returns once it
 * used less than `belowPct` % of one vCPU in `consecutive` samples in a row, or after `maxSeconds`.
 * `onSample(pct, seconds)` is called after each sample. Returns { settled, seconds, lastPct }.
 */
export async function waitCpuQuiet(
  pid: number,
  {
    belowPct,
    intervalMs = 2000,
    consecutive = 2,
    maxSeconds,
    onSample,
  }: {
    belowPct: number;
    intervalMs?: number;
    consecutive?: number;
    maxSeconds: number;
    onSample?: (pct: number, seconds: number) => void;
  },
): Promise<{ settled: boolean; seconds: number; lastPct: number }> {
  const start = Date.now();
  let prev = usage(pid).cpu;
  let prevAt = start;
  let quiet = 0;
  let lastPct = NaN;
  for (;;) {
    await sleep(intervalMs);
    const at = Date.now();
    const cpu = usage(pid).cpu;
    lastPct = ((cpu - prev) / ((at - prevAt) / 1000)) * 100;
    prev = cpu;
    prevAt = at;
    const seconds = (at - start) / 1000;
    quiet = lastPct < belowPct ? quiet + 1 : 0;
    onSample?.(lastPct, seconds);
    if (quiet >= consecutive) return { settled: true, seconds, lastPct };
    // The process is gone (NaN) or the time is up.
    if (!Number.isFinite(lastPct) || seconds >= maxSeconds) return { settled: false, seconds, lastPct };
  }
}

export function stopBroker(): void {
  execFileSync(join(ROOT, 'deploy/local/kafka.sh'), ['stop'], { env: kafkaEnv(), stdio: 'ignore' });
}
