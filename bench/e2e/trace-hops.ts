#!/usr/bin/env node
// Where a job's time goes between processes: attaches to a running stack's broker (default the e2e
// bench's private one) and, for every job, records when each event was created by its service
// (`occurred_at`), when the broker stamped it (the producer's send time) and when it arrived here.
// Prints the medians and p99s of each hop after --seconds. Use beside `node bench/e2e/run.ts`.
//   node bench/e2e/trace-hops.ts [--brokers 127.0.0.1:39092] [--seconds 60] [--skip 5]
import { writeFileSync } from 'node:fs';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const args = process.argv.slice(2);
const opt = (n: string, d: string): string => (args.includes(`--${n}`) ? (args[args.indexOf(`--${n}`) + 1] ?? d) : d);
const brokers = opt('brokers', '127.0.0.1:39092').split(',');
const seconds = Number(opt('seconds', '60'));
const TOPICS = ['job.proposed', 'decision.made', 'job.executed'];
/** The hops of a job's way through the stack that the trace reports, in order. */
type Hop =
  | 'proposal: SDK created -> broker stamped'
  | 'proposal: broker -> here'
  | 'proposal broker -> decision created (policy-decision)'
  | 'decision: created -> broker stamped'
  | 'decision broker -> job.executed created (execution-binding, incl. executor call)'
  | 'job.executed: created -> broker stamped (outbox relay)'
  | 'job.executed: broker -> here (consumer fetch)'
  | 'total: proposal created -> job.executed seen here';
/** When an event was created by its service, stamped by the broker and seen here (ms since the epoch). */
interface Stamps {
  created: number;
  stamped: number;
  seen: number;
}
const jobs = new Map<string, Partial<Record<string, Stamps>>>();
const q = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
void (async () => {
  const kafka = new Kafka({ clientId: 'trace-hops', brokers, logLevel: logLevel.NOTHING });
  for (;;) {
    try {
      const admin = kafka.admin();
      await admin.connect();
      const have = await admin.listTopics();
      await admin.disconnect();
      if (TOPICS.every((t) => have.includes(t))) break;
    } catch {
      // the broker or the topics are not there yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const consumer = kafka.consumer({ groupId: `trace-hops-${process.pid}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: TOPICS, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const now = Date.now();
      let e: { occurred_at?: string; data?: { job_id?: string } } | undefined;
      try {
        e = JSON.parse(message.value?.toString() ?? '') as typeof e;
      } catch {
        return;
      }
      const id = e?.data?.job_id;
      if (!id) return;
      const j = jobs.get(id) ?? {};
      j[topic] = { created: Date.parse(e?.occurred_at ?? ''), stamped: Number(message.timestamp), seen: now };
      jobs.set(id, j);
    },
  });
  process.stderr.write(`trace-hops: listening on ${brokers} for ${seconds} s\n`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await consumer.disconnect();
  const hops: Record<Hop, number[]> = {
    'proposal: SDK created -> broker stamped': [],
    'proposal: broker -> here': [],
    'proposal broker -> decision created (policy-decision)': [],
    'decision: created -> broker stamped': [],
    'decision broker -> job.executed created (execution-binding, incl. executor call)': [],
    'job.executed: created -> broker stamped (outbox relay)': [],
    'job.executed: broker -> here (consumer fetch)': [],
    'total: proposal created -> job.executed seen here': [],
  };
  let n = 0;
  for (const j of jobs.values()) {
    const p = j['job.proposed'];
    const d = j['decision.made'];
    const x = j['job.executed'];
    if (!p || !d || !x) continue;
    n++;
    hops['proposal: SDK created -> broker stamped'].push(p.stamped - p.created);
    hops['proposal: broker -> here'].push(p.seen - p.stamped);
    hops['proposal broker -> decision created (policy-decision)'].push(d.created - p.stamped);
    hops['decision: created -> broker stamped'].push(d.stamped - d.created);
    hops['decision broker -> job.executed created (execution-binding, incl. executor call)'].push(
      x.created - d.stamped,
    );
    hops['job.executed: created -> broker stamped (outbox relay)'].push(x.stamped - x.created);
    hops['job.executed: broker -> here (consumer fetch)'].push(x.seen - x.stamped);
    hops['total: proposal created -> job.executed seen here'].push(x.seen - p.created);
  }
  console.log(`${n} jobs with all three events`);
  if (process.env.TRACE_HOPS_DUMP) writeFileSync(process.env.TRACE_HOPS_DUMP, JSON.stringify(Object.fromEntries(jobs)));
  for (const [k, v] of Object.entries(hops))
    console.log(`${k.padEnd(84)} p50 ${String(q(v, 0.5)).padStart(6)} ms  p99 ${String(q(v, 0.99)).padStart(6)} ms`);
  process.exit(0);
})();
