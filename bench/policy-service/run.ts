#!/usr/bin/env node
// The policy-decision service, Kafka in, Kafka out: proposals published to job.proposed, the signed
// decision.made read back. On a private broker (bench/lib/stack.ts), the built service, one replica.
//   1. throughput: a burst of 20,000 proposals published as fast as the producer goes; proposals/s decided;
//   2. latency: proposals at fixed rates (100/s, 500/s, 1,000/s, 10 s each); for each, the time from
//      its send to its decision.made arriving at a consumer here, p50/p95/p99;
// Build first (npx tsc -b tsconfig.build.json), then:
//   node bench/policy-service/run.ts [--rates 100,500,1000] [--seconds 10] [--burst 20000] [--no-report]
// Writes its section of bench/reports/policy.md (between the policy-service markers; the engine
// bench, bench/policy, writes the rest of that file).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import kafkajs, { type Message } from 'kafkajs';
import {
  BROKERS,
  ROOT,
  configureBroker,
  fmt,
  machine,
  makeKeys,
  quantile,
  sleep,
  startBroker,
  startService,
  stopBroker,
  usage,
} from '../lib/stack.ts';

if (!existsSync(join(ROOT, 'services/policy-decision/dist/src/main.js'))) {
  process.stderr.write('bench/policy-service: run `npx tsc -b tsconfig.build.json` first\n');
  process.exit(2);
}
const { Kafka, logLevel } = kafkajs;

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const RATES = opt('rates', '100,500,1000').split(',').map(Number);
const SECONDS = Number(opt('seconds', '10'));
const BURST = Number(opt('burst', '20000'));
const log = (s: string): boolean => process.stdout.write(`[bench/policy-service] ${s}\n`);
configureBroker({
  port: Number(process.env.BENCH_KAFKA_PORT || 39292),
  stateDir: join(ROOT, 'deploy/local/.kafka/bench-policy'),
});

// The seed policy's tiers, in a fixed pattern: reads, egress, production writes, payments, uncovered.
const SHAPES = [
  { topic: 'job.repo.read', risk_tags: [] },
  { topic: 'job.repo.read', risk_tags: [] },
  { topic: 'job.repo.read', risk_tags: [] },
  { topic: 'job.web.fetch', risk_tags: ['egress'] },
  { topic: 'job.config.update', risk_tags: ['prod', 'write'] },
  { topic: 'job.payment.transfer', risk_tags: ['payment'] },
  { topic: 'job.misc.thing', risk_tags: ['other'] },
];
let n = 0;
function proposal(): { jobId: string; message: Message } {
  const i = n++;
  const shape = SHAPES[i % SHAPES.length] as (typeof SHAPES)[number];
  const jobId = `job-${randomUUID()}`;
  const now = new Date().toISOString();
  const event = {
    event_id: randomUUID(),
    type: 'job.proposed',
    schema_version: 1,
    occurred_at: now,
    producer: 'bench-agent',
    data: {
      job_id: jobId,
      tenant: 'bench',
      agent_id: `bench-agent-${i % 4}`,
      topic: shape.topic,
      risk_tags: shape.risk_tags,
      payload: { key: `feature.${i}`, value: true, note: 'x'.repeat(200) },
      summary: { title: `Bench proposal ${i}` },
      requested_by: 'owner@bench.example',
      proposed_at: now,
    },
  };
  return {
    jobId,
    message: {
      key: jobId,
      value: JSON.stringify(event),
      headers: {
        'event-id': event.event_id,
        'event-type': 'job.proposed',
        'schema-version': '1',
        'content-type': 'application/json',
      },
    },
  };
}

async function main() {
  const started = Date.now();
  const m = machine();
  const loadBefore = loadavg()[0] ?? NaN;
  log(`private broker on ${BROKERS}`);
  await startBroker();
  const keys = makeKeys();
  const svc = await startService('policy-decision', 0, {
    ...keys.env,
    APPROVER_JWT_SECRET: keys.jwtSecret,
    POLICY_DIR: join(ROOT, 'policies'),
    KAFKA_GROUP_ID: 'policy-decision',
  });
  const kafka = new Kafka({ clientId: 'bench-policy-service', brokers: [BROKERS], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sentAt = new Map<string, number>();
  const gotAt = new Map<string, number>();
  const decisions: Record<string, number> = {};
  const consumer = kafka.consumer({ groupId: `bench-policy-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: ['decision.made'], fromBeginning: false });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachMessage: async ({ message }) => {
      const t = performance.now();
      const d = (JSON.parse(message.value?.toString() ?? '{}') as { data: { job_id: string; decision: string } }).data;
      if (!gotAt.has(d.job_id)) {
        gotAt.set(d.job_id, t);
        decisions[d.decision] = (decisions[d.decision] ?? 0) + 1;
      }
    },
  });
  await joined;
  const waitFor = async (ids: readonly string[], ms: number): Promise<boolean> => {
    const deadline = performance.now() + ms;
    while (ids.some((id) => !gotAt.has(id))) {
      if (performance.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  };

  // Warm-up: the service's group has its partitions, the JIT is warm.
  const warm = Array.from({ length: 500 }, proposal);
  for (const p of warm) sentAt.set(p.jobId, performance.now());
  await producer.send({ topic: 'job.proposed', acks: -1, messages: warm.map((p) => p.message) });
  if (
    !(await waitFor(
      warm.map((p) => p.jobId),
      120000,
    ))
  )
    throw new Error('warm-up decisions did not arrive in 120 s');
  log('warm-up done');

  // Throughput first: a burst published as fast as the producer goes (it also warms the broker's
  // and the service's JIT, which a fresh JVM needs before its latency means anything).
  const burst = Array.from({ length: BURST }, proposal);
  const cpu0 = usage(svc.pid).cpu;
  const t0 = performance.now();
  for (let i = 0; i < burst.length; i += 1000) {
    const chunk = burst.slice(i, i + 1000);
    const now = performance.now();
    for (const p of chunk) sentAt.set(p.jobId, now);
    await producer.send({ topic: 'job.proposed', acks: -1, messages: chunk.map((p) => p.message) });
  }
  const publishedMs = performance.now() - t0;
  const ok = await waitFor(
    burst.map((p) => p.jobId),
    600000,
  );
  const lastAt = Math.max(...burst.map((p) => gotAt.get(p.jobId) ?? NaN).filter(Number.isFinite));
  const burstMs = lastAt - t0;
  const burstCpu = usage(svc.pid).cpu - cpu0;
  const rss = usage(svc.pid).rssMiB;
  log(`burst: ${BURST} decided in ${fmt(burstMs / 1000, 1)} s = ${fmt((BURST * 1000) / burstMs)}/s`);

  const latency = [];
  for (const rate of RATES) {
    const ids = [];
    const total = rate * SECONDS;
    const t0 = performance.now();
    const cpu0 = usage(svc.pid).cpu;
    while (ids.length < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      const batch: ReturnType<typeof proposal>[] = [];
      while (ids.length + batch.length < due) batch.push(proposal());
      if (batch.length) {
        const now = performance.now();
        for (const p of batch) sentAt.set(p.jobId, now);
        ids.push(...batch.map((p) => p.jobId));
        await producer.send({ topic: 'job.proposed', acks: -1, messages: batch.map((p) => p.message) });
      }
      await sleep(2);
    }
    const sendSecs = (performance.now() - t0) / 1000;
    const ok = await waitFor(ids, 60000);
    const cpu = ((usage(svc.pid).cpu - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    const lat = ids
      .filter((id) => gotAt.has(id))
      .map((id) => (gotAt.get(id) ?? NaN) - (sentAt.get(id) ?? NaN))
      .sort((a, b) => a - b);
    latency.push({
      rate,
      sent: ids.length,
      sentRate: ids.length / sendSecs,
      decided: lat.length,
      ok,
      p50: quantile(lat, 0.5),
      p95: quantile(lat, 0.95),
      p99: quantile(lat, 0.99),
      max: lat[lat.length - 1],
      cpu,
    });
    log(
      `${rate}/s: ${lat.length}/${ids.length} decided, p50/p99 ${fmt(quantile(lat, 0.5), 1)}/${fmt(quantile(lat, 0.99), 1)} ms`,
    );
  }

  await consumer.disconnect();
  await producer.disconnect();
  await svc.stop();
  stopBroker();

  const section = `<!-- policy-service:start -->
## The service: proposals through Kafka (\`bench/policy-service\`)

Produced by \`node bench/policy-service/run.ts\` on ${m.date} UTC (${fmt((Date.now() - started) / 1000)} s): ${m.cpu}, ${m.nproc} vCPUs; Node ${m.node};
Kafka 4.4 on the same machine (a private broker for the bench), the built \`policy-decision\` service (one replica,
\`LOG_LEVEL=warn\`), the producer and the consumer that measure, all on these ${m.nproc} vCPUs. 1-minute load average
${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? NaN).toFixed(1)} after. Proposals follow the seed policy's tiers in a fixed pattern
(3 reads, 1 egress, 1 production write, 1 payment, 1 uncovered in 7); decisions seen: ${Object.entries(decisions)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ')}.
Latency is from the producer's send to the signed \`decision.made\` arriving at the bench's consumer (both hops
through the broker, \`acks=all\`).

| offered | sent/s | decided | p50 | p95 | p99 | max | service CPU |
|---:|---:|---:|---:|---:|---:|---:|---:|
${latency.map((l) => `| ${fmt(l.rate)}/s | ${fmt(l.sentRate)} | ${fmt(l.decided)}/${fmt(l.sent)} | ${fmt(l.p50, 1)} ms | ${fmt(l.p95, 1)} ms | ${fmt(l.p99, 1)} ms | ${fmt(l.max, 0)} ms | ${fmt(l.cpu)} % |`).join('\n')}

Throughput: **${fmt((BURST * 1000) / burstMs)} proposals/s** decided (${fmt(BURST)} published in ${fmt(publishedMs / 1000, 1)} s, the last decision
${fmt(burstMs / 1000, 1)} s after the first send${ok ? '' : '; **not all arrived**'}); the service used ${fmt((burstCpu * 1e6) / BURST)} µs of CPU per
proposal (${fmt(burstCpu, 1)} CPU-s), RSS ${fmt(rss)} MiB at the end.
<!-- policy-service:end -->
`;
  if (args.includes('--no-report')) {
    process.stdout.write(section);
    return;
  }
  const path = join(ROOT, 'bench/reports/policy.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Policy benchmark\n';
  const re = /<!-- policy-service:start -->[\s\S]*<!-- policy-service:end -->\n?/;
  writeFileSync(path, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}`);
  log('section written to bench/reports/policy.md');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench/policy-service failed: ${(e as Error).stack || (e as Error).message}\n`);
    process.exit(1);
  },
);
