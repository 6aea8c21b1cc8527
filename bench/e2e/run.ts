#!/usr/bin/env node
// End-to-end benchmark: the whole gate on this one machine, driven through the agent SDK.
//
//   1. A private Kafka broker (deploy/local/kafka.sh on its own ports and state dir, fresh each run)
//      and fresh databases, so nothing else on the machine is in the figures or sees the traffic.
//   2. The four built services (one replica each; then two replicas of each, sharing the consumer
//      groups and the 6 partitions), an http executor target in this process that counts every call.
//   3. A load generator: SDK agents propose at fixed rates, stepping up (25/s ... 1,000/s ... 5,000/s)
//      until two steps in a row are not sustained; the stack drains between steps, with the seed policy's tier mix: mostly reads (ALLOW), some
//      egress (ALLOW_WITH_CONSTRAINTS), some production writes (REQUIRE_APPROVAL) approved by an
//      automated reviewer over the approval-queue REST API.
//   4. Latency from `propose()` to the SDK's `outcome()` (job.executed), CPU and memory of every
//      process, the gated path's own overhead, duplicate executions (target calls and job.executed
//      events per job), and a latency chart (PNG) rendered here with vega-lite + resvg.
//   5. What each service asks of the rest per proposal, counted inside it by bench/lib/probe.ts:
//      PostgreSQL round trips (pg queries) and Kafka requests by type; the stack's CPU with no
//      traffic; a CPU profile of every service during one step, summarised as its top functions.
//
// Build first (npx tsc -b tsconfig.build.json), then:
//   node bench/e2e/run.ts [--replicas 1,2] [--step-seconds 10] [--rates 25,50,100,200,400,1000,2000,5000] [--agents 4]
//                          [--profile-rate <rate>] [--idle-seconds 10] [--settle-seconds 90] [--baseline <dir>]
//                          [--no-probe] [--no-report]
// Writes bench/reports/e2e.md, bench/reports/e2e-latency.png and bench/reports/profiles/*.cpuprofile
// (git-ignored). --no-report prints the report instead of writing it (the profiles are still kept).
//
//   --profile-rate <rate>  the step during which every service is CPU-profiled (SIGUSR2 to the probe at
//                          its start and after its drain); default the highest rate ≤ 200 in --rates
//                          (else the lowest); `none` turns profiling off. The profiler costs CPU: that
//                          step's latency and CPU figures are a little worse than unprofiled.
//   --idle-seconds <s>     the idle measurement after the warm-up (no traffic, reviewer paused); 0 skips it.
//   --settle-seconds <s>   after the warm-up traffic (200 proposals at 50/s, then 800 at 200/s), the broker (a
//                          fresh JVM, still JIT-compiling) is left until it used < 8 % of one vCPU in two 2 s
//                          samples (/proc) in a row, at most this long (default 90; then the run goes on and
//                          logs that it did not settle); 0 skips it. The report gives the settle time and the
//                          broker's last figure.
//   --no-probe             services without the probe: no counts, no profile (to check what the probe costs).
//   --baseline <dir>       a second checkout (e.g. `git worktree add /tmp/base <older commit>`, built)
//                          whose services run the same steps in the same run: for each replica count,
//                          first the baseline stack, then the current one, each on a fresh broker and
//                          fresh databases; the report adds side-by-side tables (current ÷ baseline).
//                          The broker, the probe, the load generator and the topics come from this
//                          checkout; the baseline's services use its own code, node_modules and policies/.
//
// Environment: BENCH_KAFKA_PORT (default 39092; the controller takes the next port), BENCH_DB_PREFIX
// (default cs_bench_), BENCH_PORT_BASE (services listen on base, base+1, ...; default a free port each),
// and those of bench/lib/stack.ts (BENCH_LOG_DIR, BENCH_LOG_LEVEL, BENCH_SERVICE_ENV, BENCH_NODE_ARGS).
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { type Server, createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Countersign, type Grant, type ProposeInput } from '@countersign/agent-sdk';
import { Resvg } from '@resvg/resvg-js';
import { SignJWT } from 'jose';
import kafkajs, { type Admin } from 'kafkajs';
import * as vega from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';
import {
  BROKERS,
  ROOT,
  configureBroker,
  fmt,
  machine,
  makeKeys,
  postgresPids,
  quantile,
  recreateDb,
  sampleAll,
  sleep,
  startBroker,
  startService,
  stopBroker,
  cpuBetween,
  waitCpuQuiet,
  type Service,
} from '../lib/stack.ts';
import { type ProfileSummary, summarize as summarizeProfile } from '../lib/cpuprofile.ts';
import type { ProbeCounts } from '../lib/probe.ts';

const { Kafka, logLevel } = kafkajs;
const SERVICES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'];

type Tier = 'ALLOW' | 'ALLOW_WITH_CONSTRAINTS' | 'REQUIRE_APPROVAL';
/** One proposal of the run, as the load generator, the agent and the reviewer saw it (performance.now() ms). */
interface Job {
  tier: Tier;
  step: string;
  proposedAt: number;
  t0: number;
  id?: string;
  ackedAt?: number;
  doneAt?: number;
  outcome?: string;
  seenAt?: number;
  approveSentAt?: number;
  approvedAt?: number;
  approveStatus?: number;
}
/** A stack of one run: this checkout's services, or a baseline checkout's. */
interface Variant {
  key: 'baseline' | 'current';
  root: string;
  commit?: string;
}
/** A probe's file as read back: its counters, or `missing` when it has not written one. */
type ProbeReading = (ProbeCounts & { name: string; missing?: false }) | { name: string; missing: true };
/** What one service (or replica) asked of PostgreSQL and Kafka between two readings. */
interface ProbeDelta {
  pg: number;
  pgByKind: Record<string, number>;
  kafka: number;
  kafkaByApi: Record<string, number>;
  missing: boolean;
  pgLoaded: boolean;
}
type PerSecond = Pick<ProbeDelta, 'pg' | 'pgByKind' | 'kafka' | 'kafkaByApi'>;
interface Reviewer {
  stop(): void;
  pause(): void;
  resume(): void;
  done: Promise<void>;
}

// ------------------------------------------------------------------ options
const args = process.argv.slice(2);
function opt(name: string): string | undefined;
function opt(name: string, dflt: string): string;
function opt(name: string, dflt?: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}
const REPLICAS = opt('replicas', '1,2').split(',').map(Number);
const STEP_SECONDS = Number(opt('step-seconds', '10'));
const RATES = opt('rates', '25,50,100,200,400,1000,2000,5000').split(',').map(Number);
const AGENTS = Number(opt('agents', '4'));
const IDLE_SECONDS = Number(opt('idle-seconds', '10'));
// --settle-seconds: how long the broker may take to go quiet after the warm-up (its JIT compiling).
const SETTLE_SECONDS = Number(opt('settle-seconds', '90'));
// The broker is settled when it used less than this (% of one vCPU) in SETTLE_QUIET_SAMPLES samples in a row.
const SETTLE_BELOW_PCT = 8;
const SETTLE_SAMPLE_MS = 2000;
const SETTLE_QUIET_SAMPLES = 2;
// --no-probe: the services without bench/lib/probe.ts (no counts, no profile), to see what the probe costs.
const PROBE_ON = !args.includes('--no-probe');
const PROFILE_RATE = ((): number | undefined => {
  const o = opt('profile-rate');
  if (o === 'none' || o === '0') return undefined;
  if (o !== undefined) return Number(o);
  const low = RATES.filter((r) => r <= 200);
  return low.length ? Math.max(...low) : Math.min(...RATES);
})();
const BASELINE_OPT = opt('baseline');
const BASELINE = BASELINE_OPT === undefined ? undefined : resolve(BASELINE_OPT);
// The stacks of one run, in the order they run for each replica count: the baseline's first.
const VARIANTS: Variant[] = [
  ...(BASELINE ? [{ key: 'baseline' as const, root: BASELINE }] : []),
  { key: 'current', root: ROOT },
];
for (const v of VARIANTS)
  for (const s of SERVICES)
    if (!existsSync(join(v.root, 'services', s, 'dist/src/main.js'))) {
      process.stderr.write(
        `bench/e2e: ${join(v.root, 'services', s, 'dist')} is missing; run \`npx tsc -b tsconfig.build.json\` in ${v.root} first\n`,
      );
      process.exit(2);
    }
for (const v of VARIANTS) v.commit = gitDescribe(v.root);
const PROFILE_DIR = join(ROOT, 'bench/reports/profiles');
const PG_LABEL = 'PostgreSQL (bench databases)';
configureBroker({
  port: Number(process.env.BENCH_KAFKA_PORT || 39092),
  stateDir: join(ROOT, 'deploy/local/.kafka/bench-e2e'),
});
// A step is sustained when the proposals went out at (nearly) the offered rate and every one had
// its outcome within this long after the step's last proposal.
const DRAIN_GRACE_MS = 5000;
// How often the automated reviewer looks at its queue (each look is a REST call the stack pays for).
const REVIEW_POLL_MS = 200;
const MIX: { tier: Tier; share: number }[] = [
  { tier: 'ALLOW', share: 0.85 },
  { tier: 'ALLOW_WITH_CONSTRAINTS', share: 0.1 },
  { tier: 'REQUIRE_APPROVAL', share: 0.05 },
];

const log = (s: string): boolean => process.stdout.write(`[bench/e2e] ${s}\n`);

function gitDescribe(dir: string): string {
  try {
    const sha = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return `${sha}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

// ------------------------------------------------------------------ processes
// ------------------------------------------------------------------ the executor target
function startTarget(): Promise<{ server: Server; calls: Map<string, number>; port: number }> {
  const calls = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const jobId = String(req.headers['idempotency-key'] ?? '');
      calls.set(jobId, (calls.get(jobId) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"done":true}');
    });
  });
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      r({ server, calls, port: typeof address === 'object' && address ? address.port : 0 });
    }),
  );
}

// ------------------------------------------------------------------ one stack, one run of the steps
async function runStack(replicas: number, variant: Variant) {
  const label = runLabel({ replicas, variant: variant.key });
  log(`--- ${label}${BASELINE ? ` (${variant.root})` : ''}: fresh broker on ${BROKERS}, fresh databases`);
  const brokerPid = await startBroker();
  const keys = makeKeys();
  const target = await startTarget();
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-e2e-conf-'));
  // The probes rewrite their files twice a second: on tmpfs that costs each service ~20 µs, not ~0.2 ms.
  const probeDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cs-bench-e2e-probe-'));
  const executors = join(dir, 'executors.yaml');
  writeFileSync(
    executors,
    [
      'executors:',
      // Egress-constrained jobs run in the agent: a signed grant (job.released) that the SDK's run() verifies.
      '  - name: agent',
      '    kind: release',
      '    match: ["job.web.**"]',
      '    grant_ttl_sec: 300',
      '  - name: bench-target',
      '    kind: http',
      '    match: ["**"]',
      `    url: http://127.0.0.1:${target.port}/execute`,
      '    secret_env: EXECUTOR_HTTP_SECRET',
      '    idempotent: true',
      '    timeout_sec: 10',
    ].join('\n'),
  );
  const dbs: Record<string, string> = {
    'approval-queue': await recreateDb('e2e_queue'),
    'execution-binding': await recreateDb('e2e_binding'),
    audit: await recreateDb('e2e_audit'),
  };
  const common = {
    ...keys.env,
    APPROVER_JWT_SECRET: keys.jwtSecret,
    // The policies the services' own checkout ships: an older policy engine may not read newer files.
    POLICY_DIR: existsSync(join(variant.root, 'policies')) ? join(variant.root, 'policies') : join(ROOT, 'policies'),
    EXECUTORS_FILE: executors,
    EXECUTOR_HTTP_SECRET: `bench-e2e-executor-${randomUUID()}`,
  };
  const services: Service[] = [];
  for (const name of SERVICES)
    for (let r = 0; r < replicas; r++)
      services.push(
        await startService(
          name,
          r,
          { ...common, ...(dbs[name] ? { DATABASE_URL: dbs[name] } : {}), KAFKA_GROUP_ID: name },
          { root: variant.root, probeDir: PROBE_ON ? probeDir : undefined },
        ),
      );
  log(`stack ready: ${services.map((s) => `${s.name}#${s.replica}`).join(', ')}`);
  const procs = (): Record<string, number[]> => {
    const by: Record<string, number[]> = {};
    for (const s of services) (by[s.name] ??= []).push(s.pid);
    return { ...by, 'Kafka broker': [brokerPid], [PG_LABEL]: postgresPids({ benchOnly: true }) };
  };

  const agents = Array.from(
    { length: AGENTS },
    (_, i) =>
      new Countersign({
        brokers: [BROKERS],
        agentId: `bench-agent-${i}`,
        tenant: 'bench',
        trustedExecutorKeys: keys.executorPub,
        defaultTimeoutMs: 120000,
        executionUrl: services.find((s) => s.name === 'execution-binding')?.url,
        kafka: { logLevel: logLevel.NOTHING },
      }),
  );
  const queueUrl = services.find((s) => s.name === 'approval-queue')?.url ?? '';
  const reviewerToken = await new SignJWT({ roles: ['service-owner'], tenants: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-reviewer')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(keys.jwtSecret));

  // Warm-up: every agent's consumer is assigned, the services' groups have their partitions and
  // the JIT is warm, before any figure is taken.
  // Every proposal, keyed by its sequence number (job.id is set once propose() resolves). The
  // sequence restarts with each stack, so the baseline and the current stack get the same proposals.
  seq = 0;
  const jobs = new Map<number, Job>();
  const reviewer = startReviewer(queueUrl, reviewerToken);
  log('warm-up: 200 proposals at 50/s');
  await runStep({ agents, jobs, rate: 50, seconds: 4, step: 'warm-up', t0: performance.now() });
  await waitAllDone(jobs, 60000);
  // Enough traffic for the broker's JIT to compile its hot paths now rather than during the steps;
  // it need not be sustained (it drains before the settle phase).
  log('warm-up: 800 proposals at 200/s');
  await runStep({ agents, jobs, rate: 200, seconds: 4, step: 'warm-up', t0: performance.now() });
  await waitAllDone(jobs, 120000);
  const settle = SETTLE_SECONDS > 0 ? await settleBroker(brokerPid) : undefined;

  const lagAdmin = new Kafka({ clientId: 'bench-e2e-lag', brokers: [BROKERS], logLevel: logLevel.NOTHING }).admin();
  await lagAdmin.connect();
  const idle = IDLE_SECONDS > 0 ? await measureIdle({ services, brokerPid, probeDir, reviewer, lagAdmin }) : undefined;
  if (idle)
    log(
      `idle ${IDLE_SECONDS} s: stack ${fmt(idle.stackPct, 1)} % of one vCPU (${Object.entries(idle.cpuPct)
        .map(([k, v]) => `${k} ${fmt(v, 1)} %`)
        .join(', ')})`,
    );

  const steps: StepSummary[] = [];
  let failures = 0;
  let profile: Awaited<ReturnType<typeof collectProfiles>> | undefined;
  const t0 = performance.now();
  for (const rate of RATES) {
    const probesBefore = readProbes(probeDir, services);
    const probesFrom = performance.now();
    const profiling = PROBE_ON && rate === PROFILE_RATE;
    if (profiling) for (const s of services) s.signal('SIGUSR2');
    const before = sampleAll(procs);
    const startedAt = performance.now();
    const r = await runStep({ agents, jobs, rate, seconds: STEP_SECONDS, step: `${rate}/s`, t0 });
    const drained = await waitAllDone(jobs, DRAIN_GRACE_MS, r.step);
    const after = sampleAll(procs);
    if (profiling) for (const s of services) s.signal('SIGUSR2');
    const wall = (performance.now() - startedAt) / 1000;
    const resources = Object.fromEntries(
      Object.keys(after).map((k) => [
        k,
        { cpuPct: (cpuBetween(before[k], after[k]) / wall) * 100, rss: after[k]?.rss ?? NaN },
      ]),
    );
    const s: StepSummary = summarize(jobs, r, drained, resources);
    s.cpuMsPerProposal = (Object.keys(after).reduce((n, k) => n + cpuBetween(before[k], after[k]), 0) / r.sent) * 1000;
    steps.push(s);
    log(
      `${s.step}: sent ${fmt(s.sentRate)}/s, ${s.completed}/${s.sent} outcomes (${s.errors} errors) ` +
        `ALLOW p50/p95/p99 ${fmt(s.allow.p50, 1)}/${fmt(s.allow.p95, 1)}/${fmt(s.allow.p99, 1)} ms; ${s.sustained ? 'sustained' : 'NOT sustained'}`,
    );
    if (profiling) profile = await collectProfiles({ services, probeDir, rate, replicas, variant: variant.key });
    // Each step starts from an idle stack: what one step left behind would distort the next.
    if (!drained) {
      log(`${s.step}: draining its backlog before the next step (up to 120 s)`);
      await waitAllDone(jobs, 120000);
    }
    // The counters cover the step until all of its proposals had their outcomes and every service
    // had consumed what the step produced (the audit trails the outcomes), plus one probe write.
    const lagLeft = await waitConsumersCaughtUp(lagAdmin, CATCH_UP_MS);
    s.lagLeft = lagLeft;
    if (lagLeft > 0)
      log(
        `${s.step}: the services' consumer groups still ${fmt(lagLeft)} messages behind after ${CATCH_UP_MS / 1000} s`,
      );
    await sleep(PROBE_WRITE_MS);
    const probes = probeDelta(probesBefore, readProbes(probeDir, services));
    s.probes = probes;
    s.probeSeconds = (performance.now() - probesFrom) / 1000;
    if (PROBE_ON)
      log(
        `${s.step}: per proposal ${Object.entries(probes)
          .map(([k, v]) => `${k} PG ${fmt(v.pg / s.sent, 1)} Kafka ${fmt(v.kafka / s.sent, 1)}`)
          .join(', ')}`,
      );
    failures = s.sustained ? 0 : failures + 1;
    if (failures >= 2) break;
  }
  log('draining what is still in flight (up to 180 s)');
  await waitAllDone(jobs, 180000);
  reviewer.stop();
  await reviewer.done;
  await lagAdmin.disconnect();

  // Duplicates: every job.executed event on the broker, and every call the target took.
  const executedEvents = await countExecutedEvents();
  const dupEvents = [...executedEvents.values()].filter((n) => n > 1).length;
  const dupCalls = [...target.calls.values()].filter((n) => n > 1).length;
  const proposed = [...jobs.values()].length;
  const executed = [...jobs.values()].filter((j) => j.outcome === 'SUCCEEDED').length;
  // The warm-up's are left out: its 200/s part is not sustained on a small machine.
  const gated = [...jobs.values()].filter(
    (j): j is Gated =>
      j.step !== 'warm-up' && j.tier === 'REQUIRE_APPROVAL' && j.doneAt !== undefined && j.approveSentAt !== undefined,
  );
  for (const a of agents) await a.close().catch(() => undefined);
  for (const s of services) await s.stop();
  target.server.closeAllConnections();
  target.server.close();
  stopBroker();
  rmSync(keys.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  rmSync(probeDir, { recursive: true, force: true });
  return {
    replicas,
    variant: variant.key,
    steps,
    idle,
    settle,
    profile,
    series: timeSeries(jobs, replicas, variant.key),
    proposed,
    executed,
    executedEventJobs: executedEvents.size,
    dupEvents,
    dupCalls,
    targetJobs: target.calls.size,
    gated: gatedSummary(gated),
    errors: errorSummary(jobs),
  };
}

/**
 * A fresh broker is a fresh JVM: for its first minute or so its JIT compiler takes 40-80 % of one vCPU,
 * which would land in the first steps' latency and the idle figures. Waits until it is quiet (or
 * SETTLE_SECONDS pass); returns { settled, seconds, lastPct }.
 */
async function settleBroker(brokerPid: number): Promise<{ settled: boolean; seconds: number; lastPct: number }> {
  log(
    `broker settling: waiting until it uses < ${SETTLE_BELOW_PCT} % of one vCPU in ${SETTLE_QUIET_SAMPLES} samples of ${SETTLE_SAMPLE_MS / 1000} s in a row (at most ${SETTLE_SECONDS} s)`,
  );
  const r = await waitCpuQuiet(brokerPid, {
    belowPct: SETTLE_BELOW_PCT,
    intervalMs: SETTLE_SAMPLE_MS,
    consecutive: SETTLE_QUIET_SAMPLES,
    maxSeconds: SETTLE_SECONDS,
    onSample: (pct, t) => log(`broker settling: ${fmt(pct, 1)} % of one vCPU (${fmt(t)} s)`),
  });
  if (r.settled) log(`broker settled after ${fmt(r.seconds)} s (last ${fmt(r.lastPct, 1)} % of one vCPU)`);
  else log(`broker did NOT settle in ${fmt(r.seconds)} s: last ${fmt(r.lastPct, 1)} % of one vCPU; going on`);
  return r;
}

// ------------------------------------------------------------------ what the probe counted
// The probes write every 500 ms.
const PROBE_WRITE_MS = 600;
const CATCH_UP_MS = 60000;
const IDLE_SETTLE_MS = 1000;

/**
 * Waits until the services' consumer groups have committed up to the end of every topic they read
 * (or `ms` pass); returns the messages still behind.
 */
async function waitConsumersCaughtUp(admin: Admin, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  const groups = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((g) => SERVICES.some((s) => g.startsWith(s)));
  const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
  for (;;) {
    const ends = new Map<string, number>();
    for (const t of topics)
      for (const p of await admin.fetchTopicOffsets(t)) ends.set(`${t}/${p.partition}`, Number(p.high));
    let lag = 0;
    for (const groupId of groups)
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics }))
        for (const p of partitions)
          if (Number(p.offset) >= 0)
            lag += Math.max(0, (ends.get(`${topic}/${p.partition}`) ?? NaN) - Number(p.offset));
    if (lag === 0 || Date.now() > deadline) return lag;
    await sleep(250);
  }
}

/** Each service's counters as its probe last wrote them, by `<name>.<replica>`. */
function readProbes(dir: string, services: readonly Service[]): Record<string, ProbeReading> {
  const out: Record<string, ProbeReading> = {};
  for (const s of services) {
    try {
      out[s.probeName] = {
        ...(JSON.parse(readFileSync(join(dir, `${s.probeName}-${s.pid}.json`), 'utf8')) as ProbeCounts),
        name: s.name,
      };
    } catch {
      out[s.probeName] = { name: s.name, missing: true };
    }
  }
  return out;
}

/**
 * What each service did between two readings: { pg, pgByKind, kafka, kafkaByApi }, keyed by service
 * name (its replicas summed) or, with `key`, by what it returns for a probe's `<name>.<replica>`.
 */
function probeDelta(
  before: Record<string, ProbeReading>,
  after: Record<string, ProbeReading>,
  key: (probeName: string, a: ProbeReading) => string = (_probeName, a) => a.name,
): Record<string, ProbeDelta> {
  const by: Record<string, ProbeDelta> = {};
  const add = (into: Record<string, number>, from?: Record<string, number>, base?: Record<string, number>): void => {
    for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + v - (base?.[k] ?? 0);
  };
  for (const [probeName, a] of Object.entries(after)) {
    const b = before[probeName];
    const d = (by[key(probeName, a)] ??= {
      pg: 0,
      pgByKind: {},
      kafka: 0,
      kafkaByApi: {},
      missing: false,
      pgLoaded: false,
    });
    if (a.missing || !b || b.missing) {
      d.missing = true;
      continue;
    }
    d.pgLoaded ||= a.pg.patched !== false;
    d.pg += a.pg.roundTrips - b.pg.roundTrips;
    d.kafka += a.kafka.requests - b.kafka.requests;
    add(d.pgByKind, a.pg.byKind, b.pg.byKind);
    add(d.kafkaByApi, a.kafka.byApi, b.kafka.byApi);
  }
  return by;
}

/**
 * The stack with no traffic: the reviewer stops polling, the services catch up with the warm-up, then
 * IDLE_SECONDS of CPU per process (from /proc) and of the probes' counts.
 */
async function measureIdle({
  services,
  brokerPid,
  probeDir,
  reviewer,
  lagAdmin,
}: {
  services: readonly Service[];
  brokerPid: number;
  probeDir: string;
  reviewer: Reviewer;
  lagAdmin: Admin;
}) {
  reviewer.pause();
  await waitConsumersCaughtUp(lagAdmin, CATCH_UP_MS);
  await sleep(IDLE_SETTLE_MS);
  const label = (probeName: string): string => probeName.replace(/\.(\d+)$/, '#$1');
  const procs = () => ({
    ...Object.fromEntries(services.map((s) => [label(s.probeName), [s.pid]])),
    'Kafka broker': [brokerPid],
    [PG_LABEL]: postgresPids({ benchOnly: true }),
  });
  const probesBefore = readProbes(probeDir, services);
  const before = sampleAll(procs);
  const startedAt = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const wall = (performance.now() - startedAt) / 1000;
  const after = sampleAll(procs);
  const probes = probeDelta(probesBefore, readProbes(probeDir, services), label);
  reviewer.resume();
  const self = 'load generator (this process)';
  const cpuPct = Object.fromEntries(
    Object.keys(after)
      .filter((k) => k !== self)
      .map((k) => [k, (cpuBetween(before[k], after[k]) / wall) * 100]),
  );
  return {
    seconds: wall,
    cpuPct,
    stackPct: Object.values(cpuPct).reduce((n, v) => n + v, 0),
    loadGeneratorPct: (cpuBetween(before[self], after[self]) / wall) * 100,
    perSecond: Object.fromEntries<PerSecond>(
      Object.entries(probes)
        .filter(([, v]) => !v.missing)
        .map(([k, v]) => [
          k,
          {
            pg: v.pg / wall,
            pgByKind: Object.fromEntries(Object.entries(v.pgByKind).map(([a, n]) => [a, n / wall])),
            kafka: v.kafka / wall,
            kafkaByApi: Object.fromEntries(Object.entries(v.kafkaByApi).map(([a, n]) => [a, n / wall])),
          },
        ]),
    ),
  };
}

/** Waits for every service's .cpuprofile, keeps it in bench/reports/profiles/ and summarises it. */
type ProfiledService = { name: string; replica: number } & (
  { missing: true } | (ProfileSummary & { missing?: false; file: string; mib: number })
);

async function collectProfiles({
  services,
  probeDir,
  rate,
  replicas,
  variant,
}: {
  services: readonly Service[];
  probeDir: string;
  rate: number;
  replicas: number;
  variant: string;
}): Promise<{ rate: number; services: ProfiledService[] }> {
  mkdirSync(PROFILE_DIR, { recursive: true });
  const out: { rate: number; services: ProfiledService[] } = { rate, services: [] };
  for (const s of services) {
    const src = join(probeDir, `${s.probeName}-${s.pid}.cpuprofile`);
    const deadline = Date.now() + 30000;
    while (!existsSync(src) && Date.now() < deadline) await sleep(200);
    if (!existsSync(src)) {
      log(`no CPU profile from ${s.name}#${s.replica} within 30 s`);
      out.services.push({ name: s.name, replica: s.replica, missing: true });
      continue;
    }
    const file = join(PROFILE_DIR, `${variant}-${replicas}r-${rate}ps-${s.probeName}.cpuprofile`);
    copyFileSync(src, file);
    rmSync(src);
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), {
      top: 12,
      roots: [...new Set([ROOT, ...VARIANTS.map((v) => v.root)])],
    });
    out.services.push({
      name: s.name,
      replica: s.replica,
      file: relative(ROOT, file),
      mib: statSync(file).size / 2 ** 20,
      ...summary,
    });
  }
  log(
    `CPU profiles at ${rate}/s: ${out.services.map((p) => (p.missing ? `${p.name} missing` : `${p.file} (${fmt(p.mib, 1)} MiB)`)).join(', ')}`,
  );
  return out;
}

function pickTier(i: number): Tier {
  // A fixed, evenly spread pattern (not random), so every run offers the same mix.
  const x = (i * 0.6180339887) % 1;
  let acc = 0;
  for (const m of MIX) {
    acc += m.share;
    if (x < acc) return m.tier;
  }
  return MIX[0]?.tier ?? 'ALLOW';
}
function proposalFor(tier: Tier, i: number): Omit<ProposeInput, 'requestedBy'> {
  switch (tier) {
    case 'ALLOW':
      return { topic: 'job.repo.read', riskTags: [], payload: { repo: `svc-${i % 50}`, path: 'README.md' } };
    case 'ALLOW_WITH_CONSTRAINTS':
      return {
        topic: 'job.web.fetch',
        riskTags: ['egress'],
        payload: { url: 'https://api.github.com/repos/acme/api' },
      };
    case 'REQUIRE_APPROVAL':
      return {
        topic: 'job.config.update',
        riskTags: ['prod', 'write'],
        payload: { key: `feature.${i}`, value: true },
        summary: { title: `Turn on feature ${i} in production`, nextEffect: 'the feature serves all traffic' },
      };
  }
}

let seq = 0;
/** The proposals by job id, for the reviewer. */
const byId = new Map<string, Job>();
interface StepRun {
  step: string;
  rate: number;
  seconds: number;
  sent: number;
  sendSeconds: number;
  endedAt: number;
}
async function runStep({
  agents,
  jobs,
  rate,
  seconds,
  step,
  t0,
}: {
  agents: readonly Countersign[];
  jobs: Map<number, Job>;
  rate: number;
  seconds: number;
  step: string;
  t0: number;
}): Promise<StepRun> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  const proposals: Promise<void>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const i = seq++;
      const tier = pickTier(i);
      const agent = agents[i % agents.length] as Countersign;
      const job: Job = { tier, step, proposedAt: performance.now(), t0 };
      jobs.set(i, job);
      const input = { ...proposalFor(tier, i), requestedBy: `owner-${i % 7}@bench.example` };
      if (tier === 'ALLOW_WITH_CONSTRAINTS') {
        // Runs in the agent: propose, wait for the grant, verify it, run, report SUCCEEDED.
        const p = agent
          .run(input, (grant: Grant) => ({ fetched: grant.constraints.network_allowlist?.length ?? 0 }))
          .then(
            () => {
              job.doneAt = performance.now();
              job.outcome = 'SUCCEEDED';
            },
            (e) => {
              job.doneAt = performance.now();
              job.outcome = e.code ?? e.name ?? 'ERROR';
            },
          );
        proposals.push(p);
        sent++;
        continue;
      }
      const p = agent
        .propose(input)
        .then((jobId) => {
          job.id = jobId;
          job.ackedAt = performance.now();
          byId.set(jobId, job);
          return agent.outcome(jobId).then(
            (o) => {
              job.doneAt = performance.now();
              job.outcome = o.status;
            },
            (e) => {
              job.doneAt = performance.now();
              job.outcome = e.code ?? e.name ?? 'ERROR';
            },
          );
        })
        .catch((e) => {
          job.outcome = `PROPOSE_FAILED: ${e.message}`;
          job.doneAt = performance.now();
        });
      proposals.push(p);
      sent++;
    }
    await sleep(2);
  }
  const sendSeconds = (performance.now() - start) / 1000;
  return { step, rate, seconds, sent, sendSeconds, endedAt: performance.now() };
}

async function waitAllDone(jobs: Map<number, Job>, ms: number, step?: string): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    const open = [...jobs.values()].filter(
      (j) => (step === undefined || j.step === step) && j.doneAt === undefined,
    ).length;
    if (open === 0) return true;
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
}

/** The automated reviewer: polls the queue as a service owner and approves what it finds. */
function startReviewer(queueUrl: string, token: string): Reviewer {
  let running = true;
  let paused = false;
  const seen = new Set();
  const done = (async () => {
    while (running) {
      if (paused) {
        await sleep(REVIEW_POLL_MS);
        continue;
      }
      try {
        const res = await fetch(`${queueUrl}/api/v1/approvals?limit=50`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const page = (await res.json()) as { items?: { job: { id: string } }[] };
        const seenAt = performance.now();
        await Promise.all(
          (page.items ?? [])
            .filter((it) => !seen.has(it.job.id))
            .map(async (it) => {
              seen.add(it.job.id);
              const job = byId.get(it.job.id);
              if (job) job.seenAt = seenAt;
              const sentAt = performance.now();
              const r = await fetch(`${queueUrl}/api/v1/approvals/${it.job.id}/approve`, {
                method: 'POST',
                headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                body: JSON.stringify({ reason: 'automated bench reviewer' }),
              });
              if (job) {
                job.approveSentAt = sentAt;
                job.approvedAt = performance.now();
                job.approveStatus = r.status;
              }
              await r.arrayBuffer();
            }),
        );
      } catch {
        // the queue is busy or restarting; try again
      }
      await sleep(REVIEW_POLL_MS);
    }
  })();
  return { stop: () => (running = false), pause: () => (paused = true), resume: () => (paused = false), done };
}

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number | undefined;
}
type Resources = Record<string, { cpuPct: number; rss: number }>;
/** One step's figures; the probe counts and the CPU per proposal are added once the step has drained. */
interface StepSummary {
  step: string;
  rate: number;
  seconds: number;
  sent: number;
  sentRate: number;
  completed: number;
  errors: number;
  drained: boolean;
  sustained: boolean;
  allow: Stats;
  constrained: Stats;
  ack: Stats;
  gated: { n: number; total: number; held: number; system: number };
  resources: Resources;
  cpuMsPerProposal?: number;
  lagLeft?: number;
  probes?: Record<string, ProbeDelta>;
  probeSeconds?: number;
}

/** A finished job: its outcome came. */
type Done = Job & { doneAt: number };
/** A gated job the reviewer saw and approved. */
type Gated = Done & { seenAt: number; approveSentAt: number; approvedAt: number };

function summarize(jobs: Map<number, Job>, r: StepRun, drained: boolean, resources: Resources): StepSummary {
  const mine = [...jobs.values()].filter((j) => j.step === r.step);
  const completed = mine.filter((j): j is Done => j.doneAt !== undefined);
  const lat = (tier: Tier): number[] =>
    completed
      .filter((j) => j.tier === tier && j.outcome === 'SUCCEEDED')
      .map((j) => j.doneAt - j.proposedAt)
      .sort((a, b) => a - b);
  const stats = (xs: number[]): Stats => ({
    n: xs.length,
    p50: quantile(xs, 0.5),
    p95: quantile(xs, 0.95),
    p99: quantile(xs, 0.99),
    max: xs[xs.length - 1],
  });
  const ack = mine.flatMap((j) => (j.ackedAt ? [j.ackedAt] : []).map((at) => at - j.proposedAt)).sort((a, b) => a - b);
  const sentRate = r.sent / r.sendSeconds;
  const errors = completed.filter((j) => j.outcome !== 'SUCCEEDED').length;
  // The gated path's system share: propose() to outcome, less the time the reviewer held the job
  // (from seeing it listed to sending the approval).
  const gated = completed.filter(
    (j): j is Gated =>
      j.tier === 'REQUIRE_APPROVAL' &&
      j.outcome === 'SUCCEEDED' &&
      j.seenAt !== undefined &&
      j.approveSentAt !== undefined,
  );
  const sorted = (f: (j: Gated) => number): number[] => gated.map(f).sort((a, b) => a - b);
  return {
    step: r.step,
    rate: r.rate,
    seconds: r.seconds,
    sent: r.sent,
    sentRate,
    completed: completed.length,
    errors,
    drained,
    sustained: drained && sentRate >= 0.95 * r.rate && errors === 0,
    allow: stats(lat('ALLOW')),
    constrained: stats(lat('ALLOW_WITH_CONSTRAINTS')),
    ack: stats(ack),
    gated: {
      n: gated.length,
      total: quantile(
        sorted((j) => j.doneAt - j.proposedAt),
        0.5,
      ),
      held: quantile(
        sorted((j) => j.approveSentAt - j.seenAt),
        0.5,
      ),
      system: quantile(
        sorted((j) => j.doneAt - j.proposedAt - (j.approveSentAt - j.seenAt)),
        0.5,
      ),
    },
    resources,
  };
}

function gatedSummary(gated: readonly Gated[]) {
  const s = (f: (j: Gated) => number): number[] => gated.map(f).sort((a, b) => a - b);
  const toQueue = s((j) => j.seenAt - j.proposedAt);
  const approveCall = s((j) => j.approvedAt - j.approveSentAt);
  const approveToExec = s((j) => j.doneAt - j.approveSentAt);
  const overhead = s((j) => j.seenAt - j.proposedAt + (j.doneAt - j.approveSentAt));
  const st = (xs: number[]) => ({ p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), p99: quantile(xs, 0.99) });
  return {
    n: gated.length,
    toQueue: st(toQueue),
    approveCall: st(approveCall),
    approveToExec: st(approveToExec),
    overhead: st(overhead),
  };
}

function errorSummary(jobs: Map<number, Job>): Record<string, number> {
  const by: Record<string, number> = {};
  for (const j of jobs.values()) if (j.outcome && j.outcome !== 'SUCCEEDED') by[j.outcome] = (by[j.outcome] ?? 0) + 1;
  for (const j of jobs.values()) if (!j.outcome) by['no outcome'] = (by['no outcome'] ?? 0) + 1;
  return by;
}

/** Per second of the run: ALLOW latency p50/p99 of the proposals sent in that second, and the offered rate. */
interface SeriesRow {
  second: number;
  ms: number;
  series: string;
  step: string;
}
function timeSeries(jobs: Map<number, Job>, replicas: number, variant: string): SeriesRow[] {
  const bins = new Map<number, { lat: number[]; step: string }>();
  for (const j of jobs.values()) {
    if (j.step === 'warm-up' || j.tier !== 'ALLOW' || j.outcome !== 'SUCCEEDED' || j.doneAt === undefined) continue;
    const sec = Math.floor((j.proposedAt - j.t0) / 1000);
    const b = bins.get(sec) ?? { lat: [], step: j.step };
    b.lat.push(j.doneAt - j.proposedAt);
    bins.set(sec, b);
  }
  const rows: SeriesRow[] = [];
  for (const [sec, b] of [...bins].sort((a, c) => a[0] - c[0])) {
    b.lat.sort((x, y) => x - y);
    const label = `${BASELINE ? `${variant}, ` : ''}${replicas} replica${replicas > 1 ? 's' : ''}`;
    rows.push({ second: sec, ms: quantile(b.lat, 0.5), series: `p50, ${label}`, step: b.step });
    rows.push({ second: sec, ms: quantile(b.lat, 0.99), series: `p99, ${label}`, step: b.step });
  }
  return rows;
}

async function countExecutedEvents(): Promise<Map<string, number>> {
  const kafka = new Kafka({ clientId: 'bench-e2e-count', brokers: [BROKERS], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets('job.executed');
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high), 0);
  const counts = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `bench-e2e-count-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: ['job.executed'], fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen++;
      try {
        const id = (JSON.parse(message.value?.toString() ?? '') as { data: { job_id: string } }).data.job_id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      } catch {
        // not ours to judge here
      }
    },
  });
  const deadline = Date.now() + 60000;
  while (seen < total && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  return counts;
}

// ------------------------------------------------------------------ chart
async function renderChart(series: SeriesRow[], path: string): Promise<void> {
  const chart: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'ALLOW path: propose() to job.executed, per second of the run',
      subtitle: 'the offered rate steps up (25/s, 50/s, ...); gaps are the drains between steps; log scale',
    },
    width: 760,
    height: 340,
    data: { values: series },
    mark: { type: 'line', point: { size: 12 } },
    encoding: {
      x: { field: 'second', type: 'quantitative', title: 'seconds into the measured run' },
      y: { field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', title: null },
      // One line per step: the drains between steps are gaps, not lines.
      detail: { field: 'step', type: 'nominal' },
      tooltip: [{ field: 'step' }],
    },
  };
  const spec = compile(chart).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'width', value: 1000 },
    font: { loadSystemFonts: true },
  })
    .render()
    .asPng();
  writeFileSync(path, png);
}

// ------------------------------------------------------------------ report
type Run = Awaited<ReturnType<typeof runStack>>;
interface Load {
  replicas: number;
  variant: string;
  before: number;
  after: number;
}

function report(runs: Run[], m: ReturnType<typeof machine>, loads: Load[], seconds: number): string {
  const current = runs.filter((r) => r.variant === 'current');
  const one = current.find((r) => r.replicas === 1);
  const two = current.find((r) => r.replicas === 2);
  const maxSustained = (r: Run): number => Math.max(0, ...r.steps.filter((s) => s.sustained).map((s) => s.sentRate));
  const met = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const baseOne = runs.find((r) => r.variant === 'baseline' && r.replicas === 1);
  const stepTable = (
    r: Run,
  ): string => `| offered | sent/s | outcomes | errors | ALLOW n | ALLOW p50 | p95 | p99 | max | constrained (run()) p50 / p99 | propose() ack p50 / p99 | sustained |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|
${r.steps
  .map(
    (s) =>
      `| ${fmt(s.rate)}/s | ${fmt(s.sentRate)} | ${fmt(s.completed)}/${fmt(s.sent)} | ${s.errors} | ${fmt(s.allow.n)} | ${fmt(s.allow.p50, 1)} ms | ${fmt(s.allow.p95, 1)} ms | ${fmt(s.allow.p99, 1)} ms | ${fmt(s.allow.max, 0)} ms | ${fmt(s.constrained.p50, 1)} / ${fmt(s.constrained.p99, 1)} ms | ${fmt(s.ack.p50, 1)} / ${fmt(s.ack.p99, 1)} ms | ${s.sustained ? 'yes' : 'no'} |`,
  )
  .join('\n')}`;
  const resTable = (r: Run): string => {
    const labels = Object.keys(r.steps[0]?.resources ?? {});
    return `| process | ${r.steps.map((s) => `${s.step} CPU`).join(' | ')} | RSS at the end |
|---|${r.steps.map(() => '---:').join('|')}|---:|
${labels
  .map(
    (l) =>
      `| ${l} | ${r.steps.map((s) => `${fmt(s.resources[l]?.cpuPct)} %`).join(' | ')} | ${fmt(r.steps[r.steps.length - 1]?.resources[l]?.rss)} MiB |`,
  )
  .join('\n')}`;
  };
  const dup = (r: Run): string =>
    `${fmt(r.proposed)} proposals, ${fmt(r.executed)} executed (SUCCEEDED outcomes seen by the agents); the target took calls for ${fmt(r.targetJobs)} jobs, ` +
    `**${r.dupCalls} of them more than once**; job.executed holds events for ${fmt(r.executedEventJobs)} jobs, **${r.dupEvents} with more than one**. ` +
    `Other outcomes: ${
      Object.keys(r.errors).length
        ? Object.entries(r.errors)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : 'none'
    }.`;
  const g = one?.gated;
  return `# End-to-end benchmark

Produced by \`node bench/e2e/run.ts\` (\`make bench\`) on ${m.date} UTC; it took ${fmt(seconds)} s.
Machine: ${m.cpu}, ${m.nproc} vCPUs, ${m.mem}; Node ${m.node}; PostgreSQL ${m.postgres} (fsync on); Kafka 4.4 (KRaft, one
broker, private to the bench). **Everything runs on these ${m.nproc} vCPUs**: the broker, PostgreSQL, every service
replica, the load generator (${AGENTS} SDK agents) and the executor target. 1-minute load average before/after
each run: ${loads.map((l) => `${runLabel(l, true)} ${l.before.toFixed(1)} / ${l.after.toFixed(1)}`).join('; ')} (other work on the
VM counts in these figures). ${settleSentence(runs)}
${
  BASELINE
    ? `
**Baseline and current code in the same run**: the baseline is \`${BASELINE}\` (${VARIANTS[0]?.commit}), the current code
this checkout (${VARIANTS[1]?.commit}). For each replica count the baseline stack ran its steps first, then the current
stack, each on a fresh broker and fresh databases; the targets, the scale-out and the gated-path sections are the current
code's, and [Baseline and current side by side](#baseline-and-current-side-by-side) compares the two.
`
    : ''
}
Mix (fixed pattern, same every run): ${MIX.map((x) => `${Math.round(x.share * 100)} % ${x.tier}`).join(', ')}; the policy is
\`policies/\` (the seed's rules: \`allow-read\`, \`egress-bounded\`, \`prod-write-gate\`). Every executed job goes to an
http executor (HMAC-signed POST to a target in the bench process). A step lasts ${STEP_SECONDS} s and starts from an idle stack; it is
**sustained** when the agents got their proposals out at ≥ 95 % of the offered rate and every proposal of the step had its
outcome (no errors) within ${DRAIN_GRACE_MS / 1000} s of the step's last proposal. Latency is measured by the agent: from calling
\`propose()\` to \`outcome()\` resolving on the signed \`job.executed\`.

![ALLOW latency per second](e2e-latency.png)

## Targets

The goals of issue 16, against the current code with one replica of every service${baseOne ? " (and the baseline's figures beside them)" : ''}:

| target | figure (current code, one replica) | |${baseOne ? ' baseline, one replica |' : ''}
|---|---|---|${baseOne ? '---|' : ''}
${goalRows(one, two)
  .map(
    (row, i) =>
      `| ${row.target} | ${row.figure} | ${row.status} |${baseOne ? ` ${goalRows(baseOne)[i]?.figure} |` : ''}`,
  )
  .join('\n')}
| zero duplicate executions | ${runs
    .filter((r) => r.variant === 'current')
    .map((r) => `${runLabel(r, true)}: ${r.dupCalls} duplicate target calls, ${r.dupEvents} duplicate job.executed`)
    .join('; ')} | ${met(current.every((r) => r.dupCalls === 0 && r.dupEvents === 0))} |${
    baseOne
      ? ` ${runs
          .filter((r) => r.variant === 'baseline')
          .map(
            (r) =>
              `${r.replicas} replica(s): ${r.dupCalls} duplicate target calls, ${r.dupEvents} duplicate job.executed`,
          )
          .join('; ')} |`
      : ''
  }

${runs
  .map(
    (r) => `## ${runLabel(r)}

${stepTable(r)}

CPU per process (percent of one vCPU, averaged over the step and its drain; PostgreSQL: the backends of the bench's
databases and the server's background processes) and memory:

${resTable(r)}

${dup(r)}

${costSection(r)}
`,
  )
  .join('\n')}
${BASELINE ? comparison(runs) : ''}
${
  one && two
    ? `## Scale-out

Highest sustained rate: ${fmt(maxSustained(one))}/s with one replica, ${fmt(maxSustained(two))}/s with two (ratio
**${maxSustained(one) ? (maxSustained(two) / maxSustained(one)).toFixed(2) : 'n/a'}×**). Two replicas share each consumer group (the 6 partitions
are split between them) on the same ${m.nproc} vCPUs, so this ratio shows what the coordination costs or gains on one machine,
not what a second machine would add.
`
    : ''
}
## The gated path (${g?.n ?? 0} production writes, one replica, approved by the automated reviewer)

The reviewer polls \`GET /api/v1/approvals\` every ${REVIEW_POLL_MS} ms and approves each new item at once. Its own time (the
polling interval, the HTTP round trips) is not the system's; the system's overhead is the time from \`propose()\`
until the item is in the queue plus the time from the approve request to \`job.executed\`:

| segment | p50 | p95 | p99 |
|---|---:|---:|---:|
| propose() → item listed in the queue (includes up to ${REVIEW_POLL_MS} ms polling) | ${fmt(g?.toQueue.p50, 1)} ms | ${fmt(g?.toQueue.p95, 1)} ms | ${fmt(g?.toQueue.p99, 1)} ms |
| approve request → response (signed approval.resolved in the outbox) | ${fmt(g?.approveCall.p50, 1)} ms | ${fmt(g?.approveCall.p95, 1)} ms | ${fmt(g?.approveCall.p99, 1)} ms |
| approve request → job.executed seen by the agent | ${fmt(g?.approveToExec.p50, 1)} ms | ${fmt(g?.approveToExec.p95, 1)} ms | ${fmt(g?.approveToExec.p99, 1)} ms |
| **system overhead** (first + third rows) | **${fmt(g?.overhead.p50, 1)} ms** | ${fmt(g?.overhead.p95, 1)} ms | ${fmt(g?.overhead.p99, 1)} ms |

## Reading the numbers

CPU, measured from /proc over each step and its drain (includes what the stack does when idle):

${cpuReading(runs)}

${READING}
`;
}

/** "1 replica of every service", with the variant in front when a baseline runs too. */
function runLabel(r: { replicas: number; variant: string }, short = false): string {
  const reps = short
    ? `${r.replicas} replica(s)`
    : `${r.replicas} replica${r.replicas > 1 ? 's' : ''} of every service`;
  return BASELINE ? `${r.variant === 'baseline' ? 'Baseline' : 'Current'}${short ? ' ' : ': '}${reps}` : reps;
}

/** The highest offered rate a run sustained, as its step (undefined: none sustained). */
const topSustained = (r: Run): StepSummary | undefined =>
  r.steps.filter((s) => s.sustained).sort((a, b) => b.rate - a.rate)[0];

/**
 * The goals of issue 16 against one run (one replica): { target, figure, status } per goal, from the
 * figures the report already has (steps, idle, costs). `two`, if given, adds the two-replica rate.
 */
function goalRows(r: Run | undefined, two?: Run): { target: string; figure: string; status: string }[] {
  const NO_RUN = 'no one-replica run';
  const status = (ok?: boolean): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  // A rate of --rates the run stopped before (two steps in a row not sustained) is "not reached".
  const missing = (rate: number): string =>
    RATES.includes(rate) ? `${fmt(rate)}/s step not reached` : `${fmt(rate)}/s step not run`;
  const step = (rate: number): StepSummary | undefined => r?.steps.find((s) => s.rate === rate);
  const lat = (s: StepSummary): string => `ALLOW p50 ${fmt(s.allow.p50, 1)} ms / p99 ${fmt(s.allow.p99, 1)} ms`;
  const notSustained = (s: StepSummary): string =>
    `not sustained (sent ${fmt(s.sentRate)}/s, ${fmt(s.completed)}/${fmt(s.sent)} outcomes in time)`;
  const top = r && topSustained(r);
  const rows: { target: string; figure: string; status: string }[] = [];

  const twoTop = two && topSustained(two);
  rows.push({
    target: 'highest sustained rate ≥ 1,000 proposals/s (stretch 2,000/s)',
    figure: !r
      ? NO_RUN
      : `${top ? `${fmt(top.rate)}/s (sent ${fmt(top.sentRate)}/s; ${lat(top)})` : 'no step sustained'}${
          two ? `; two replicas: ${twoTop ? `${fmt(twoTop.rate)}/s` : 'no step sustained'}` : ''
        }`,
    status: !r
      ? status()
      : (top?.rate ?? 0) >= 2000
        ? 'met (stretch: met)'
        : (top?.rate ?? 0) >= 1000
          ? 'met (stretch: **not met**)'
          : status(false),
  });

  const s10 = step(10);
  rows.push({
    target: 'ALLOW p50 ≤ 10 ms and p99 ≤ 30 ms at 10/s (idle stack)',
    figure: !r ? NO_RUN : !s10 ? missing(10) : s10.sustained ? lat(s10) : `${notSustained(s10)}: ${lat(s10)}`,
    status: status(s10 ? s10.sustained && s10.allow.p50 <= 10 && s10.allow.p99 <= 30 : undefined),
  });

  const s500 = step(500);
  rows.push({
    target: 'ALLOW p50 ≤ 15 ms and p99 ≤ 50 ms at 500/s',
    figure: !r ? NO_RUN : !s500 ? missing(500) : s500.sustained ? lat(s500) : `${notSustained(s500)}: ${lat(s500)}`,
    status: status(s500 ? s500.sustained && s500.allow.p50 <= 15 && s500.allow.p99 <= 50 : undefined),
  });

  rows.push({
    target: 'CPU per proposal, all processes, at the highest sustained rate ≤ 1.5 ms',
    figure: !r ? NO_RUN : top ? `${fmt(top.cpuMsPerProposal, 2)} ms at ${fmt(top.rate)}/s` : 'no step sustained',
    status: status(r ? top !== undefined && (top.cpuMsPerProposal ?? NaN) <= 1.5 : undefined),
  });

  rows.push({
    target: 'idle stack CPU ≤ 10 % of one vCPU',
    figure: !r
      ? NO_RUN
      : r.idle
        ? `${fmt(r.idle.stackPct, 1)} % (services, broker and PostgreSQL over ${fmt(r.idle.seconds)} s)`
        : 'not measured (--idle-seconds 0)',
    status: status(r?.idle ? r.idle.stackPct <= 10 : undefined),
  });

  const s100 = step(100);
  const gatedOk = s100 && s100.gated.n > 0 ? s100.sustained && s100.gated.system <= 100 : undefined;
  rows.push({
    target: 'gated path system share p50 ≤ 100 ms at 100/s',
    figure: !r
      ? NO_RUN
      : !s100
        ? missing(100)
        : s100.gated.n === 0
          ? 'no production write executed in the step'
          : `${s100.sustained ? '' : `${notSustained(s100)}: `}${fmt(s100.gated.system, 1)} ms (${s100.gated.n} gated jobs)`,
    status: status(gatedOk),
  });

  // Round trips per proposal and service; a service without a database (policy-decision) is in it with 0.
  const pgCells: { name: string; v?: number; text: string }[] = s500
    ? SERVICES.map((name) => {
        const p = s500.probes?.[name];
        if (!p || p.missing) return { name, text: 'n/a' };
        if (!p.pgLoaded) return { name, text: 'no pg' };
        const v = perProposal(s500, p.pg);
        return { name, v, text: fmt(v, 2) };
      })
    : [];
  const pgMeasured = pgCells.flatMap((c) => (c.v !== undefined && Number.isFinite(c.v) ? [{ ...c, v: c.v }] : []));
  rows.push({
    target: 'PostgreSQL round trips ≤ 0.5 per proposal per service at 500/s',
    figure: !r
      ? NO_RUN
      : !s500
        ? missing(500)
        : !PROBE_ON
          ? 'no probe counts (--no-probe)'
          : `${pgCells.map((c) => `${c.name} ${c.text}`).join(', ')}${s500.sustained ? '' : ` (step not sustained)`}`,
    status: status(s500 && pgMeasured.length ? pgMeasured.every((c) => c.v <= 0.5) : undefined),
  });
  return rows;
}

/** One sentence for the intro: how long each run's broker took to go quiet after the warm-up. */
function settleSentence(runs: Run[]): string {
  if (SETTLE_SECONDS <= 0) return 'The broker was not left to settle after the warm-up (`--settle-seconds 0`).';
  const each = runs
    .map((r) =>
      !r.settle
        ? `${runLabel(r, true)} not measured`
        : r.settle.settled
          ? `${runLabel(r, true)} ${fmt(r.settle.seconds)} s (last ${fmt(r.settle.lastPct, 1)} %)`
          : `${runLabel(r, true)} **did not settle** in ${fmt(r.settle.seconds)} s (last ${fmt(r.settle.lastPct, 1)} %)`,
    )
    .join('; ');
  return `After the warm-up (200 proposals at 50/s, then 800 at 200/s), each run's fresh broker was left to finish its JIT compilation until it used < ${SETTLE_BELOW_PCT} % of one vCPU in ${SETTLE_QUIET_SAMPLES} samples of ${SETTLE_SAMPLE_MS / 1000} s in a row (at most ${SETTLE_SECONDS} s): ${each}.`;
}

const perProposal = (st: StepSummary, n: number | undefined): number =>
  st.probes && n !== undefined && Number.isFinite(n) ? n / st.sent : NaN;
const serviceTotal = (st: StepSummary, f: (p: ProbeDelta) => number): number =>
  st.probes ? Object.values(st.probes).reduce((n, p) => n + (p.missing ? NaN : f(p)), 0) : NaN;

/** Rows of `what` per proposal for each service and all of them, one column per step. */
function perServiceTable(r: Run, what: 'pg' | 'kafka'): string {
  const f = what === 'pg' ? (p: ProbeDelta) => p.pg : (p: ProbeDelta) => p.kafka;
  const cell = (st: StepSummary, name: string): string => {
    const p = st.probes?.[name];
    if (!p || p.missing) return 'n/a';
    // A service that never loaded pg (policy-decision has no database) shows that, not a zero.
    if (what === 'pg' && !p.pgLoaded) return 'no pg';
    return fmt(perProposal(st, f(p)), 2);
  };
  return `| service | ${r.steps.map((st) => st.step).join(' | ')} |
|---|${r.steps.map(() => '---:').join('|')}|
${SERVICES.map((name) => `| ${name} | ${r.steps.map((st) => cell(st, name)).join(' | ')} |`).join('\n')}
| **all services** | ${r.steps.map((st) => `**${fmt(perProposal(st, serviceTotal(st, f)), 2)}**`).join(' | ')} |`;
}

/** For each service its most frequent kinds (statement kinds or Kafka APIs) per proposal, the rest as "other". */
function byKindTable(r: Run, field: 'pgByKind' | 'kafkaByApi', head: string, topN = 6): string {
  const rows: string[] = [];
  for (const name of SERVICES) {
    const totals: Record<string, number> = {};
    for (const st of r.steps)
      for (const [k, v] of Object.entries(st.probes?.[name]?.[field] ?? {})) totals[k] = (totals[k] ?? 0) + v;
    const kinds = Object.keys(totals)
      .filter((k) => (totals[k] ?? 0) > 0)
      .sort((a, b) => (totals[b] ?? 0) - (totals[a] ?? 0));
    const top = kinds.slice(0, topN);
    const rest = kinds.slice(topN);
    for (const k of top)
      rows.push(
        `| ${name} | ${k} | ${r.steps.map((st) => fmt(perProposal(st, st.probes?.[name]?.[field]?.[k] ?? 0), 2)).join(' | ')} |`,
      );
    if (rest.length)
      rows.push(
        `| ${name} | other (${rest.join(', ')}) | ${r.steps
          .map((st) =>
            fmt(
              perProposal(
                st,
                rest.reduce((n, k) => n + (st.probes?.[name]?.[field]?.[k] ?? 0), 0),
              ),
              2,
            ),
          )
          .join(' | ')} |`,
      );
  }
  return `| service | ${head} | ${r.steps.map((st) => st.step).join(' | ')} |
|---|---|${r.steps.map(() => '---:').join('|')}|
${rows.join('\n')}`;
}

function idleTable(idle: NonNullable<Run['idle']>): string {
  const labels = Object.keys(idle.cpuPct);
  const top = (byKind: Record<string, number> | undefined): string =>
    Object.entries(byKind ?? {})
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, v]) => `${k} ${fmt(v, 1)}`)
      .join(', ');
  return `| process | CPU (% of one vCPU) | Kafka requests/s (top types) | PG round trips/s (top statements) |
|---|---:|---|---|
${labels
  .map((l) => {
    const p = idle.perSecond[l];
    return `| ${l} | ${fmt(idle.cpuPct[l], 1)} % | ${p ? `${fmt(p.kafka, 1)} (${top(p.kafkaByApi)})` : ''} | ${p ? `${fmt(p.pg, 1)}${p.pg > 0 ? ` (${top(p.pgByKind)})` : ''}` : ''} |`;
  })
  .join('\n')}
| **stack in all** | **${fmt(idle.stackPct, 1)} %** | **${fmt(
    Object.values(idle.perSecond).reduce((n, p) => n + p.kafka, 0),
    1,
  )}** | **${fmt(
    Object.values(idle.perSecond).reduce((n, p) => n + p.pg, 0),
    1,
  )}** |
| load generator (the bench process, not in the total) | ${fmt(idle.loadGeneratorPct, 1)} % | | |`;
}

function profileSection(r: Run): string {
  const p = r.profile;
  if (!p)
    return PROBE_ON && PROFILE_RATE !== undefined
      ? `No CPU profile: this stack stopped before its ${fmt(PROFILE_RATE)}/s step.`
      : '';
  const cmd = `node bench/e2e/run.ts ${args.join(' ')}`;
  return `### CPU profile of every service at ${fmt(p.rate)}/s (${runLabel(r, true)})

A sampling profile (~1 ms interval, inspector \`Profiler\` started and stopped by SIGUSR2 to bench/lib/probe.ts) over the
step and its drain; the profiler's own cost is in that step's figures. Self time of each function, summed over its call
paths, in % of the samples in which the service was busy (not idle). \`(program)\` is time in V8 or native code with no
JavaScript frame (compiling, the event loop); \`GC\` is the garbage collector; \`(native)\` is Node's C++ bindings (socket
\`writev\` / \`writeBuffer\` are the writes to Kafka, PostgreSQL and HTTP clients, syscall time included). On a loaded
machine the sampler runs late, so the counts are shares, not times.
Reproduce: \`${cmd}\` (the same step: \`--rates ${p.rate} --profile-rate ${p.rate}\`), then
\`node bench/lib/cpuprofile.ts <file>\`; the files are kept in \`bench/reports/profiles/\` (git-ignored; open them in
Chrome DevTools or speedscope for the call tree).

${p.services
  .map((s) =>
    s.missing
      ? `**${s.name}#${s.replica}**: no profile written.`
      : `**${s.name}#${s.replica}**: ${fmt(s.busy)} busy samples of ${fmt(s.samples)} over ${fmt(s.seconds, 1)} s;
by package: ${s.packages
          .slice(0, 8)
          .map((x) => `${x.pkg} ${fmt(x.pct, 1)} %`)
          .join(', ')}. File: \`${s.file}\` (${fmt(s.mib, 1)} MiB).

| self % | function | where |
|---:|---|---|
${s.top.map((f) => `| ${fmt(f.pct, 1)} | \`${f.fn.replace(/\|/g, '\\|')}\` | ${f.where} |`).join('\n')}`,
  )
  .join('\n\n')}`;
}

/** What each proposal cost the stack in one run: CPU, round trips, requests, the gated path's share. */
function costSection(r: Run): string {
  return `### Cost per proposal (${runLabel(r, true)})

Counted inside each service by bench/lib/probe.ts (every pg \`query()\` is one PostgreSQL round trip, every request
kafkajs sends is one Kafka request) over the step's window: from its first proposal until all of its proposals had their
outcomes and the services' consumer groups had caught up with every topic; divided by the proposals of the step.
Background work (fetch loops, heartbeats, sweepers, the reviewer's polls) is in it; in parentheses, what the idle stack
does in as long as the window, per proposal: the difference is what the proposals themselves cost. The gated system
share is a production write's \`propose()\` → outcome less the time the reviewer held it (from seeing it listed to
sending the approval); it still contains the wait for the reviewer's next poll (0-${REVIEW_POLL_MS} ms), which the bench
cannot see.

| step | window | CPU per proposal, all processes | PG round trips / proposal (idle) | Kafka requests / proposal (idle) | gated jobs | gated propose() → outcome p50 | reviewer held p50 | **gated system share p50** |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${r.steps
  .map((st) => {
    const idle = (f: (p: PerSecond) => number): string =>
      r.idle
        ? ` (${fmt((Object.values(r.idle.perSecond).reduce((n, p) => n + f(p), 0) * (st.probeSeconds ?? NaN)) / st.sent, 1)})`
        : '';
    return `| ${st.step}${st.lagLeft ? ` (${fmt(st.lagLeft)} messages not consumed)` : ''} | ${fmt(st.probeSeconds, 1)} s | ${fmt(st.cpuMsPerProposal, 1)} ms | ${fmt(
      perProposal(
        st,
        serviceTotal(st, (p) => p.pg),
      ),
      1,
    )}${idle((p) => p.pg)} | ${fmt(
      perProposal(
        st,
        serviceTotal(st, (p) => p.kafka),
      ),
      1,
    )}${idle((p) => p.kafka)} | ${st.gated.n} | ${fmt(st.gated.total, 1)} ms | ${fmt(st.gated.held, 1)} ms | **${fmt(st.gated.system, 1)} ms** |`;
  })
  .join('\n')}

PostgreSQL round trips per proposal:

${perServiceTable(r, 'pg')}

${byKindTable(r, 'pgByKind', 'statement (first word)')}

Kafka requests per proposal:

${perServiceTable(r, 'kafka')}

${byKindTable(r, 'kafkaByApi', 'request')}
${
  r.idle
    ? `
### Idle stack (${runLabel(r, true)}): ${fmt(r.idle.seconds)} s with no traffic after the warm-up drained

The reviewer paused, nothing proposed; CPU from /proc, requests and round trips from the probes.

${idleTable(r.idle)}
`
    : ''
}
${profileSection(r)}`;
}

/** Baseline against current, per replica count: the same steps in the same run. */
function comparison(runs: Run[]): string {
  const ratio = (b: number | undefined, c: number | undefined): string =>
    b !== undefined && c !== undefined && Number.isFinite(b) && Number.isFinite(c) && b > 0
      ? `${(c / b).toFixed(2)}×`
      : '–';
  const vs = (b: number | undefined, c: number | undefined, d = 1, unit = ''): string =>
    `${fmt(b, d)} → ${fmt(c, d)}${unit} (${ratio(b, c)})`;
  const maxSustained = (r: Run): number => Math.max(0, ...r.steps.filter((s) => s.sustained).map((s) => s.sentRate));
  const sections: string[] = [];
  for (const replicas of REPLICAS) {
    const b = runs.find((r) => r.replicas === replicas && r.variant === 'baseline');
    const c = runs.find((r) => r.replicas === replicas && r.variant === 'current');
    if (!b || !c) continue;
    const rates = [...new Set([...b.steps, ...c.steps].map((s) => s.rate))].sort((x, y) => x - y);
    const pair = (rate: number): [StepSummary | undefined, StepSummary | undefined] => [
      b.steps.find((s) => s.rate === rate),
      c.steps.find((s) => s.rate === rate),
    ];
    const svcRows = (f: (p: ProbeDelta) => number, pg = false): string =>
      [
        ...SERVICES.map((n): [string, (st: StepSummary) => number] => [
          n,
          (st) => {
            const p = st.probes?.[n];
            return perProposal(st, p === undefined ? f({} as ProbeDelta) : p.missing ? NaN : f(p));
          },
        ]),
        ['**all services**', (st: StepSummary) => perProposal(st, serviceTotal(st, f))] as const,
      ]
        .map(([n, g]) => {
          const cells = rates.map((rate) => {
            const [x, y] = pair(rate);
            if (pg && SERVICES.includes(n) && ![x, y].some((st) => st?.probes?.[n]?.pgLoaded)) return 'no pg';
            return vs(x ? g(x) : NaN, y ? g(y) : NaN, 2);
          });
          return `| ${n} | ${cells.join(' | ')} |`;
        })
        .join('\n');
    const bIdle = b.idle;
    const cIdle = c.idle;
    const idleRows =
      bIdle && cIdle
        ? `| process | baseline | current | current ÷ baseline |
|---|---:|---:|---:|
${[...new Set([...Object.keys(bIdle.cpuPct), ...Object.keys(cIdle.cpuPct)])].map((k) => `| ${k} | ${fmt(bIdle.cpuPct[k], 1)} % | ${fmt(cIdle.cpuPct[k], 1)} % | ${ratio(bIdle.cpuPct[k], cIdle.cpuPct[k])} |`).join('\n')}
| **stack in all** | **${fmt(bIdle.stackPct, 1)} %** | **${fmt(cIdle.stackPct, 1)} %** | **${ratio(bIdle.stackPct, cIdle.stackPct)}** |`
        : 'No idle measurement (--idle-seconds 0).';
    sections.push(`### ${replicas} replica${replicas > 1 ? 's' : ''} of every service

Highest sustained rate: ${vs(maxSustained(b), maxSustained(c), 0, '/s')}.

| step | ALLOW p50 | ALLOW p99 | CPU per proposal, all processes | gated system share p50 | PG round trips / proposal | Kafka requests / proposal | sustained |
|---|---:|---:|---:|---:|---:|---:|:---:|
${rates
  .map((rate) => {
    const [x, y] = pair(rate);
    const g = (f: (s: StepSummary) => number | undefined): [number | undefined, number | undefined] => [
      x ? f(x) : NaN,
      y ? f(y) : NaN,
    ];
    return `| ${fmt(rate)}/s | ${vs(...g((s) => s.allow.p50), 1, ' ms')} | ${vs(...g((s) => s.allow.p99), 1, ' ms')} | ${vs(...g((s) => s.cpuMsPerProposal), 1, ' ms')} | ${vs(...g((s) => s.gated.system), 1, ' ms')} | ${vs(
      ...g((s) =>
        perProposal(
          s,
          serviceTotal(s, (p) => p.pg),
        ),
      ),
      1,
    )} | ${vs(
      ...g((s) =>
        perProposal(
          s,
          serviceTotal(s, (p) => p.kafka),
        ),
      ),
      1,
    )} | ${x ? (x.sustained ? 'yes' : 'no') : '–'} / ${y ? (y.sustained ? 'yes' : 'no') : '–'} |`;
  })
  .join('\n')}

PostgreSQL round trips per proposal, baseline → current:

| service | ${rates.map((rate) => `${fmt(rate)}/s`).join(' | ')} |
|---|${rates.map(() => '---:').join('|')}|
${svcRows((p) => p.pg, true)}

Kafka requests per proposal, baseline → current:

| service | ${rates.map((rate) => `${fmt(rate)}/s`).join(' | ')} |
|---|${rates.map(() => '---:').join('|')}|
${svcRows((p) => p.kafka)}

Idle CPU (% of one vCPU, no traffic):

${idleRows}`);
  }
  return `## Baseline and current side by side

Baseline \`${BASELINE}\` (${VARIANTS[0]?.commit}) against this checkout (${VARIANTS[1]?.commit}), in the same run, each
stack on a fresh broker and fresh databases, the baseline first. Each cell is baseline → current (current ÷ baseline):
below 1× is faster or cheaper. A step one side did not reach is n/a. Compare the ratios more than the absolute figures of a
short run, and prefer steps both sides sustained.

${sections.join('\n\n')}
`;
}

/** Where the CPU went: per step, the whole stack's CPU per proposal and each process's share. */
function cpuReading(runs: Run[]): string {
  return runs
    .flatMap((r) =>
      r.steps.map((st) => {
        const entries = Object.entries(st.resources);
        const total = entries.reduce((n, [, v]) => n + v.cpuPct, 0);
        const perProposal = st.cpuMsPerProposal;
        return `- ${runLabel(r, true)}, ${st.step}: the processes used ${fmt(total)} % of one vCPU in all (the machine has ${cpus().length * 100} %), **${fmt(perProposal, 1)} ms of CPU per proposal** (${entries
          .sort((a, b) => b[1].cpuPct - a[1].cpuPct)
          .map(([k, v]) => `${k} ${fmt(v.cpuPct)} %`)
          .join(', ')}).`;
      }),
    )
    .join('\n');
}

let READING = '';
if (existsSync(join(ROOT, 'bench/e2e/reading.md')))
  READING = readFileSync(join(ROOT, 'bench/e2e/reading.md'), 'utf8').trim();

// ------------------------------------------------------------------ main
async function main() {
  const started = Date.now();
  const m = machine();
  const runs: Run[] = [];
  const loads: Load[] = [];
  // Last run's profiles go; the directory is the bench's own output.
  if (PROFILE_RATE !== undefined && existsSync(PROFILE_DIR))
    for (const f of readdirSync(PROFILE_DIR)) if (f.endsWith('.cpuprofile')) rmSync(join(PROFILE_DIR, f));
  for (const replicas of REPLICAS)
    for (const variant of VARIANTS) {
      const before = loadavg()[0] ?? NaN;
      runs.push(await runStack(replicas, variant));
      loads.push({ replicas, variant: variant.key, before, after: loadavg()[0] ?? NaN });
    }
  const md = report(runs, m, loads, (Date.now() - started) / 1000);
  if (args.includes('--no-report')) {
    process.stdout.write(md);
    return;
  }
  mkdirSync(join(ROOT, 'bench/reports'), { recursive: true });
  // The chart's data too, so the chart can be re-rendered or compared later.
  writeFileSync(join(ROOT, 'bench/reports/e2e-series.json'), `${JSON.stringify(runs.flatMap((r) => r.series))}\n`);
  await renderChart(
    runs.flatMap((r) => r.series),
    join(ROOT, 'bench/reports/e2e-latency.png'),
  );
  writeFileSync(join(ROOT, 'bench/reports/e2e.md'), md);
  log('report written to bench/reports/e2e.md and bench/reports/e2e-latency.png');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench/e2e failed: ${(e as Error).stack || (e as Error).message}\n`);
    process.exit(1);
  },
);
