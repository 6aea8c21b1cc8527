import { Topics, dlqTopic, parseEvent, type JobProposedV1, type Topic } from '@countersign/contracts';
import { waitUntil } from '@countersign/testkit';
import type { Message, Producer } from 'kafkajs';
import { proposal } from '../support/fixtures';
import { kafka, type ServiceName } from '../support/stack';
import { fuzzMessages, type FuzzMessage } from './support/fuzz-messages';
import {
  ALL_READY,
  CONSUMERS,
  TopicTail,
  eventually,
  startSecurityStack,
  type SecurityStack,
  type TailedMessage,
} from './support/security-stack';

const MAX_MESSAGE_BYTES = 65536;
const SEED = Number(process.env['SECURITY_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const COUNT = Number(process.env['SECURITY_FUZZ_COUNT'] ?? 10000);
const PARTITIONS = 6;
/** Stands for an object nested 10,000 deep, spliced into the JSON text (JSON.stringify itself overflows on it). */
const DEEP = '@@deep@@';
const serialize = (p: JobProposedV1) =>
  JSON.stringify(p).replace(`"${DEEP}"`, `${'{"d":'.repeat(10000)}true${'}'.repeat(10000)}`);

/**
 * 10,000 fuzzed Kafka messages (random bytes, wrong types, nulls, huge fields, deep nesting,
 * truncated JSON, SQL metacharacters) over every consumed topic, then valid events with hostile
 * content. Every service must refuse each fuzzed message into `<topic>.dlq` with a reason, stay up,
 * and keep every partition moving. Reproduce a failure with SECURITY_FUZZ_SEED=<the printed seed>.
 */
describe('fuzzed Kafka messages', () => {
  let stack: SecurityStack;
  let producer: Producer;
  const dlq = new TopicTail();
  const allowed = new Set<string>();

  const dlqFor = (consumer: ServiceName, key: string): TailedMessage | undefined =>
    dlq.messages.find((m) => m.key === key && m.headers['dlq-consumer'] === consumer);
  const send = (topic: string, messages: Message[]) => producer.send({ topic, acks: -1, messages });
  const readJob = (payload: Record<string, unknown>, extra: Partial<JobProposedV1['data']> = {}) =>
    proposal({ tenant: 'globex', topic: 'job.repo.read', risk_tags: [], payload, ...extra });
  const gatedJob = (payload: Record<string, unknown>, extra: Partial<JobProposedV1['data']> = {}) =>
    proposal({ tenant: 'globex', topic: 'job.config.update', risk_tags: ['prod', 'write'], payload, ...extra });
  const pendingIds = async (): Promise<Set<string>> => {
    const res = await fetch(`${stack.url('approval-queue')}/api/v1/approvals?limit=200`, {
      headers: { authorization: `Bearer ${await stack.token('bob', ['service-owner'], { tenants: ['globex'] })}` },
    });
    const page = (await res.json()) as { items: { job: { id: string } }[] };
    return new Set(page.items.map((i) => i.job.id));
  };

  beforeAll(async () => {
    process.stdout.write(`fuzz seed ${SEED} (reproduce with SECURITY_FUZZ_SEED=${SEED}), ${COUNT} messages\n`);
    stack = await startSecurityStack('sec_fuzz', { env: { MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
    await dlq.start(Object.keys(CONSUMERS).map(dlqTopic));
    producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }, 240000);

  afterAll(async () => {
    await producer?.disconnect();
    await dlq.stop();
    await stack?.stop();
  });

  it(`refuses a valid event over MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES}) by size, before parsing, in every consumer`, async () => {
    const big = readJob({ blob: 'x'.repeat(100 * 1024) });
    const bytes = Buffer.byteLength(JSON.stringify(big));
    await send(Topics.JobProposed, [{ key: big.data.job_id, value: JSON.stringify(big) }]);
    for (const consumer of CONSUMERS[Topics.JobProposed]!) {
      const record = await eventually(`${consumer} DLQ record`, async () => dlqFor(consumer, big.data.job_id));
      expect(record.json).toMatchObject({
        source_topic: Topics.JobProposed,
        consumer,
        error: expect.stringContaining(
          `message is ${bytes} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit (MAX_MESSAGE_BYTES)`,
        ),
      });
    }
    expect(stack.events.forJob(Topics.DecisionMade, big.data.job_id)).toEqual([]);
    expect(stack.callsFor(big.data.job_id)).toEqual([]);
  });

  it(`sends each of ${COUNT} fuzzed messages to the DLQ of every consuming service, with a reason`, async () => {
    const messages = fuzzMessages(SEED, COUNT, MAX_MESSAGE_BYTES);
    await publishAll(messages);

    const expected = messages.flatMap((m) => CONSUMERS[m.topic]!.map((consumer) => ({ m, consumer })));
    const seen = () => {
      const keys = new Set(dlq.messages.map((d) => `${d.headers['dlq-consumer']}|${d.key}`));
      return expected.filter((e) => !keys.has(`${e.consumer}|${e.m.key}`));
    };
    // Until every consumer refused every message; what is still missing after 4 minutes is reported below.
    await waitUntil(() => seen().length === 0, {
      what: 'every consumer refusing every fuzzed message',
      timeout: 240000,
      every: 2000,
    }).catch(() => undefined);
    const missing = seen();
    const perService: Record<string, { expected: number; refused: number }> = {};
    for (const e of expected) {
      perService[e.consumer] ??= { expected: 0, refused: 0 };
      perService[e.consumer]!.expected++;
    }
    for (const e of expected) if (!missing.includes(e)) perService[e.consumer]!.refused++;
    process.stdout.write(`fuzz seed ${SEED}: DLQ records per consuming service ${JSON.stringify(perService)}\n`);
    expect(
      missing.slice(0, 5).map((e) => `${e.consumer} never refused ${e.m.key} (${e.m.topic}, ${e.m.kind})`),
    ).toEqual([]);

    // Each record names its source and a reason, and the size refusals say so.
    const byKey = new Map(messages.map((m) => [m.key, m]));
    for (const d of dlq.messages) {
      const m = d.key ? byKey.get(d.key) : undefined;
      if (!m) continue;
      expect(d.topic).toBe(dlqTopic(m.topic));
      const error = String(d.json?.['error'] ?? '');
      expect(error.length).toBeGreaterThan(0);
      if (m.refusal === 'size')
        expect(error).toMatch(/^message is \d+ bytes, over the 65536-byte limit \(MAX_MESSAGE_BYTES\)/);
      else expect(error).not.toMatch(/MAX_MESSAGE_BYTES/);
    }
    // None of it became a decision, an outcome or a call: every message the probe saw under a fuzz key is a fuzzed one.
    const keys = new Set(messages.map((m) => m.key));
    const produced = stack.events.messages.filter(
      (p) => p.key !== null && keys.has(p.key) && parseEvent(p.topic as Topic, p.value).ok,
    );
    expect(produced.map((p) => `${p.topic} ${p.key}`)).toEqual([]);
    expect(stack.calls.filter((c) => keys.has(c.jobId))).toEqual([]);
    expect(await stack.allReady()).toEqual(ALL_READY);
  }, 400000);

  it('ends valid events with hostile content in the end the shared rule gives: refused, DENIED or run', async () => {
    // dlq: every consumer refuses it with this reason; denied: job.blocked DENIED; runs: executed, or queued when gated.
    type End = { dlq: RegExp } | 'denied' | 'runs';
    const hostile: [string, JobProposedV1, End][] = [
      ['a payload nested 10,000 deep', readJob({ deep: DEEP }), { dlq: /nested deeper than/ }],
      ['a NUL character in the payload', readJob({ text: 'a\u0000b' }), { dlq: /NUL/ }],
      ['a lone surrogate in the payload', readJob({ text: 'a\ud800b' }), { dlq: /lone UTF-16 surrogate/ }],
      [
        'a NUL character in the summary',
        readJob({ ok: true }, { summary: { title: 'nul \u0000 title' } }),
        { dlq: /summary\.title: string contains a NUL/ },
      ],
      [
        '__proto__ and constructor keys',
        readJob(
          JSON.parse('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}') as Record<string, unknown>,
        ),
        'denied',
      ],
      ['a payload just under the size limit', readJob({ blob: 'y'.repeat(60 * 1024) }), 'runs'],
    ];
    const gated = hostile.map(
      ([what, p, end]) => [what, gatedJob(p.data.payload, { summary: p.data.summary }), end] as const,
    );
    for (const [, p] of [...hostile, ...gated])
      await send(Topics.JobProposed, [{ key: p.data.job_id, value: serialize(p) }]);

    const outcomeOf = (jobId: string) =>
      stack.events.forJob(Topics.JobExecuted, jobId)[0] ?? stack.events.forJob(Topics.JobBlocked, jobId)[0];
    for (const [what, p, end] of [...hostile, ...gated]) {
      const id = p.data.job_id;
      const isGated = p.data.topic === 'job.config.update';
      if (typeof end === 'object') {
        for (const consumer of CONSUMERS[Topics.JobProposed]!) {
          const record = await eventually(`${what}: ${consumer} DLQ record`, async () => dlqFor(consumer, id), 60000);
          expect(String(record.json?.['error'])).toMatch(end.dlq);
        }
        expect(outcomeOf(id)).toBeUndefined();
      } else if (end === 'denied') {
        const blocked = await stack.outcome(id, 60000);
        expect([blocked.topic, (blocked.json?.['data'] as { reason_code?: string }).reason_code]).toEqual([
          Topics.JobBlocked,
          'DENIED',
        ]);
      } else if (isGated) {
        await eventually(`${what}: queued`, async () => ((await pendingIds()).has(id) ? true : undefined), 60000);
      } else {
        allowed.add(id);
        expect((await stack.outcome(id, 60000)).topic).toBe(Topics.JobExecuted);
      }
    }
    expect(await stack.allReady()).toEqual(ALL_READY);
  }, 300000);

  it('keeps every partition of every consumer moving: a normal job per partition still goes through', async () => {
    const reads = Array.from({ length: PARTITIONS }, (_, n) => readJob({ partition: n }));
    const gated = Array.from({ length: PARTITIONS }, (_, n) => gatedJob({ partition: n }));
    for (const [n, p] of reads.entries())
      await send(Topics.JobProposed, [{ key: p.data.job_id, value: JSON.stringify(p), partition: n }]);
    for (const [n, p] of gated.entries())
      await send(Topics.JobProposed, [{ key: p.data.job_id, value: JSON.stringify(p), partition: n }]);
    for (const p of reads) {
      allowed.add(p.data.job_id);
      expect((await stack.outcome(p.data.job_id, 90000)).topic).toBe(Topics.JobExecuted);
      expect(stack.callsFor(p.data.job_id)).toHaveLength(1);
    }
    await eventually(
      'every gated job queued',
      async () => {
        const ids = await pendingIds();
        return gated.every((p) => ids.has(p.data.job_id)) ? true : undefined;
      },
      90000,
    );
    const auditor = `Bearer ${await stack.token('erin', ['auditor'])}`;
    for (const p of reads) {
      await eventually(
        `audit timeline of ${p.data.job_id}`,
        async () => {
          const res = await fetch(`${stack.url('audit')}/api/v1/jobs/${p.data.job_id}/timeline`, {
            headers: { authorization: auditor },
          });
          const body = (await res.json()) as { outcome?: string };
          return body.outcome === 'executed' ? true : undefined;
        },
        90000,
      );
    }
    expect(await stack.allReady()).toEqual(ALL_READY);
    expect(stack.calls.filter((c) => !allowed.has(c.jobId))).toEqual([]);
  }, 300000);

  /** Publishes in requests of at most ~256 KiB, so no record batch reaches the broker's 1 MiB limit. */
  async function publishAll(messages: FuzzMessage[]): Promise<void> {
    const headers = (m: FuzzMessage) =>
      m.index % 7 === 0 ? { 'event-type': Buffer.from([0xff, 0xfe]), junk: 'x'.repeat(m.index % 300) } : {};
    let batch: FuzzMessage[] = [];
    let bytes = 0;
    const flush = async () => {
      if (!batch.length) return;
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...new Set(batch.map((m) => m.topic))].map((topic) => ({
          topic,
          messages: batch
            .filter((m) => m.topic === topic)
            .map((m) => ({ key: m.key, value: m.value, headers: headers(m) })),
        })),
      });
      batch = [];
      bytes = 0;
    };
    for (const m of messages) {
      const size = m.value?.length ?? 0;
      if (bytes + size > 256 * 1024) await flush();
      batch.push(m);
      bytes += size;
    }
    await flush();
  }
});
