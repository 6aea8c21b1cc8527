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
//
// Build first (npx tsc -b tsconfig.build.json), then:
//   node bench/e2e/run.mjs [--replicas 1,2] [--step-seconds 10] [--rates 25,50,100,200,400,1000,2000,5000] [--agents 4] [--no-report]
// Writes bench/reports/e2e.md and bench/reports/e2e-latency.png.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
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
} from '../lib/stack.mjs';

const require = createRequire(import.meta.url);
const SERVICES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'];
for (const s of SERVICES)
  if (!existsSync(join(ROOT, 'services', s, 'dist/src/main.js'))) {
    process.stderr.write(`bench/e2e: services/${s}/dist is missing; run \`npx tsc -b tsconfig.build.json\` first\n`);
    process.exit(2);
  }
const { Kafka, logLevel } = require('kafkajs');
const { SignJWT } = await import('jose');
const { Countersign } = require('@countersign/agent-sdk');
const vega = await import('vega');
const { compile } = await import('vega-lite');
const { Resvg } = await import('@resvg/resvg-js');

// ------------------------------------------------------------------ options
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const REPLICAS = opt('replicas', '1,2').split(',').map(Number);
const STEP_SECONDS = Number(opt('step-seconds', '10'));
const RATES = opt('rates', '25,50,100,200,400,1000,2000,5000').split(',').map(Number);
const AGENTS = Number(opt('agents', '4'));
configureBroker({ port: Number(process.env.BENCH_KAFKA_PORT || 39092), stateDir: join(ROOT, 'deploy/local/.kafka/bench-e2e') });
// A step is sustained when the proposals went out at (nearly) the offered rate and every one had
// its outcome within this long after the step's last proposal.
const DRAIN_GRACE_MS = 5000;
// How often the automated reviewer looks at its queue (each look is a REST call the stack pays for).
const REVIEW_POLL_MS = 200;
const MIX = [
  { tier: 'ALLOW', share: 0.85 },
  { tier: 'ALLOW_WITH_CONSTRAINTS', share: 0.1 },
  { tier: 'REQUIRE_APPROVAL', share: 0.05 },
];

const log = (s) => process.stdout.write(`[bench/e2e] ${s}\n`);

// ------------------------------------------------------------------ processes
// ------------------------------------------------------------------ the executor target
function startTarget() {
  const calls = new Map();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const jobId = String(req.headers['idempotency-key'] ?? '');
      calls.set(jobId, (calls.get(jobId) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"done":true}');
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, calls, port: server.address().port })));
}

// ------------------------------------------------------------------ one stack, one run of the steps
async function runStack(replicas) {
  log(`--- ${replicas} replica(s) of every service: fresh broker on ${BROKERS}, fresh databases`);
  const brokerPid = await startBroker();
  const keys = makeKeys();
  const target = await startTarget();
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-e2e-conf-'));
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
  const dbs = {
    'approval-queue': await recreateDb('e2e_queue'),
    'execution-binding': await recreateDb('e2e_binding'),
    audit: await recreateDb('e2e_audit'),
  };
  const common = {
    ...keys.env,
    APPROVER_JWT_SECRET: keys.jwtSecret,
    POLICY_DIR: join(ROOT, 'policies'),
    EXECUTORS_FILE: executors,
    EXECUTOR_HTTP_SECRET: `bench-e2e-executor-${randomUUID()}`,
  };
  const services = [];
  for (const name of SERVICES)
    for (let r = 0; r < replicas; r++)
      services.push(
        await startService(name, r, { ...common, ...(dbs[name] ? { DATABASE_URL: dbs[name] } : {}), KAFKA_GROUP_ID: name }),
      );
  log(`stack ready: ${services.map((s) => `${s.name}#${s.replica}`).join(', ')}`);
  const procs = () => {
    const by = {};
    for (const s of services) (by[s.name] ??= []).push(s.pid);
    return { ...by, 'Kafka broker': [brokerPid], 'PostgreSQL (all backends)': postgresPids() };
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
        executionUrl: services.find((s) => s.name === 'execution-binding').url,
        kafka: { logLevel: logLevel.NOTHING },
      }),
  );
  const queueUrl = services.find((s) => s.name === 'approval-queue').url;
  const reviewerToken = await new SignJWT({ roles: ['service-owner'], tenants: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-reviewer')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(keys.jwtSecret));

  // Warm-up: every agent's consumer is assigned, the services' groups have their partitions and
  // the JIT is warm, before any figure is taken.
  // Every proposal, keyed by its sequence number (job.id is set once propose() resolves).
  const jobs = new Map();
  const reviewer = startReviewer(queueUrl, reviewerToken, jobs);
  log('warm-up: 200 proposals at 50/s');
  await runStep({ agents, jobs, rate: 50, seconds: 4, step: 'warm-up', t0: performance.now() });
  await waitAllDone(jobs, 60000);

  const steps = [];
  let failures = 0;
  const t0 = performance.now();
  for (const rate of RATES) {
    const before = sampleAll(procs);
    const startedAt = performance.now();
    const r = await runStep({ agents, jobs, rate, seconds: STEP_SECONDS, step: `${rate}/s`, t0 });
    const drained = await waitAllDone(jobs, DRAIN_GRACE_MS, r.step);
    const after = sampleAll(procs);
    const wall = (performance.now() - startedAt) / 1000;
    const resources = Object.fromEntries(
      Object.keys(after).map((k) => [k, { cpuPct: ((after[k].cpu - before[k].cpu) / wall) * 100, rss: after[k].rss }]),
    );
    const s = summarize(jobs, r, drained, resources);
    steps.push(s);
    log(
      `${s.step}: sent ${fmt(s.sentRate)}/s, ${s.completed}/${s.sent} outcomes (${s.errors} errors) ` +
        `ALLOW p50/p95/p99 ${fmt(s.allow.p50, 1)}/${fmt(s.allow.p95, 1)}/${fmt(s.allow.p99, 1)} ms; ${s.sustained ? 'sustained' : 'NOT sustained'}`,
    );
    // Each step starts from an idle stack: what one step left behind would distort the next.
    if (!drained) {
      log(`${s.step}: draining its backlog before the next step (up to 120 s)`);
      await waitAllDone(jobs, 120000);
    }
    failures = s.sustained ? 0 : failures + 1;
    if (failures >= 2) break;
  }
  log('draining what is still in flight (up to 180 s)');
  await waitAllDone(jobs, 180000);
  reviewer.stop();
  await reviewer.done;

  // Duplicates: every job.executed event on the broker, and every call the target took.
  const executedEvents = await countExecutedEvents();
  const dupEvents = [...executedEvents.values()].filter((n) => n > 1).length;
  const dupCalls = [...target.calls.values()].filter((n) => n > 1).length;
  const proposed = [...jobs.values()].length;
  const executed = [...jobs.values()].filter((j) => j.outcome === 'SUCCEEDED').length;
  const gated = [...jobs.values()].filter((j) => j.tier === 'REQUIRE_APPROVAL' && j.doneAt !== undefined && j.approveSentAt !== undefined);
  for (const a of agents) await a.close().catch(() => undefined);
  for (const s of services) await s.stop();
  target.server.closeAllConnections();
  target.server.close();
  stopBroker();
  rmSync(keys.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  return {
    replicas,
    steps,
    series: timeSeries(jobs, replicas),
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

function pickTier(i) {
  // A fixed, evenly spread pattern (not random), so every run offers the same mix.
  const x = (i * 0.6180339887) % 1;
  let acc = 0;
  for (const m of MIX) {
    acc += m.share;
    if (x < acc) return m.tier;
  }
  return MIX[0].tier;
}
function proposalFor(tier, i) {
  switch (tier) {
    case 'ALLOW':
      return { topic: 'job.repo.read', riskTags: [], payload: { repo: `svc-${i % 50}`, path: 'README.md' } };
    case 'ALLOW_WITH_CONSTRAINTS':
      return { topic: 'job.web.fetch', riskTags: ['egress'], payload: { url: 'https://api.github.com/repos/acme/api' } };
    default:
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
const byId = new Map();
async function runStep({ agents, jobs, rate, seconds, step, t0 }) {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  const proposals = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const i = seq++;
      const tier = pickTier(i);
      const agent = agents[i % agents.length];
      const job = { tier, step, proposedAt: performance.now(), t0 };
      jobs.set(i, job);
      const input = { ...proposalFor(tier, i), requestedBy: `owner-${i % 7}@bench.example` };
      if (tier === 'ALLOW_WITH_CONSTRAINTS') {
        // Runs in the agent: propose, wait for the grant, verify it, run, report SUCCEEDED.
        const p = agent
          .run(input, (grant) => ({ fetched: grant.constraints.network_allowlist?.length ?? 0 }))
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

async function waitAllDone(jobs, ms, step) {
  const deadline = performance.now() + ms;
  for (;;) {
    const open = [...jobs.values()].filter((j) => (step === undefined || j.step === step) && j.doneAt === undefined).length;
    if (open === 0) return true;
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
}

/** The automated reviewer: polls the queue as a service owner and approves what it finds. */
function startReviewer(queueUrl, token, jobs) {
  let running = true;
  const seen = new Set();
  const done = (async () => {
    while (running) {
      try {
        const res = await fetch(`${queueUrl}/api/v1/approvals?limit=50`, { headers: { authorization: `Bearer ${token}` } });
        const page = await res.json();
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
  return { stop: () => (running = false), done };
}

function summarize(jobs, r, drained, resources) {
  const mine = [...jobs.values()].filter((j) => j.step === r.step);
  const completed = mine.filter((j) => j.doneAt !== undefined);
  const lat = (tier) =>
    completed
      .filter((j) => j.tier === tier && j.outcome === 'SUCCEEDED')
      .map((j) => j.doneAt - j.proposedAt)
      .sort((a, b) => a - b);
  const stats = (xs) => ({ n: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), p99: quantile(xs, 0.99), max: xs[xs.length - 1] });
  const ack = mine.filter((j) => j.ackedAt).map((j) => j.ackedAt - j.proposedAt).sort((a, b) => a - b);
  const sentRate = r.sent / r.sendSeconds;
  const errors = completed.filter((j) => j.outcome !== 'SUCCEEDED').length;
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
    resources,
  };
}

function gatedSummary(gated) {
  const s = (f) => gated.map(f).sort((a, b) => a - b);
  const toQueue = s((j) => j.seenAt - j.proposedAt);
  const approveCall = s((j) => j.approvedAt - j.approveSentAt);
  const approveToExec = s((j) => j.doneAt - j.approveSentAt);
  const overhead = s((j) => j.seenAt - j.proposedAt + (j.doneAt - j.approveSentAt));
  const st = (xs) => ({ p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), p99: quantile(xs, 0.99) });
  return { n: gated.length, toQueue: st(toQueue), approveCall: st(approveCall), approveToExec: st(approveToExec), overhead: st(overhead) };
}

function errorSummary(jobs) {
  const by = {};
  for (const j of jobs.values()) if (j.outcome && j.outcome !== 'SUCCEEDED') by[j.outcome] = (by[j.outcome] ?? 0) + 1;
  for (const j of jobs.values()) if (!j.outcome) by['no outcome'] = (by['no outcome'] ?? 0) + 1;
  return by;
}

/** Per second of the run: ALLOW latency p50/p99 of the proposals sent in that second, and the offered rate. */
function timeSeries(jobs, replicas) {
  const bins = new Map();
  for (const j of jobs.values()) {
    if (j.step === 'warm-up' || j.tier !== 'ALLOW' || j.outcome !== 'SUCCEEDED') continue;
    const sec = Math.floor((j.proposedAt - j.t0) / 1000);
    const b = bins.get(sec) ?? { lat: [], step: j.step };
    b.lat.push(j.doneAt - j.proposedAt);
    bins.set(sec, b);
  }
  const rows = [];
  for (const [sec, b] of [...bins].sort((a, c) => a[0] - c[0])) {
    b.lat.sort((x, y) => x - y);
    const label = `${replicas} replica${replicas > 1 ? 's' : ''}`;
    rows.push({ second: sec, ms: quantile(b.lat, 0.5), series: `p50, ${label}`, step: b.step });
    rows.push({ second: sec, ms: quantile(b.lat, 0.99), series: `p99, ${label}`, step: b.step });
  }
  return rows;
}

async function countExecutedEvents() {
  const kafka = new Kafka({ clientId: 'bench-e2e-count', brokers: [BROKERS], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets('job.executed');
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high), 0);
  const counts = new Map();
  const consumer = kafka.consumer({ groupId: `bench-e2e-count-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: ['job.executed'], fromBeginning: true });
  let seen = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen++;
      try {
        const id = JSON.parse(message.value.toString()).data.job_id;
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
async function renderChart(series, path) {
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'ALLOW path: propose() to job.executed, per second of the run', subtitle: 'the offered rate steps up (25/s, 50/s, ...); gaps are the drains between steps; log scale' },
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
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  const png = new Resvg(svg, { background: 'white', fitTo: { mode: 'width', value: 1000 }, font: { loadSystemFonts: true } }).render().asPng();
  writeFileSync(path, png);
}

// ------------------------------------------------------------------ report
function report(runs, m, loads, seconds) {
  const one = runs.find((r) => r.replicas === 1);
  const two = runs.find((r) => r.replicas === 2);
  const maxSustained = (r) => Math.max(0, ...r.steps.filter((s) => s.sustained).map((s) => s.sentRate));
  const at1000 = one?.steps.find((s) => s.rate === 1000);
  const best1 = one?.steps.filter((s) => s.sustained).sort((a, b) => b.rate - a.rate)[0];
  const met = (ok) => (ok ? 'met' : '**not met**');
  const stepTable = (r) => `| offered | sent/s | outcomes | errors | ALLOW n | ALLOW p50 | p95 | p99 | max | constrained (run()) p50 / p99 | propose() ack p50 / p99 | sustained |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|
${r.steps
  .map(
    (s) =>
      `| ${fmt(s.rate)}/s | ${fmt(s.sentRate)} | ${fmt(s.completed)}/${fmt(s.sent)} | ${s.errors} | ${fmt(s.allow.n)} | ${fmt(s.allow.p50, 1)} ms | ${fmt(s.allow.p95, 1)} ms | ${fmt(s.allow.p99, 1)} ms | ${fmt(s.allow.max, 0)} ms | ${fmt(s.constrained.p50, 1)} / ${fmt(s.constrained.p99, 1)} ms | ${fmt(s.ack.p50, 1)} / ${fmt(s.ack.p99, 1)} ms | ${s.sustained ? 'yes' : 'no'} |`,
  )
  .join('\n')}`;
  const resTable = (r) => {
    const labels = Object.keys(r.steps[0]?.resources ?? {});
    return `| process | ${r.steps.map((s) => `${s.step} CPU`).join(' | ')} | RSS at the end |
|---|${r.steps.map(() => '---:').join('|')}|---:|
${labels
  .map(
    (l) =>
      `| ${l} | ${r.steps.map((s) => `${fmt(s.resources[l].cpuPct)} %`).join(' | ')} | ${fmt(r.steps[r.steps.length - 1].resources[l].rss)} MiB |`,
  )
  .join('\n')}`;
  };
  const dup = (r) =>
    `${fmt(r.proposed)} proposals, ${fmt(r.executed)} executed (SUCCEEDED outcomes seen by the agents); the target took calls for ${fmt(r.targetJobs)} jobs, ` +
    `**${r.dupCalls} of them more than once**; job.executed holds events for ${fmt(r.executedEventJobs)} jobs, **${r.dupEvents} with more than one**. ` +
    `Other outcomes: ${Object.keys(r.errors).length ? Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}.`;
  const g = one?.gated;
  return `# End-to-end benchmark

Produced by \`node bench/e2e/run.mjs\` (\`make bench\`) on ${m.date} UTC; it took ${fmt(seconds)} s.
Machine: ${m.cpu}, ${m.nproc} vCPUs, ${m.mem}; Node ${m.node}; PostgreSQL ${m.postgres} (fsync on); Kafka 4.4 (KRaft, one
broker, private to the bench). **Everything runs on these ${m.nproc} vCPUs**: the broker, PostgreSQL, every service
replica, the load generator (${AGENTS} SDK agents) and the executor target. 1-minute load average before/after
each run: ${loads.map((l) => `${l.replicas} replica(s) ${l.before.toFixed(1)} / ${l.after.toFixed(1)}`).join('; ')} (other work on the
VM counts in these figures).

Mix (fixed pattern, same every run): ${MIX.map((x) => `${Math.round(x.share * 100)} % ${x.tier}`).join(', ')}; the policy is
\`policies/\` (the seed's rules: \`allow-read\`, \`egress-bounded\`, \`prod-write-gate\`). Every executed job goes to an
http executor (HMAC-signed POST to a target in the bench process). A step lasts ${STEP_SECONDS} s and starts from an idle stack; it is
**sustained** when the agents got their proposals out at ≥ 95 % of the offered rate and every proposal of the step had its
outcome (no errors) within ${DRAIN_GRACE_MS / 1000} s of the step's last proposal. Latency is measured by the agent: from calling
\`propose()\` to \`outcome()\` resolving on the signed \`job.executed\`.

![ALLOW latency per second](e2e-latency.png)

## Targets

| target | figure | |
|---|---|---|
| ALLOW p50 ≤ 15 ms at 1,000 proposals/s | ${at1000 ? `${fmt(at1000.allow.p50, 1)} ms` : 'step not reached'} | ${met(at1000 && at1000.allow.p50 <= 15)} |
| ALLOW p99 ≤ 50 ms at 1,000 proposals/s | ${at1000 ? `${fmt(at1000.allow.p99, 1)} ms` : 'step not reached'} | ${met(at1000 && at1000.allow.p99 <= 50)} |
| (for reference) ALLOW p50 / p99 at the highest sustained rate, one replica | ${best1 ? `${fmt(best1.allow.p50, 1)} / ${fmt(best1.allow.p99, 1)} ms at ${fmt(best1.rate)}/s` : 'no step sustained'} | |
| ≥ 5,000 proposals/s sustained | ${one ? `${fmt(maxSustained(one))}/s (one replica)` : ''}${two ? `, ${fmt(maxSustained(two))}/s (two replicas)` : ''} | ${met(Math.max(maxSustained(one ?? { steps: [] }), maxSustained(two ?? { steps: [] })) >= 5000)} |
| zero duplicate executions | ${runs.map((r) => `${r.replicas} replica(s): ${r.dupCalls} duplicate target calls, ${r.dupEvents} duplicate job.executed`).join('; ')} | ${met(runs.every((r) => r.dupCalls === 0 && r.dupEvents === 0))} |

${runs
  .map(
    (r) => `## ${r.replicas} replica${r.replicas > 1 ? 's' : ''} of every service

${stepTable(r)}

CPU per process (percent of one vCPU, averaged over the step and its drain) and memory:

${resTable(r)}

${dup(r)}
`,
  )
  .join('\n')}
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

/** Where the CPU went: per step, the whole stack's CPU per proposal and each process's share. */
function cpuReading(runs) {
  return runs
    .flatMap((r) =>
      r.steps.map((st) => {
        const entries = Object.entries(st.resources);
        const total = entries.reduce((n, [, v]) => n + v.cpuPct, 0);
        const perProposal = (total / 100 / st.sentRate) * 1000;
        return `- ${r.replicas} replica(s), ${st.step}: the processes used ${fmt(total)} % of one vCPU in all (the machine has ${cpus().length * 100} %), **${fmt(perProposal, 1)} ms of CPU per proposal** (${entries
          .sort((a, b) => b[1].cpuPct - a[1].cpuPct)
          .map(([k, v]) => `${k} ${fmt(v.cpuPct)} %`)
          .join(', ')}).`;
      }),
    )
    .join('\n');
}

let READING = '';
if (existsSync(join(ROOT, 'bench/e2e/reading.md'))) READING = readFileSync(join(ROOT, 'bench/e2e/reading.md'), 'utf8').trim();

// ------------------------------------------------------------------ main
async function main() {
  const started = Date.now();
  const m = machine();
  const runs = [];
  const loads = [];
  for (const replicas of REPLICAS) {
    const before = loadavg()[0];
    runs.push(await runStack(replicas));
    loads.push({ replicas, before, after: loadavg()[0] });
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
    process.stderr.write(`bench/e2e failed: ${e.stack || e.message}\n`);
    process.exit(1);
  },
);
