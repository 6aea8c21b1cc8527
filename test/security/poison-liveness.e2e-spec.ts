import { createHash, randomUUID } from 'node:crypto';
import { Topics, dlqTopic, type JobProposedV1 } from '@countersign/contracts';
import { waitUntil } from '@countersign/testkit';
import { publishRaw } from '../support/kafka-probe';
import { proposal } from '../support/fixtures';
import { SERVICE_NAMES } from '../support/stack';
import {
  CONSUMERS,
  TopicTail,
  startSecurityStack,
  type SecurityStack,
  type TailedMessage,
} from './support/security-stack';

/**
 * Liveness after poison, on the real broker and PostgreSQL: a job.proposed that no service can
 * canonicalise (1e309 and its kin, as raw bytes) must reach job.proposed.dlq from every consumer
 * with its reason, and the ordinary proposals after it, on the same key (so the same partition) and
 * on fresh keys, must all get their outcome within a bound. Before issue 15, the first such message
 * stalled its partition in three services for good.
 */

/** How long an ordinary proposal may take to get its outcome after a poison (a loaded CI machine included). */
const LIVENESS_BOUND_MS = 30000;

const now = () => new Date().toISOString();

/**
 * A job.proposed envelope around the given payload text, by concatenation: JSON.stringify can write
 * none of the hostile values below.
 */
const envelopeText = (jobId: string, payloadText: string) =>
  '{"event_id":"' +
  randomUUID() +
  '","type":"job.proposed","schema_version":1,"occurred_at":"' +
  now() +
  '","producer":"hostile-agent","data":{"job_id":"' +
  jobId +
  '","tenant":"globex","agent_id":"agent-1","topic":"job.repo.read","risk_tags":[],"payload":' +
  payloadText +
  ',"requested_by":"mallory","proposed_at":"' +
  now() +
  '"}}';

/** Each poison, as bytes, and the reason every consumer must give. */
const POISONS: [string, (jobId: string) => Buffer, RegExp][] = [
  ['1e309', (id) => Buffer.from(envelopeText(id, '{"n":1e309}')), /data\.payload\.n: number is not finite/],
  [
    '-1e309 in an array',
    (id) => Buffer.from(envelopeText(id, '{"n":[1,-1e309]}')),
    /data\.payload\.n\[1\]: number is not finite/,
  ],
  [
    '2^53 + 1',
    (id) => Buffer.from(envelopeText(id, '{"amount":9007199254740993}')),
    /data\.payload\.amount: number 9007199254740992 is beyond/,
  ],
  [
    'a duplicate key',
    (id) => Buffer.from(envelopeText(id, '{"amount":1,"amount":1000000}')),
    /data\.payload\.amount: duplicate key "amount"/,
  ],
  [
    'an escaped lone surrogate',
    (id) => Buffer.from(envelopeText(id, '{"s":"\\ud800"}')),
    /data\.payload\.s: string contains a lone UTF-16 surrogate/,
  ],
  [
    'invalid UTF-8',
    (id) => {
      const [head, tail] = envelopeText(id, '{"s":"@"}').split('@') as [string, string];
      return Buffer.concat([Buffer.from(head), Buffer.from([0xc3, 0x28]), Buffer.from(tail)]);
    },
    /not valid UTF-8/,
  ],
  [
    'a BOM',
    (id) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelopeText(id, '{}'))]),
    /byte order mark/,
  ],
  [
    '5,000-deep nesting',
    (id) => Buffer.from(envelopeText(id, `{"d":${'['.repeat(5000)}${']'.repeat(5000)}}`)),
    /nested deeper than 66 levels/,
  ],
];

interface Timing {
  poison: string;
  dlqMs: Record<string, number>;
  decidedMs: number;
  outcomeMs: number;
}

describe('poison cannot stall a partition (real broker and PostgreSQL)', () => {
  let stack: SecurityStack;
  const dlq = new TopicTail();
  const timings: Timing[] = [];
  let baseline: { decidedMs: number; outcomeMs: number } | undefined;

  const ordinary = (): JobProposedV1 =>
    proposal({ tenant: 'globex', topic: 'job.repo.read', risk_tags: [], payload: { repo: 'api', branch: 'main' } });

  /** Publishes an ordinary proposal under `key` and waits (the barrier) for its decision and outcome. */
  async function decided(p: JobProposedV1, key = p.data.job_id) {
    const sent = Date.now();
    const decision = stack.events
      .waitFor(Topics.DecisionMade, (m) => m.key === p.data.job_id, LIVENESS_BOUND_MS)
      .then(() => Date.now() - sent);
    const outcome = stack.outcome(p.data.job_id, LIVENESS_BOUND_MS).then((m) => ({ m, ms: Date.now() - sent }));
    await publishRaw(Topics.JobProposed, key, JSON.stringify(p));
    const [decidedMs, o] = await Promise.all([decision, outcome]);
    return { decidedMs, outcomeMs: o.ms, outcome: o.m };
  }

  /** Waits for the poison's DLQ record from every consumer of job.proposed, timing each from `sent`. */
  function dlqFromEveryConsumer(key: string, sent: number) {
    return Promise.all(
      CONSUMERS[Topics.JobProposed]!.map((consumer) =>
        dlq
          .waitFor(
            dlqTopic(Topics.JobProposed),
            (m) => m.key === key && m.headers['dlq-consumer'] === consumer,
            LIVENESS_BOUND_MS,
          )
          .then((m) => ({ consumer, m, ms: Date.now() - sent })),
      ),
    );
  }

  const expectOutcome = (m: TailedMessage) => expect(m.topic).toBe(Topics.JobExecuted);

  beforeAll(async () => {
    stack = await startSecurityStack('poison_liveness');
    await dlq.start([dlqTopic(Topics.JobProposed)]);
    // Every consumer group is live before the first poison: this one is decided and executed.
    baseline = await decided(ordinary());
  }, 240000);

  afterAll(async () => {
    if (timings.length) {
      const rows = timings.map((t) => ({
        poison: t.poison,
        ...Object.fromEntries(Object.entries(t.dlqMs).map(([c, ms]) => [`DLQ ${c} ms`, ms])),
        'next decided ms': t.decidedMs,
        'next outcome ms': t.outcomeMs,
      }));
      console.log(
        `poison liveness (baseline: decided ${baseline?.decidedMs} ms, outcome ${baseline?.outcomeMs} ms)\n` +
          rows.map((r) => JSON.stringify(r)).join('\n'),
      );
    }
    await dlq.stop();
    await stack?.stop();
  });

  it.each(POISONS)(
    'a proposal with %s goes to job.proposed.dlq from every consumer; the next proposal on its key gets its outcome',
    async (what, bytesFor, reason) => {
      const next = ordinary();
      const key = next.data.job_id;
      const poisonId = `poison-${randomUUID()}`;
      const bytes = bytesFor(poisonId);
      const sent = Date.now();
      const records = dlqFromEveryConsumer(key, sent);
      await publishRaw(Topics.JobProposed, key, bytes);
      // The ordinary proposal follows on the same key, so it sits behind the poison in its partition.
      const after = await decided(next, key);
      expectOutcome(after.outcome);

      const got = await records;
      for (const { consumer, m } of got) {
        expect(m.json).toMatchObject({
          consumer,
          source_topic: Topics.JobProposed,
          stage: 'message',
          error: expect.stringMatching(reason),
          // No raw bytes by default, but proof of which message it was.
          value_base64: null,
          value_sha256: createHash('sha256').update(bytes).digest('hex'),
          value_bytes: bytes.length,
        });
      }
      timings.push({
        poison: what,
        dlqMs: Object.fromEntries(got.map((g) => [g.consumer, g.ms])),
        decidedMs: after.decidedMs,
        outcomeMs: after.outcomeMs,
      });
    },
  );

  it('poisons on fresh keys leave every partition live: each later proposal on a fresh key gets its outcome', async () => {
    const poisonKeys = Array.from({ length: 6 }, () => `poison-${randomUUID()}`);
    const sent = Date.now();
    const records = poisonKeys.map((k) => dlqFromEveryConsumer(k, sent));
    for (const k of poisonKeys) await publishRaw(Topics.JobProposed, k, Buffer.from(envelopeText(k, '{"n":1e309}')));
    // Twelve fresh keys spread over the six partitions, so every partition a poison landed on is covered.
    const results = await Promise.all(Array.from({ length: 12 }, () => decided(ordinary())));
    for (const r of results) expectOutcome(r.outcome);
    const got = await Promise.all(records);
    for (const g of got) expect(g).toHaveLength(CONSUMERS[Topics.JobProposed]!.length);
    const slowest = (c: string) =>
      Math.max(
        ...got
          .flat()
          .filter((g) => g.consumer === c)
          .map((g) => g.ms),
      );
    timings.push({
      poison: '6 x 1e309 on fresh keys, then 12 proposals on fresh keys (slowest)',
      dlqMs: Object.fromEntries(CONSUMERS[Topics.JobProposed]!.map((c) => [c, slowest(c)])),
      decidedMs: Math.max(...results.map((r) => r.decidedMs)),
      outcomeMs: Math.max(...results.map((r) => r.outcomeMs)),
    });
  });

  it('no service retried a poison as transient, and every service is still ready', async () => {
    for (const name of SERVICE_NAMES) {
      const lines = stack.services.get(name)!.lines;
      const about = (prefix: string) =>
        lines.filter((l) => l['topic'] === Topics.JobProposed && String(l['msg']).startsWith(prefix));
      // Refused by the pure step, logged as poison, never handed to a handler that could retry it. The
      // log line reaches us through the child's stdout, which may trail its DLQ record on the broker.
      await waitUntil(() => about('poison message').length >= POISONS.length + 6, {
        what: `${name} logging ${POISONS.length + 6} poison messages`,
        timeout: 10_000,
      });
      expect(about('transient I/O failure')).toEqual([]);
      // Nothing valid was sent to the DLQ on the way (every valid proposal here can succeed).
      expect(about('permanent failure')).toEqual([]);
    }
    expect(await stack.allReady()).toEqual(Object.fromEntries(SERVICE_NAMES.map((n) => [n, 200])));
  });
});
