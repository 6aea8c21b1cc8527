#!/usr/bin/env node
// Audit trail benchmark, against the real broker and Postgres and the built service:
//   1. append rate: N events published to Kafka (a realistic mix of the event types), measured
//      until every one is a record in the chained table (and until the outbox has streamed them);
//   2. the chain store alone (no Kafka): records/s through the repository, one record per
//      transaction and in group-commit batches, to show where the end-to-end limit sits;
//   3. verify: GET /api/v1/audit/verify over a chain of 1,000,000 generated records.
// Build first (npx tsc -b services/audit), start the broker (deploy/local/kafka.sh start), then:
//   node bench/audit/run.ts [--events 6000] [--records 1000000] [--runs 3] [--regenerate] [--generate-only] [--append-only] [--no-report]
// Writes bench/reports/audit.md.
import 'reflect-metadata';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OutboxRelay, createDataSource } from '@countersign/bus';
import { type AnyEnvelope, DEFAULT_REDACT_FIELDS, exampleEvents } from '@countersign/contracts';
import { generateSigningKeyPair, sha256Hex, signerFromPem } from '@countersign/crypto';
import kafkajs, { type Message } from 'kafkajs';
import {
  PG_ADMIN,
  type Service,
  dbUrl,
  machine,
  numberOption,
  startService as startBuiltService,
  usage,
  pg as withPg,
} from '../lib/stack.ts';
import { positionGroupAtEnd } from '@countersign/testkit';

const { Kafka, logLevel } = kafkajs;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = join(ROOT, 'services/audit/dist');
if (!existsSync(join(DIST, 'src/main.js'))) {
  process.stderr.write('bench/audit: services/audit/dist is missing; run `npx tsc -b services/audit` first\n');
  process.exit(2);
}
// The service's own code, built (checked above, so these come after the check).
const { linkRecords, FORMAT_1_COLUMNS, GENESIS_HASH } =
  await import('../../services/audit/dist/src/records/core/hash-chain.js');
const { entryFromEvent } = await import('../../services/audit/dist/src/records/core/audit-entry.js');
const { AuditRecordRepository, insertRecordRows } =
  await import('../../services/audit/dist/src/records/audit-record.repository.js');
const { AuditRecordEntity } = await import('../../services/audit/dist/src/records/audit-record.entity.js');
const { ChainHeadEntity } = await import('../../services/audit/dist/src/records/chain-head.entity.js');
const { PolicySnapshotEntity } = await import('../../services/audit/dist/src/records/policy-snapshot.entity.js');
const { migrations } = await import('../../services/audit/dist/src/migrations.js');
type RecordingPolicy = import('../../services/audit/dist/src/records/core/audit-entry.js').RecordingPolicy;
type RecordRow = import('../../services/audit/dist/src/records/audit-record.repository.js').RecordRow;
// The bench's events are unsigned: every record of a signed topic gets the verdict `invalid`, which costs what a check costs.
const RECORDING: RecordingPolicy = { trusted: {}, redactFields: DEFAULT_REDACT_FIELDS, keepFullPayloads: false };
const AUDIT_KEYS = generateSigningKeyPair();

const args = process.argv.slice(2);
const EVENTS = numberOption('events', 6000);
const RECORDS = numberOption('records', 1000000);
const RUNS = numberOption('runs', 3);
const REGENERATE = args.includes('--regenerate');
const GENERATE_ONLY = args.includes('--generate-only');
const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const SECRET = `bench-audit-${randomUUID()}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): boolean => process.stdout.write(`[bench/audit] ${s}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function recreateDb(name: string): Promise<void> {
  await withPg(PG_ADMIN, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
}

async function dbExists(name: string): Promise<boolean> {
  return withPg(
    PG_ADMIN,
    async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
  );
}

async function openDataSource(url: string, migrate: boolean): Promise<ReturnType<typeof createDataSource>> {
  const ds = createDataSource({
    url,
    schema: 'audit',
    entities: [AuditRecordEntity, ChainHeadEntity, PolicySnapshotEntity],
    migrations,
    poolMax: 4,
    applicationName: 'bench-audit',
  });
  await ds.initialize();
  if (migrate) {
    await ds.query('CREATE SCHEMA IF NOT EXISTS audit');
    await ds.runMigrations({ transaction: 'all' });
  }
  return ds;
}

// ---------------------------------------------------------------- realistic events

let counter = 0;
const SNAPSHOT = `cfg:system:policy#sha256:${sha256Hex('bench-policy')}`;
const trace = (): { traceparent: string } => ({
  traceparent: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`,
});
const sig = (): { alg: string; key_id: string; value: string } => ({
  alg: 'Ed25519',
  key_id: '3f2a9c0d1b4e5a67',
  value: Buffer.from(randomUUID() + randomUUID())
    .toString('base64url')
    .slice(0, 86),
});
const summary = {
  title: 'Roll out api v2.14.3 to production (eu-west-1)',
  why: 'Production writes to a customer-facing service require one approval from the service owner',
  next_effect: 'Waits for 1 approval from service-owner; escalates to on-call-lead after 15 minutes',
};

/** One job's story: five events of the sizes the services emit (600..1,400 bytes of JSON each). */
type BenchEvent = AnyEnvelope & { type: string; data: { job_id: string } };

function jobEvents(now = new Date().toISOString()): BenchEvent[] {
  counter += 1;
  const job_id = `job-bench-${counter}-${randomUUID().slice(0, 8)}`;
  const tenant = `tenant-${counter % 20}`;
  const job_hash = sha256Hex(job_id);
  const env = (type: string, data: { job_id: string } & Record<string, unknown>, extra = {}): BenchEvent => ({
    event_id: randomUUID(),
    type,
    schema_version: 1,
    occurred_at: now,
    producer:
      type === 'job.proposed'
        ? 'agent-sdk'
        : type.startsWith('approval')
          ? 'approval-queue'
          : type === 'decision.made'
            ? 'policy-decision'
            : 'execution-binding',
    trace: trace(),
    data,
    ...extra,
  });
  return [
    env('job.proposed', {
      job_id,
      tenant,
      agent_id: 'deploy-bot-7',
      topic: 'job.deploy.rollout',
      risk_tags: ['prod', 'write', 'customer-facing'],
      payload: {
        service: 'api',
        version: '2.14.3',
        region: 'eu-west-1',
        strategy: 'canary',
        steps: [5, 25, 50, 100],
        change_ticket: `CHG-${counter}`,
      },
      summary: { title: summary.title, next_effect: 'api v2.14.3 serves production traffic in eu-west-1' },
      requested_by: 'alice@acme.example',
      proposed_at: now,
    }),
    env(
      'decision.made',
      {
        job_id,
        tenant,
        decision: 'REQUIRE_APPROVAL',
        policy_snapshot: SNAPSHOT,
        policy_rule_id: 'prod-write-gate',
        policy_reason: 'Production writes to a customer-facing service require one approval from the service owner',
        matched_rules: ['prod-write-gate', 'deploy-window'],
        job_hash,
        constraints: { max_runtime_sec: 900, network_allowlist: ['deploy.internal.acme.example'] },
        approval: exampleEvents['decision.made'].data.approval,
        decision_summary: summary,
        decided_at: now,
      },
      { signature: sig() },
    ),
    env(
      'approval.resolved',
      {
        job_id,
        tenant,
        resolution: 'APPROVED',
        job_hash,
        policy_snapshot: SNAPSHOT,
        approvals: [
          {
            actor: 'bob@acme.example',
            role: 'service-owner',
            action: 'approve',
            reason: 'Canary metrics look healthy; change window is open',
            note: null,
            at: now,
          },
        ],
        resolved_by: 'bob@acme.example',
        resolved_comment: 'Canary metrics look healthy; change window is open',
        resolved_at: now,
      },
      { signature: sig() },
    ),
    env(
      'job.released',
      {
        job_id,
        tenant,
        agent_id: 'deploy-bot-7',
        job_hash,
        policy_snapshot: SNAPSHOT,
        constraints: { max_runtime_sec: 900, network_allowlist: ['deploy.internal.acme.example'] },
        released_at: now,
        expires_at: now,
      },
      { signature: sig() },
    ),
    env('job.executed', {
      job_id,
      tenant,
      job_hash,
      executor: 'http',
      status: 'SUCCEEDED',
      result: { http_status: 200, deployment_id: `dep-${counter}`, duration_ms: 48211 },
      error: null,
      attempts: 1,
      executed_at: now,
    }),
  ];
}

// ---------------------------------------------------------------- service process

const kafka = () => new Kafka({ clientId: 'bench-audit', brokers: BROKERS, logLevel: logLevel.NOTHING });

async function startService(databaseUrl: string): Promise<Service> {
  const groupId = `audit-bench-${process.pid}-${Date.now()}`;
  await positionGroupAtEnd(kafka(), groupId);
  // On the shared broker (KAFKA_BROKERS), not the private one bench/lib starts for the other benches.
  return startBuiltService('audit', 0, {
    KAFKA_BROKERS: BROKERS.join(','),
    KAFKA_GROUP_ID: groupId,
    KAFKA_CLIENT_ID: groupId,
    DATABASE_URL: databaseUrl,
    APPROVER_JWT_SECRET: SECRET,
    ...benchKeyEnv(),
  });
}

function auditorToken(): string {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'bench', roles: ['auditor'], tenants: ['*'], iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

/** What GET /api/v1/audit/verify answers, as far as the bench reads it. */
interface VerifyBody {
  ok?: boolean;
  checked?: number;
}

async function verifyOverHttp(url: string): Promise<{ ms: number; body: VerifyBody }> {
  const t0 = process.hrtime.bigint();
  const res = await fetch(`${url}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${auditorToken()}` } });
  const body = (await res.json()) as VerifyBody;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, body };
}

// ---------------------------------------------------------------- 1. append rate from Kafka

async function appendFromKafka() {
  const name = 'cs_bench_audit_append';
  const url = dbUrl(name);
  await recreateDb(name);
  const svc = await startService(url);
  const producer = kafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const headSeq = () =>
    withPg(url, async (c) => Number((await c.query('SELECT seq FROM audit.chain_head')).rows[0].seq));
  const waitSeq = async (target: number, timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await headSeq();
      if (s >= target) return s;
      if (Date.now() > deadline) throw new Error(`only ${s} of ${target} records after ${timeoutMs} ms`);
      await sleep(50);
    }
  };
  const send = async (events: readonly BenchEvent[]): Promise<void> => {
    const byTopic = new Map<string, Message[]>();
    for (const e of events) {
      const list = byTopic.get(e.type) || [];
      list.push({
        key: e.data.job_id,
        value: JSON.stringify(e),
        headers: { 'event-id': e.event_id, 'event-type': e.type, 'schema-version': '1' },
      });
      byTopic.set(e.type, list);
    }
    await producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      acks: 1,
    });
  };
  try {
    // Warm-up: the group has its partitions and the JIT is warm before the clock starts.
    const warm = Array.from({ length: 40 }, () => jobEvents()).flat();
    await send(warm);
    await waitSeq(warm.length, 60000);
    const base = await headSeq();

    const events: BenchEvent[] = [];
    while (events.length < EVENTS) events.push(...jobEvents());
    events.length = EVENTS;
    const bytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
    const t0 = Date.now();
    for (let i = 0; i < events.length; i += 2000) await send(events.slice(i, i + 2000));
    const published = Date.now() - t0;
    await waitSeq(base + EVENTS, 600000);
    const appendedMs = Date.now() - t0;
    let streamedMs: number | null = null;
    const drainDeadline = Date.now() + 600000;
    for (;;) {
      const pending = await withPg(url, async (c) =>
        Number((await c.query('SELECT count(*) FROM audit.outbox WHERE published_at IS NULL')).rows[0].count),
      );
      if (pending === 0) {
        streamedMs = Date.now() - t0;
        break;
      }
      if (Date.now() > drainDeadline) break;
      await sleep(100);
    }
    const check = await verifyOverHttp(svc.url);
    return {
      events: EVENTS,
      avgEventBytes: bytes / EVENTS,
      publishMs: published,
      appendedMs,
      streamedMs,
      verify: check.body,
      url,
      svc,
    };
  } finally {
    await producer.disconnect();
  }
}

/** The keys audit needs to start: its own signing key and a public key per producer it verifies. */
function benchKeyEnv(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-audit-'));
  const env: Record<string, string> = {};
  writeFileSync(join(dir, 'audit.key'), AUDIT_KEYS.privateKeyPem, { mode: 0o600 });
  env.AUDIT_SIGNING_KEY_FILE = join(dir, 'audit.key');
  for (const n of ['POLICY_DECISION', 'APPROVAL_QUEUE', 'EXECUTION_BINDING']) {
    writeFileSync(join(dir, `${n}.pub`), generateSigningKeyPair().publicKeyPem);
    env[`TRUST_${n}_KEY_FILE`] = join(dir, `${n}.pub`);
  }
  return env;
}

// ---------------------------------------------------------------- 2. the chain store alone

/**
 * The repository publishes each batch's `audit.recorded` events after its commit; the store alone
 * has no Kafka, so they stay in the outbox table (written in the same transaction, as in the service).
 */
const NO_RELAY = { publishNow: () => Promise.resolve() } satisfies Pick<
  OutboxRelay,
  'publishNow'
> as unknown as OutboxRelay;

async function appendDirect(url: string): Promise<{ label: string; total: number; ms: number; rate: number }[]> {
  const ds = await openDataSource(url, false);
  const settings = {
    dbRole: 'audit_writer',
    appendBatchMax: 500,
    verifyBatch: 5000,
    verifyWorkers: 2,
    signer: signerFromPem(AUDIT_KEYS.privateKeyPem),
  };
  const repo = new AuditRecordRepository(ds, settings, NO_RELAY);
  const entries = (n: number) => {
    const out = [];
    while (out.length < n) for (const e of jobEvents()) out.push(entryFromEvent(e.type, e, e, RECORDING));
    return out.slice(0, n);
  };
  const results = [];
  try {
    for (const [label, batch, total, writers] of [
      ['1 record per transaction, 1 writer', 1, 3000, 1],
      ['1 record per transaction, 3 writers (what 3 partitions in flight give)', 1, 3000, 3],
      ['group commit, batches of 500, 1 writer', 500, 60000, 1],
    ] as [string, number, number, number][]) {
      const all = entries(total);
      const t0 = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (;;) {
            const start = next;
            next += batch;
            if (start >= all.length) return;
            await repo.append(all.slice(start, start + batch), new Date());
          }
        }),
      );
      const ms = Date.now() - t0;
      results.push({ label, total, ms, rate: (total * 1000) / ms });
      log(`store: ${label}: ${fmt((total * 1000) / ms)} records/s`);
    }
  } finally {
    await ds.destroy();
  }
  return results;
}

// ---------------------------------------------------------------- 3. verify 1,000,000 records

async function generateChain(url: string): Promise<number> {
  const ds = await openDataSource(url, true);
  try {
    let head = { seq: 0, record_hash: GENESIS_HASH };
    const start = Date.parse('2026-11-01T00:00:00.000Z');
    const CHUNK = 5000;
    const t0 = Date.now();
    while (head.seq < RECORDS) {
      const n = Math.min(CHUNK, RECORDS - head.seq);
      const pending: Omit<RecordRow, 'seq' | 'prev_hash' | 'record_hash'>[] = [];
      while (pending.length < n) {
        for (const e of jobEvents(new Date(start + head.seq * 10).toISOString())) {
          if (pending.length === n) break;
          const entry = entryFromEvent(e.type, e, e, RECORDING);
          pending.push({
            ...entry,
            recorded_at: new Date(start + (head.seq + pending.length) * 10).toISOString(),
            // Format 1 records, as the verify figures have always been measured on.
            ...FORMAT_1_COLUMNS,
          });
        }
      }
      const linked = linkRecords(head, pending);
      await insertRecordRows(ds, linked);
      const last = linked[linked.length - 1];
      if (!last) throw new Error('no record linked');
      head = { seq: last.seq, record_hash: last.record_hash };
      if (head.seq % 100000 === 0)
        log(`generated ${fmt(head.seq)} records (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    await ds.query('UPDATE audit.chain_head SET seq = $1, record_hash = $2 WHERE id = 1', [head.seq, head.record_hash]);
    await ds.query('VACUUM ANALYZE audit.audit_records');
    return (Date.now() - t0) / 1000;
  } finally {
    await ds.destroy();
  }
}

async function verifyMillion() {
  const name = 'cs_bench_audit_verify';
  const url = dbUrl(name);
  let existing = 0;
  if (!REGENERATE && (await dbExists(name))) {
    existing = await withPg(url, async (c) => {
      try {
        return Number((await c.query<{ seq: string }>('SELECT seq FROM audit.chain_head')).rows[0]?.seq);
      } catch {
        return 0;
      }
    });
  }
  let generatedIn: number | null = null;
  if (existing < RECORDS) {
    log(`generating a chain of ${fmt(RECORDS)} records in ${name}`);
    await recreateDb(name);
    generatedIn = await generateChain(url);
  } else log(`reusing the ${fmt(existing)}-record chain in ${name} (--regenerate to rebuild)`);
  const stats = await withPg(url, async (c) => {
    const r = await c.query<{ n: string; body: number; size: string }>(
      `SELECT count(*)::bigint AS n, avg(octet_length(body))::int AS body, pg_total_relation_size('audit.audit_records') AS size FROM audit.audit_records`,
    );
    const row = r.rows[0];
    return { records: Number(row?.n), avgBody: row?.body ?? NaN, tableBytes: Number(row?.size) };
  });
  const svc = await startService(url);
  const runs: { ms: number; body: VerifyBody; load: number; cpu: number }[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const load = loadavg()[0] ?? NaN ?? NaN;
      const cpu0 = usage(svc.pid).cpu;
      const r = { ...(await verifyOverHttp(svc.url)), load, cpu: NaN };
      r.cpu = usage(svc.pid).cpu - cpu0;
      log(
        `verify run ${i + 1}: ${(r.ms / 1000).toFixed(2)} s, ${r.cpu.toFixed(1)} CPU-s, load ${load.toFixed(1)}: ${JSON.stringify(r.body)}`,
      );
      runs.push(r);
    }
  } finally {
    await svc.stop();
  }
  return { ...stats, generatedIn, runs };
}

// ---------------------------------------------------------------- commit latency

/** What one durable commit costs on this disk: the floor under any append that waits for its record. */
async function commitLatencyMs(url: string): Promise<number> {
  return withPg(url, async (c) => {
    await c.query('CREATE TABLE IF NOT EXISTS public.bench_commit (x int)');
    try {
      const n = 100;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await c.query('INSERT INTO public.bench_commit VALUES (1)');
      return Number(process.hrtime.bigint() - t0) / 1e6 / n;
    } finally {
      await c.query('DROP TABLE public.bench_commit');
    }
  });
}

// ---------------------------------------------------------------- report

async function main() {
  const started = Date.now();
  if (GENERATE_ONLY) {
    await recreateDb('cs_bench_audit_verify');
    log(`generated ${fmt(RECORDS)} records in ${(await generateChain(dbUrl('cs_bench_audit_verify'))).toFixed(0)} s`);
    return;
  }
  // The shared probe's figures, with the day only (the audit report has always dated by day).
  const m = { ...machine(), date: new Date().toISOString().slice(0, 10) };
  const loadBefore = loadavg()[0] ?? NaN;
  log(`appending ${fmt(EVENTS)} events from Kafka`);
  const a = await appendFromKafka();
  const appendRate = (a.events * 1000) / a.appendedMs;
  log(
    `append: ${fmt(appendRate)} records/s (${a.events} in ${(a.appendedMs / 1000).toFixed(1)} s); chain ${JSON.stringify(a.verify)}`,
  );
  await a.svc.stop();
  if (args.includes('--append-only')) return;
  const commitMs = await commitLatencyMs(a.url);
  log(`one durable commit: ${commitMs.toFixed(1)} ms`);
  const store = await appendDirect(a.url);
  const v = await verifyMillion();
  const times = v.runs.map((r) => r.ms).sort((x, y) => x - y);
  const median = times[Math.floor(times.length / 2)] ?? NaN;
  const cpus_ = v.runs.map((r) => r.cpu).sort((x, y) => x - y);
  const cpuUs = ((cpus_[Math.floor(cpus_.length / 2)] ?? NaN) * 1e6) / v.records;
  const allOk = v.runs.every((r) => r.body.ok === true && (r.body.checked ?? 0) >= RECORDS);
  const report = `# Audit trail benchmark

Produced by \`node bench/audit/run.ts\` (${fmt(EVENTS)} events, ${fmt(RECORDS)}-record chain, ${RUNS} verify runs).
Targets: at least 10,000 records/s appended from Kafka; verify 1,000,000 records in at most 10 s.

Machine: ${m.cpu}, nproc ${m.nproc}; Node ${m.node}; PostgreSQL ${m.postgres} (synchronous_commit on); Kafka on the same machine; ${m.date}; bench took ${((Date.now() - started) / 1000).toFixed(0)} s.
The VM is shared with other work: 1-minute load average ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] ?? NaN).toFixed(1)} at the end (2 CPUs).
One durable commit (single-row INSERT, fsync) takes ${commitMs.toFixed(1)} ms on this disk.

## Append: Kafka to the chained table (end to end, the built service)

| measurement | figure | target |
| --- | ---: | ---: |
| events published (5 types, avg ${fmt(a.avgEventBytes)} bytes of JSON) | ${fmt(a.events)} in ${(a.publishMs / 1000).toFixed(1)} s | |
| **appended** (every event a chained record, outbox row written) | **${fmt(appendRate)} records/s** (${(a.appendedMs / 1000).toFixed(1)} s) | ≥ 10,000/s ${appendRate >= 10000 ? 'met' : '**not met**'} |
| streamed to \`audit.recorded\` (outbox relay drained) | ${a.streamedMs ? `${fmt((a.events * 1000) / a.streamedMs)} records/s (${(a.streamedMs / 1000).toFixed(1)} s)` : 'did not drain in 10 min'} | |
| chain after the run | \`${JSON.stringify(a.verify)}\` | |

## The chain store alone (no Kafka, same tables and transaction as the service)

| writers and batching | records/s |
| --- | ---: |
${store.map((s) => `| ${s.label} | ${fmt(s.rate)} |`).join('\n')}

## Verify: \`GET /api/v1/audit/verify\` over ${fmt(v.records)} records

| measurement | figure | target |
| --- | ---: | ---: |
| records in the chain (avg body ${fmt(v.avgBody)} bytes; table with indexes ${(v.tableBytes / 1024 / 1024).toFixed(0)} MiB) | ${fmt(v.records)} | |
| **verify, median of ${RUNS}** | **${(median / 1000).toFixed(2)} s** (${fmt((v.records * 1000) / median)} records/s) | ≤ 10 s ${median <= 10000 && allOk ? 'met' : '**not met**'} |
| runs (1-minute load average when each started) | ${v.runs.map((r) => `${(r.ms / 1000).toFixed(2)} s (${r.load.toFixed(1)})`).join(', ')} | |
| CPU the service spent per verify (both worker threads, from /proc) | ${v.runs.map((r) => `${r.cpu.toFixed(1)} s`).join(', ')}: Node's share; the Postgres backends serving the ranges come on top | |
| result | \`${JSON.stringify(v.runs[0]?.body)}\` | |
${v.generatedIn ? `| chain generated (not part of the figure) | ${v.generatedIn.toFixed(0)} s | |\n` : ''}
## Reading the numbers

- **End to end, the consumer now hands the chain whole batches.** The service consumes with
  \`BatchServerKafka\` (\`libs/bus\`, kafkajs \`eachBatch\`): up to \`AUDIT_APPEND_BATCH_MAX\`
  messages of a partition are handled at once and folded into one group commit, up to 18
  partitions at once (\`KAFKA_PARTITIONS_CONCURRENCY\`), and offsets move only over the handled
  prefix, so a crash never loses a record. The outbox rows of a batch are one multi-row INSERT
  (\`enqueueEvents\`) and the relay sends runs of one topic per produce request. Before the batch
  consumer (\`eachMessage\`, three messages in flight, one durable commit each) this bench measured
  79 records/s; the store alone with batches of 500 is the ceiling the consumer can approach.
- **What limits it now** has not been profiled since the batch consumer landed: the remaining
  cost is per record (parsing and validating each event, its canonical JSON and SHA-256, the
  record and outbox rows) on a machine the broker and PostgreSQL share; 10,000/s would need
  several times less work per record or more CPUs.
- **Verify** reads one repeatable-read snapshot in keyset batches (\`WHERE seq > $1 AND seq <= $2
  ORDER BY seq LIMIT 5000\`, rows as arrays of raw text), split into seq ranges checked by worker
  threads (one per CPU) and stitched, so the first break found is the one a single pass would find.
  Bodies are stored as their canonical JSON text, so each record's canonical form is a
  concatenation hashed once: no JSON parsing or re-canonicalising on the hot path. Per record
  that is ${cpuUs.toFixed(1)} µs of the service's CPU (median of the runs; node-postgres decoding
  ~1.3 KB of text, SHA-256, garbage collection), so 1,000,000 records need about
  ${cpuUs.toFixed(0)} CPU-seconds spread over both CPUs, plus Postgres' share: the 10 s target
  is within reach only when the VM is not busy with other work, and the wall time moves with the load
  other work puts on this shared VM.
- The machine is a shared 2-vCPU VM running the broker, Postgres, the service and other
  engineers' test runs together; figures vary between runs by 2x or more.
`;
  if (!args.includes('--no-report')) {
    mkdirSync(join(ROOT, 'bench/reports'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/reports/audit.md'), report);
    log('report written to bench/reports/audit.md');
  } else process.stdout.write(report);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench/audit failed: ${(e as Error).stack || (e as Error).message}\n`);
    process.exit(1);
  },
);
