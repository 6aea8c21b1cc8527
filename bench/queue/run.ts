#!/usr/bin/env node
// Approval queue benchmark, against the built service, real Postgres and the broker:
//   1. seeds 100,000 pending items (plus resolved history) directly into a bench database whose
//      schema the service itself migrated at start;
//   2. GET /api/v1/approvals: p50/p99 without and with filters, one client at a time (latency) and
//      at 10 concurrent clients (throughput);
//   3. POST /api/v1/approvals/{id}/approve by 50 concurrent reviewers, each on its own item (every
//      approval resolves its item and its approval.resolved goes through the outbox to Kafka):
//      unthrottled (saturation), evenly spaced at 100 req/s, and one at a time.
// The service gets a broker of its own (deploy/local/kafka.sh with a private state dir and ports):
// on the shared broker it would consume other people's traffic and publish thousands of events.
// Build first (npx tsc -b services/approval-queue), then:
//   node bench/queue/run.ts [--items 100000] [--seconds 10] [--keep] [--seed-only] [--profile] [--service-env K=V,...] [--no-report]
// Writes bench/reports/queue.md.
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_TOPICS } from '@countersign/contracts';
import autocannon from 'autocannon';
import kafkajs from 'kafkajs';
import type { Client as PgClient } from 'pg';
import { PG_ADMIN, dbUrl, freePort, numberOption, pg as withPg } from '../lib/stack.ts';

const { Kafka, logLevel } = kafkajs;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(ROOT, 'services/approval-queue/dist/src/main.js');
if (!existsSync(MAIN)) {
  process.stderr.write(
    'bench/queue: services/approval-queue/dist is missing; run `npx tsc -b services/approval-queue` first\n',
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const ITEMS = numberOption('items', 100000);
const SECONDS = numberOption('seconds', 10);
const KEEP = args.includes('--keep');
// Extra service variables for experiments, e.g. --service-env OTEL_SDK_DISABLED=true
const SERVICE_ENV = Object.fromEntries(
  (args.includes('--service-env') ? (args[args.indexOf('--service-env') + 1] ?? '') : '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const KAFKA_SH = join(ROOT, 'deploy/local/kafka.sh');
const DB = 'cs_bench_queue';
const SECRET = `bench-queue-${randomUUID()}`;
const APPROVABLE = 30000;
const HISTORY = 20000;
const TARGETS = { listP99: 15, approveP99: 25 };
const STEADY_RATE = 100;

const log = (s: string): boolean => process.stdout.write(`[bench/queue] ${s}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function jwt(claims: Record<string, unknown>): string {
  const b = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ iat: now, exp: now + 3600, tenants: ['*'], ...claims })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** A broker of the bench's own, on free ports with a throw-away state dir; stopped on exit. */
let broker: { tmp: string; env: NodeJS.ProcessEnv; brokers: string[] } | undefined;

async function startBroker(): Promise<NonNullable<typeof broker>> {
  const tmp = mkdtempSync(join(tmpdir(), 'cs-bench-queue-kafka-'));
  const env = {
    ...process.env,
    KAFKA_SECURE: '0',
    KAFKA_STATE_DIR: join(tmp, 'state'),
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
  };
  const started = { tmp, env, brokers: [`127.0.0.1:${env.KAFKA_PORT}`] };
  broker = started;
  execFileSync(KAFKA_SH, ['start'], { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180000 });
  const admin = new Kafka({ clientId: 'bench-queue', brokers: started.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: ALL_TOPICS.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
  return started;
}

function stopBroker(): void {
  if (!broker) return;
  try {
    execFileSync(KAFKA_SH, ['stop'], { env: broker.env, stdio: 'ignore', timeout: 60000 });
  } catch {
    // best effort
  }
  rmSync(broker.tmp, { recursive: true, force: true });
  broker = undefined;
}

/** The service process, so a failing or interrupted run never leaves it behind. */
let running: ChildProcess | undefined;
process.on('exit', () => {
  if (running && running.exitCode === null) running.kill('SIGKILL');
  stopBroker();
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

interface QueueService {
  url: string;
  child: ChildProcess;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

async function startService(opts: { profile?: boolean } = {}): Promise<QueueService> {
  if (!broker) throw new Error('start the broker first');
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-queue-'));
  const key = (name: string): void => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, `${name}.key`), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    writeFileSync(join(dir, `${name}.pub`), publicKey.export({ format: 'pem', type: 'spki' }));
  };
  key('approval-queue');
  key('policy-decision');
  const port = await freePort();
  const groupId = `bench-queue-${Date.now()}`;
  const prof = opts.profile ? ['--prof', `--logfile=${join(dir, 'v8.log')}`, '--no-logfile-per-isolate'] : [];
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...prof, MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME || '/tmp',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: broker.brokers.join(','),
      KAFKA_GROUP_ID: groupId,
      KAFKA_CLIENT_ID: groupId,
      DATABASE_URL: dbUrl(DB),
      DATABASE_POOL_MAX: '20',
      APPROVAL_QUEUE_SIGNING_KEY_FILE: join(dir, 'approval-queue.key'),
      TRUST_POLICY_DECISION_KEY_FILE: join(dir, 'policy-decision.pub'),
      APPROVER_JWT_SECRET: SECRET,
      ...SERVICE_ENV,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service not ready in 60 s:\n${output}`);
    await sleep(250);
  }
  running = child;
  const pid = child.pid;
  if (pid === undefined) throw new Error('the service has no pid');
  return {
    url,
    child,
    pid,
    dir,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.on('exit', () => res());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 20000).unref();
      }),
  };
}

const TENANTS = 10;
const TOPICS = 20;
const RULES = 8;
const AGENTS = 200;

/** Items as the intake would write them: proposal and decision merged, payload already redacted. */
async function seed(c: PgClient): Promise<string[]> {
  const S = 'approval_queue.approval_items';
  const common = (state: string, n: number, offset: number): string => `
    INSERT INTO ${S} (job_id, state, tenant, proposal_event_id, agent_id, topic, risk_tags, requested_by, payload, redacted_fields,
                      proposal_summary, proposal_hash, proposed_at, decision_event_id, decision, policy_snapshot, policy_rule_id,
                      policy_reason, matched_rules, job_hash, constraints, decision_summary, approval_requirement, decided_at,
                      approvals_required, approver_roles, pending_since, due_at, resolved_by, resolved_comment, resolved_at)
    SELECT 'bench-' || lpad(g::text, 7, '0'), '${state}', 't' || (g % ${TENANTS}), gen_random_uuid()::text,
           'agent-' || (g % ${AGENTS}), 'job.' || (ARRAY['deploy','config','db','payments','iam'])[1 + g % 5] || '.action' || (g % ${TOPICS}),
           CASE g % 5 WHEN 0 THEN ARRAY['prod','write'] WHEN 1 THEN ARRAY['prod'] WHEN 2 THEN ARRAY['pci','write'] WHEN 3 THEN ARRAY['pii']
                      ELSE ARRAY['prod','pii','write'] END,
           'requester-' || (g % 500) || '@example.com',
           jsonb_build_object('service', 'svc-' || (g % 300), 'version', '1.' || (g % 40) || '.0', 'replicas', g % 12,
                              'credentials', jsonb_build_object('user', 'deployer', 'password', '[REDACTED]'), 'note', repeat('x', 80)),
           ARRAY['credentials.password'], jsonb_build_object('title', 'Change ' || g), md5(g::text) || md5((g + 1)::text),
           now() - interval '1 hour', gen_random_uuid()::text, 'REQUIRE_APPROVAL', 'cfg:system:policy#sha256:' || repeat('ab', 32),
           'rule-' || (g % ${RULES}), 'needs an owner', ARRAY['rule-' || (g % ${RULES})], md5(g::text) || md5((g + 2)::text), '{}'::jsonb,
           jsonb_build_object('title', 'Change ' || g, 'why', 'production write', 'next_effect', 'the change is applied'),
           jsonb_build_object('approvals_required', 1 + (g % 2), 'approver_roles', ARRAY['service-owner'], 'sla_seconds', 86400,
                              'escalate_after_seconds', null, 'escalation_roles', ARRAY['oncall']),
           now() - interval '1 hour', ${state === 'PENDING' ? '1 + (g % 2)' : '1'},
           CASE WHEN g % 7 = 0 THEN ARRAY['finance'] WHEN g % 11 = 0 THEN ARRAY[]::text[] ELSE ARRAY['service-owner', 'sre'] END,
           now() - interval '1 hour',
           ${state === 'PENDING' ? `date_trunc('milliseconds', now() + interval '1 day' + (g * 5 || ' seconds')::interval)` : `now() - interval '1 day'`},
           ${state === 'PENDING' ? 'NULL, NULL, NULL' : `'reviewer-' || (g % 30), CASE WHEN g % 3 = 0 THEN 'missing rollback plan' ELSE 'ok' END, now() - interval '1 day' + (g || ' seconds')::interval`}
      FROM generate_series(${offset + 1}, ${offset + n}) g`;
  const t = Date.now();
  await c.query(common('PENDING', ITEMS, 0));
  await c.query(
    common('APPROVED', HISTORY, ITEMS).replace(
      `'APPROVED', 't' ||`,
      `CASE WHEN g % 3 = 0 THEN 'REJECTED' ELSE 'APPROVED' END, 't' ||`,
    ),
  );
  // One approval already on a third of the two-approval items, as a live queue would have.
  await c.query(`INSERT INTO approval_queue.approval_actions (job_id, actor, role, action, reason, note, at)
                 SELECT job_id, 'early-reviewer', 'service-owner', 'approve', 'looks fine', NULL, now() - interval '30 minutes'
                   FROM ${S} WHERE state = 'PENDING' AND approvals_required = 2 AND right(job_id, 1) IN ('1', '3', '5')`);
  await c.query(`VACUUM ANALYZE ${S}`);
  await c.query(`VACUUM ANALYZE approval_queue.approval_actions`);
  log(`seeded ${fmt(ITEMS)} pending + ${fmt(HISTORY)} resolved items in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  // Reviewers approve one-approval items visible to service-owner: each approval resolves its item.
  const rows = await c.query<{ job_id: string }>(
    `SELECT job_id FROM ${S} WHERE state = 'PENDING' AND approvals_required = 1 AND 'service-owner' = ANY(approver_roles) ORDER BY random() LIMIT $1`,
    [APPROVABLE],
  );
  return rows.rows.map((r) => r.job_id);
}

const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** CPU seconds used so far by a process (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * CPU used by the service process and by the Postgres backends serving the bench database: on a
 * shared machine, CPU per request says more about the code than latency does.
 */
async function cpuSnapshot(pid: number): Promise<{ svc: number; byPid: Map<number, number>; pids: number[] }> {
  const backends = await withPg(PG_ADMIN, async (c) =>
    (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [DB])).rows.map(
      (r) => r.pid,
    ),
  );
  const byPid = new Map(backends.map((p) => [p, cpuSeconds(p)]));
  return { svc: cpuSeconds(pid), byPid, pids: backends };
}

/** Latency and throughput of one run, as autocannon reports them (or the evenly spaced runner). */
interface Figures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rps: number;
  total: number;
  non2xx: number;
  errors: number;
}

async function measured(
  pid: number,
  run: () => Promise<Figures>,
): Promise<Figures & { load: number; svcCpuMs: number; dbCpuMs: number }> {
  const load = loadavg()[0] ?? NaN;
  const before = await cpuSnapshot(pid);
  const result = await run();
  const after = await cpuSnapshot(pid);
  const n = Math.max(1, result.total);
  // Per backend: a connection opened during the run counts from zero; one closed during it is lost (rare: the pool keeps them).
  const db = after.pids.reduce(
    (sum, p) => sum + Math.max(0, (after.byPid.get(p) ?? 0) - (before.byPid.get(p) ?? 0)),
    0,
  );
  return { ...result, load, svcCpuMs: ((after.svc - before.svc) * 1000) / n, dbCpuMs: (db * 1000) / n };
}

function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    void autocannon(opts.amount ? opts : { duration: SECONDS, ...opts }, (err, result) =>
      err ? rej(err instanceof Error ? err : new Error(String(err))) : res(result),
    );
  });
}

function figures(r: autocannon.Result): Figures {
  return {
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    rps: r.requests.average,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/** A node of a JSON query plan (EXPLAIN (FORMAT JSON)), as far as the bench reads it. */
interface PlanNode {
  'Index Name'?: string;
  Plans?: PlanNode[];
}

async function explain(c: PgClient, sqlText: string, params: unknown[]): Promise<{ ms: number; indexes: string[] }> {
  const r = await c.query<{ 'QUERY PLAN': { Plan: PlanNode; 'Execution Time': number }[] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sqlText}`,
    params,
  );
  const plan = r.rows[0]?.['QUERY PLAN'][0];
  if (!plan) throw new Error(`no plan for ${sqlText}`);
  const indexes = new Set<string>();
  const walk = (n: PlanNode): void => {
    if (n['Index Name']) indexes.add(n['Index Name']);
    (n.Plans || []).forEach(walk);
  };
  walk(plan.Plan);
  return { ms: plan['Execution Time'], indexes: [...indexes] };
}

async function main() {
  log(`recreating database ${DB}`);
  await withPg(PG_ADMIN, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB}`);
  });
  log('starting a private broker');
  await startBroker();
  log(`broker on ${broker?.brokers.join(',')}; starting the service (it runs its migrations)`);
  let svc = await startService();
  const approvable = await withPg(dbUrl(DB), seed);
  if (args.includes('--seed-only')) {
    await svc.stop();
    stopBroker();
    log(`seeded ${DB}; left in place (--seed-only)`);
    return;
  }
  // Restart so the service's connections see the seeded statistics with fresh plans.
  await svc.stop();
  svc = await startService({ profile: args.includes('--profile') });
  if (args.includes('--profile')) {
    // A V8 profile of the unfiltered page under one client, for whoever wants to make it cheaper.
    const reviewerToken = jwt({ sub: 'bench-reviewer@example.com', roles: ['service-owner', 'sre'] });
    const headers = { authorization: `Bearer ${reviewerToken}` };
    await cannon({ url: `${svc.url}/api/v1/approvals`, headers, connections: 1, duration: 3 });
    const r = figures(await cannon({ url: `${svc.url}/api/v1/approvals`, headers, connections: 1 }));
    await svc.stop();
    stopBroker();
    const out = join(svc.dir, 'profile.txt');
    writeFileSync(
      out,
      execFileSync(process.execPath, ['--prof-process', join(svc.dir, 'v8.log')], { maxBuffer: 64 * 1024 * 1024 }),
    );
    log(`profiled ${r.total} pages (p50 ${r.p50} ms); V8 profile: ${out}`);
    return;
  }

  const reviewer = jwt({ sub: 'bench-reviewer@example.com', roles: ['service-owner', 'sre'] });
  const auth = { authorization: `Bearer ${reviewer}` };
  const list = async (name: string, query: string, connections: number) => {
    const path = `/api/v1/approvals${query ? `?${query}` : ''}`;
    const probe = await fetch(`${svc.url}${path}`, { headers: auth });
    const body = (await probe.json()) as { items: unknown[] };
    if (probe.status !== 200) throw new Error(`${path}: ${probe.status} ${JSON.stringify(body)}`);
    const result = await measured(svc.pid, async () =>
      figures(await cannon({ url: `${svc.url}${path}`, headers: auth, connections })),
    );
    log(
      `list ${name} (${connections} conn): p50 ${result.p50} ms, p99 ${result.p99} ms, ${fmt(result.rps)} req/s, ` +
        `cpu/req service ${result.svcCpuMs.toFixed(2)} ms + db ${result.dbCpuMs.toFixed(2)} ms, load ${result.load.toFixed(1)}`,
    );
    return { name, query: query || '(none)', connections, items: body.items.length, ...result };
  };

  const idle = await (async () => {
    const c0 = cpuSeconds(svc.pid);
    await sleep(5000);
    return ((cpuSeconds(svc.pid) - c0) / 5) * 100;
  })();
  log(`service idle CPU: ${idle.toFixed(1)} % of one core`);

  log('warming up');
  await cannon({ url: `${svc.url}/api/v1/approvals`, headers: auth, connections: 4, duration: 3 });

  const cursor = (
    (await (await fetch(`${svc.url}/api/v1/approvals?limit=50`, { headers: auth })).json()) as { next_cursor: string }
  ).next_cursor;
  const cases: [string, string][] = [
    ['no filters', ''],
    ['tenant', 'tenant=t3'],
    ['topic', 'topic=job.db.action7'],
    ['risk_tag', 'risk_tag=pci'],
    ['role', 'role=finance'],
    ['rule_id', 'rule_id=rule-5'],
    ['tenant+topic+risk_tag', 'tenant=t2&topic=job.db.action2&risk_tag=write'],
    ['page 2 (cursor)', `cursor=${cursor}`],
    ['limit=200', 'limit=200'],
  ];
  const listResults = [];
  for (const [name, q] of cases) listResults.push(await list(name, q, 1));
  const listLoaded = [await list('no filters', '', 10), await list('tenant+topic+risk_tag', cases[6]?.[1] ?? '', 10)];

  const plans = await withPg(dbUrl(DB), async (c) => ({
    none: await explain(
      c,
      `SELECT * FROM approval_queue.approval_items WHERE state = 'PENDING' AND (cardinality(approver_roles) = 0 OR approver_roles && $1::text[]) ORDER BY due_at, job_id LIMIT 51`,
      [['service-owner', 'sre']],
    ),
    topic: await explain(
      c,
      `SELECT * FROM approval_queue.approval_items WHERE state = 'PENDING' AND (cardinality(approver_roles) = 0 OR approver_roles && $1::text[]) AND topic = $2 ORDER BY due_at, job_id LIMIT 51`,
      [['service-owner', 'sre'], 'job.db.action7'],
    ),
    tag: await explain(
      c,
      `SELECT * FROM approval_queue.approval_items WHERE state = 'PENDING' AND (cardinality(approver_roles) = 0 OR approver_roles && $1::text[]) AND risk_tags @> ARRAY[$2]::text[] ORDER BY due_at, job_id LIMIT 51`,
      [['service-owner', 'sre'], 'pci'],
    ),
  }));

  const approveRun = async (name: string, ids: readonly string[], extra: Partial<autocannon.Options>) => {
    let next = 0;
    const f = await measured(svc.pid, async () =>
      figures(
        await cannon({
          url: svc.url,
          connections: 50,
          amount: ids.length,
          requests: [
            {
              method: 'POST',
              headers: { ...auth, 'content-type': 'application/json' },
              body: JSON.stringify({ reason: 'bench approval' }),
              setupRequest: (req) => ({ ...req, path: `/api/v1/approvals/${ids[next++ % ids.length]}/approve` }),
            },
          ],
          ...extra,
        }),
      ),
    );
    log(
      `approve ${name}: p50 ${f.p50} ms, p99 ${f.p99} ms, ${fmt(f.rps)} req/s, ${f.total} requests, non-2xx ${f.non2xx}, ` +
        `cpu/req service ${f.svcCpuMs.toFixed(2)} ms + db ${f.dbCpuMs.toFixed(2)} ms, load ${f.load.toFixed(1)}`,
    );
    return { name, ...f };
  };
  const split = Math.floor(approvable.length / 2);
  const approveSaturated = await approveRun('50 reviewers, unthrottled', approvable.slice(0, split), {});
  // autocannon's rate limit releases each second's requests together; this sends them evenly spaced
  // (open loop: latency counts from the scheduled time, so a slow answer cannot hide the queue behind it).
  const steadyRun = async (name: string, ids: readonly string[], rate: number) => {
    const latencies: number[] = [];
    let non2xx = 0;
    const started = performance.now();
    const body = JSON.stringify({ reason: 'bench approval' });
    const headers = { ...auth, 'content-type': 'application/json' };
    const f = await measured(svc.pid, async () => {
      await Promise.all(
        ids.map(async (id, i) => {
          const at = started + (i * 1000) / rate;
          await sleep(Math.max(0, at - performance.now()));
          const res = await fetch(`${svc.url}/api/v1/approvals/${id}/approve`, { method: 'POST', headers, body });
          await res.arrayBuffer();
          if (res.status !== 200) non2xx++;
          latencies.push(performance.now() - at);
        }),
      );
      latencies.sort((a, b) => a - b);
      const pct = (q: number): number =>
        Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
      const seconds = (performance.now() - started) / 1000;
      return {
        p50: pct(0.5),
        p90: pct(0.9),
        p99: pct(0.99),
        max: pct(1),
        rps: latencies.length / seconds,
        total: latencies.length,
        non2xx,
        errors: 0,
      };
    });
    log(
      `approve ${name}: p50 ${f.p50} ms, p99 ${f.p99} ms, ${fmt(f.rps)} req/s, ${f.total} requests, non-2xx ${f.non2xx}, ` +
        `cpu/req service ${f.svcCpuMs.toFixed(2)} ms + db ${f.dbCpuMs.toFixed(2)} ms, load ${f.load.toFixed(1)}`,
    );
    return { name, ...f };
  };
  const steadyIds = approvable.slice(split, split + STEADY_RATE * SECONDS);
  const approveSteady = await steadyRun(`evenly spaced, ${STEADY_RATE} req/s`, steadyIds, STEADY_RATE);
  const serialIds = approvable.slice(split + STEADY_RATE * SECONDS, split + STEADY_RATE * SECONDS + 1000);
  const approveSerial = await approveRun('1 reviewer at a time', serialIds, { connections: 1 });
  const resolved = await withPg(dbUrl(DB), async (c) => {
    const r = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM approval_queue.approval_items WHERE state = 'APPROVED' AND resolved_by = 'bench-reviewer@example.com'`,
    );
    const o = await c.query<{ n: number; published: number }>(
      `SELECT count(*)::int AS n, count(published_at)::int AS published FROM approval_queue.outbox`,
    );
    return { approved: r.rows[0]?.n ?? 0, outbox: o.rows[0]?.n ?? 0, published: o.rows[0]?.published ?? 0 };
  });
  log(
    `approved items: ${fmt(resolved.approved)}, outbox rows: ${fmt(resolved.outbox)} (${fmt(resolved.published)} published)`,
  );
  // How long the relay takes to publish what the approvals left in the outbox.
  const drainStart = Date.now();
  let drained = resolved.published;
  while (drained < resolved.outbox && Date.now() - drainStart < 300000) {
    await sleep(1000);
    drained = await withPg(
      dbUrl(DB),
      async (c) =>
        (await c.query<{ n: number }>('SELECT count(published_at)::int AS n FROM approval_queue.outbox')).rows[0]?.n ??
        0,
    );
  }
  const drainSeconds = (Date.now() - drainStart) / 1000;
  log(
    `outbox: ${fmt(drained)} of ${fmt(resolved.outbox)} published ${drainSeconds.toFixed(0)} s after the approvals ended`,
  );

  await svc.stop();
  stopBroker();
  if (!KEEP) await withPg(PG_ADMIN, (c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));

  if (args.includes('--no-report')) return;
  const pg = await withPg(
    PG_ADMIN,
    async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version,
  );
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  const nproc = Number(execSync('nproc').toString().trim());
  const cpuPerReq = (r: { svcCpuMs: number; dbCpuMs: number }): string =>
    `${r.svcCpuMs.toFixed(2)} + ${r.dbCpuMs.toFixed(2)}`;
  const row = (r: Awaited<ReturnType<typeof list>>): string =>
    `| ${r.name} | \`${r.query.length > 40 ? `${r.query.slice(0, 37)}...` : r.query}\` | ${r.connections} | ${r.items} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${fmt(r.rps)} | ${cpuPerReq(r)} | ${r.load.toFixed(1)} |`;
  const pages = listResults.filter((r) => r.items <= 50);
  const worstList = Math.max(...pages.map((r) => r.p99));
  const medianList = pages.map((r) => r.p50).sort((a, b) => a - b)[Math.floor(pages.length / 2)];
  const listCpu = pages.map((r) => r.svcCpuMs + r.dbCpuMs).sort((a, b) => a - b)[Math.floor(pages.length / 2)] ?? NaN;
  const approveCpu = approveSaturated.svcCpuMs + approveSaturated.dbCpuMs;
  const loads = [...listResults, ...listLoaded, approveSaturated, approveSteady, approveSerial].map((r) => r.load);
  const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const md = `# Approval queue benchmark

Generated by \`node bench/queue/run.ts\` on ${new Date().toISOString().slice(0, 10)}.

Machine: ${nproc} vCPU (${cpuModel}), Node ${process.version}, PostgreSQL ${pg}; the service, Postgres, the
broker and the load generator share the machine (and, during this run, other engineers' work).

## Set-up

- ${fmt(ITEMS)} pending items seeded straight into the service's schema (migrated by the service at
  start), plus ${fmt(HISTORY)} resolved ones for the per-item history; ${TENANTS} tenants, ${TOPICS}
  topics, ${RULES} rules, ${AGENTS} agents, 5 risk-tag sets; 1/7 of the items need \`finance\`, 1/11 any
  role, the rest \`service-owner\` or \`sre\`; a third of the two-approval items already have one approval.
- The reviewer token has roles \`service-owner, sre\` and no tenant limit, so it sees ~86% of the queue.
- Each list answer is the full item view (payload, decision, approvals, up to 5 history entries), 50
  items per page unless stated.
- Approvals: each request approves a different one-approval item, so every one locks its item,
  records the action, resolves it and writes a signed \`approval.resolved\` to the outbox in one
  transaction; the outbox relay publishes them to Kafka meanwhile (the bench's own broker, started
  with \`deploy/local/kafka.sh\` on private ports, so the shared broker sees none of it).
- Service: one process, \`DATABASE_POOL_MAX=20\`, \`LOG_LEVEL=warn\`; idle it uses ${idle.toFixed(1)} % of a
  core (sweeper, outbox relay, Kafka consumer), which the CPU-per-request figures include.
  autocannon runs in this script's process. ${SECONDS} s per run. CPU ms/req is the service process
  and the Postgres backends serving the bench database, from /proc: on a machine shared with other
  work it says more about the code than latency does (2 cores give ~2,000 CPU ms per second).

## GET /api/v1/approvals (target: p99 ≤ ${TARGETS.listP99} ms)

Latency, one request at a time:

| case | query | conn | items | p50 ms | p90 ms | p99 ms | max ms | req/s | CPU ms/req (service + db) | load |
|---|---|---|---|---|---|---|---|---|---|---|
${listResults.map(row).join('\n')}

Under load (10 concurrent clients; by Little's law latency here is concurrency / throughput):

| case | query | conn | items | p50 ms | p90 ms | p99 ms | max ms | req/s | CPU ms/req (service + db) | load |
|---|---|---|---|---|---|---|---|---|---|---|
${listLoaded.map(row).join('\n')}

Worst single-client p99 of a 50-item page: ${worstList} ms (median p50 ${medianList} ms): target ${verdict(worstList <= TARGETS.listP99)}.

Query plans (database time of the page query alone, EXPLAIN ANALYZE):

| filter | ms | indexes used |
|---|---|---|
| none | ${plans.none.ms.toFixed(2)} | ${plans.none.indexes.join(', ')} |
| topic | ${plans.topic.ms.toFixed(2)} | ${plans.topic.indexes.join(', ')} |
| risk_tag | ${plans.tag.ms.toFixed(2)} | ${plans.tag.indexes.join(', ')} |

## POST /api/v1/approvals/{id}/approve (target with 50 concurrent reviewers: p99 ≤ ${TARGETS.approveP99} ms)

| run | requests | non-2xx | p50 ms | p90 ms | p99 ms | max ms | req/s | CPU ms/req (service + db) | load |
|---|---|---|---|---|---|---|---|---|---|
${[approveSerial, approveSteady, approveSaturated].map((r) => `| ${r.name} | ${fmt(r.total)} | ${r.non2xx} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${fmt(r.rps)} | ${cpuPerReq(r)} | ${r.load.toFixed(1)} |`).join('\n')}

One reviewer at a time, an approval takes p50 ${approveSerial.p50} ms, p99 ${approveSerial.p99} ms. Offered ${STEADY_RATE} approvals/s evenly
spaced (far above a human queue: 50 reviewers each approving twice a second), p99 is ${approveSteady.p99} ms: target
${verdict(approveSteady.p99 <= TARGETS.approveP99)}. With 50 connections approving without pause the ${nproc} cores saturate at
${fmt(approveSaturated.rps)} approvals/s and latency is queueing (50 / throughput): p99 ${approveSaturated.p99} ms, target
${verdict(approveSaturated.p99 <= TARGETS.approveP99)}.
${fmt(resolved.approved)} items ended APPROVED with ${fmt(resolved.outbox)} outbox rows (one per resolution), ${fmt(resolved.published)}
published to Kafka by the time the run ended.

## Reading these numbers

- The machine is shared (other engineers' tests, brokers and benches): the 1-minute load average was
  ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${nproc} vCPUs during the runs${
    Math.max(...loads) > Number(nproc) ? ', so requests also queued for a core behind other work' : ''
  }. The load generator, the broker and
  Postgres run on the same ${nproc} cores as the service. CPU time per request is the figure to compare between runs.
- A 50-item page costs about ${listCpu.toFixed(1)} CPU ms (service + Postgres, median of the cases above) and an
  approval about ${approveCpu.toFixed(1)} CPU ms. On ${nproc} otherwise idle cores that is a ceiling of roughly
  ${fmt((nproc * 1000) / listCpu)} pages/s or ${fmt((nproc * 1000) / approveCpu)} approvals/s, and one page in about
  ${(listCpu / 1.5).toFixed(0)} ms of wall time (service and database work partly in parallel).
- With ${'50'} reviewers hammering without pause, p99 is bound below by queueing: 50 in flight at
  ${fmt(approveSaturated.rps)}/s is ${fmt((50 / Math.max(1, approveSaturated.rps)) * 1000)} ms on average whatever the code does. The ${TARGETS.approveP99} ms target needs
  either fewer requests in flight (real reviewers click far less often) or more cores.
- The database side is index-only work: the plans above take ${plans.none.ms.toFixed(1)}–${Math.max(plans.topic.ms, plans.tag.ms).toFixed(1)} ms of
  database time per page; most of a page's cost is the HTTP/Nest/OpenTelemetry layers and turning
  ~100 KB of rows into JSON.
- The outbox relay (libs/bus) publishes one message per broker round trip (acks from all replicas,
  one in flight). ${
    resolved.published < resolved.outbox
      ? `It fell behind the approval rate (${fmt(resolved.published)} of ${fmt(resolved.outbox)} published when the approvals ended; ${fmt(drained)} after ${drainSeconds.toFixed(0)} s more). Batching its sends (kafkajs \`sendBatch\`, order kept per key) would remove the lag; that is libs/bus code, noted as a follow-up.`
      : `It kept up: all ${fmt(resolved.outbox)} events were on Kafka when the approvals ended.`
  }

## Indexes (migration \`1764000000000-approvals\`)

- \`approval_items_pending_due (due_at, job_id) WHERE state = 'PENDING'\`: the queue order and the
  keyset cursor; the default list is a short index range scan.
- \`approval_items_pending_{tenant,topic,rule} (<col>, due_at, job_id) WHERE state = 'PENDING'\`: the
  equality filters keep the due order, so a filtered page is also a range scan.
- \`approval_items_pending_tags\` (GIN on risk_tags, pending only): rare tags; common tags are faster
  through the due-order index with a filter, which the planner picks.
- \`approval_items_history (tenant, agent_id, topic, resolved_at DESC) INCLUDE (job_id, state,
  resolved_by, resolved_comment)\` for resolved items: the 5-entry history of each listed item is an
  index-only range read, however long the history (a LATERAL join for the whole page).
- Only the unfiltered page runs as a named prepared statement: a generic plan cannot know how
  selective a filter value is (with \`risk_tag=write\` it chose a bitmap scan and a sort of 60,000 rows,
  50x slower), so filtered pages are planned per call.
- \`approval_actions_one_per_actor (job_id, lower(actor))\`: one action per person per job, and the
  lookup of a page's approvals.
`;
  writeFileSync(join(ROOT, 'bench/reports/queue.md'), md);
  log('wrote bench/reports/queue.md');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/queue failed: ${(e as Error).stack || String(e)}\n`);
  if (running && running.exitCode === null) running.kill('SIGKILL');
  process.exit(1);
});
