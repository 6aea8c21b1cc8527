import { randomUUID } from 'node:crypto';
import { BatchServerKafka } from '@countersign/service-kit';
import { waitUntil } from '@countersign/testkit';
import { Logger } from '@nestjs/common';
import type { KafkaContext } from '@nestjs/microservices';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { KAFKA_BROKERS, kafka as testKafka } from '../support/stack';

/**
 * Consumer offsets are committed on an interval, in one request, not after every batch (kafkajs
 * commits after each `eachBatch` whatever `autoCommitInterval` says), and what was handled is
 * committed before the consumer leaves. On the real broker.
 */
describe('batch consumer: offsets committed on an interval and on close', () => {
  let kafka: Kafka;
  let admin: Admin;
  const servers: BatchServerKafka[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(['error', 'warn']);
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
    await admin.disconnect();
  });

  /** A new topic with `partitions` partitions, and a group id no member has used yet. */
  async function freshTopicAndGroup(partitions: number): Promise<{ topic: string; groupId: string }> {
    const topic = `spec.commits.${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    return { topic, groupId: `spec-commits-${randomUUID().slice(0, 8)}` };
  }

  async function produce(topic: string, n: number, from = 0): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    // Several requests, so the consumer sees several batches.
    for (let i = from; i < from + n; i += 10)
      await producer.send({
        topic,
        messages: Array.from({ length: Math.min(10, from + n - i) }, (_, k) => ({
          key: `k${i + k}`,
          value: Buffer.from(`m${i + k}`),
        })),
      });
    await producer.disconnect();
  }

  /** Starts a consumer group member; `handled` collects `partition:offset` of every message handled. */
  async function member(topic: string, groupId: string, commitIntervalMs: number) {
    const handled: string[] = [];
    let commits = 0;
    const server = new BatchServerKafka(
      {
        client: { clientId: groupId, brokers: KAFKA_BROKERS.split(','), logLevel: 0 },
        consumer: { groupId, maxWaitTimeInMs: 200, allowAutoTopicCreation: false },
        postfixId: '',
        subscribe: { fromBeginning: true },
        parser: { keepBinary: true },
        run: { partitionsConsumedConcurrently: 3 },
      },
      { concurrency: 8, commitIntervalMs },
    );
    server.addHandler(
      topic,
      async (_data: unknown, ctx: KafkaContext) => {
        handled.push(`${ctx.getPartition()}:${ctx.getMessage().offset}`);
      },
      true,
    );
    servers.push(server);
    await new Promise<void>((resolve, reject) => void server.listen((err) => (err ? reject(err) : resolve())));
    const [, consumer] = server.unwrap<[Kafka, Consumer]>();
    consumer.on(consumer.events.COMMIT_OFFSETS, () => commits++);
    return { server, handled, commits: () => commits };
  }

  /** Waits (30 s at most) until the count of messages `m` handled satisfies `done`. */
  const handledUntil = (m: { handled: string[] }, done: (count: number) => boolean, what: string) =>
    waitUntil(() => done(m.handled.length), { what, timeout: 30000, every: 25 });

  const committed = async (groupId: string, topic: string): Promise<number[]> => {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return t!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  };

  it('commits nothing between intervals, however many batches, and everything handled on close', async () => {
    const { topic, groupId } = await freshTopicAndGroup(1);
    const m = await member(topic, groupId, 60_000);
    await produce(topic, 100);
    await handledUntil(m, (n) => n === 100, 'the 100 messages are handled');
    // A barrier: on one partition the next batch starts only after the previous one finished,
    // including the per-batch commit kafkajs would make.
    await produce(topic, 1, 100);
    await handledUntil(m, (n) => n === 101, 'the marker is handled');
    expect(m.commits()).toBe(0);
    expect(await committed(groupId, topic)).toEqual([-1]);

    await m.server.close();
    expect(await committed(groupId, topic)).toEqual([101]);
    expect(m.commits()).toBe(1);
  });

  it('commits every partition it handled when the interval comes', async () => {
    const { topic, groupId } = await freshTopicAndGroup(3);
    const m = await member(topic, groupId, 200);
    await produce(topic, 90);
    await handledUntil(m, (n) => n === 90, 'the 90 messages are handled');
    const ends = (await admin.fetchTopicOffsets(topic))
      .sort((a, b) => a.partition - b.partition)
      .map((p) => Number(p.offset));
    expect(ends.reduce((a, b) => a + b, 0)).toBe(90);
    await waitUntil(
      async () => {
        const c = await committed(groupId, topic);
        return c.every((o, i) => o === ends[i]);
      },
      { what: 'the handled offsets are committed', timeout: 30000, every: 25 },
    );
    expect(new Set(m.handled).size).toBe(90);
  });

  it('a member that joins later starts where the first one committed on leaving', async () => {
    const { topic, groupId } = await freshTopicAndGroup(3);
    const first = await member(topic, groupId, 60_000);
    await produce(topic, 60);
    await handledUntil(first, (n) => n === 60, 'the first member handled 60');
    await first.server.close();
    const second = await member(topic, groupId, 60_000);
    await produce(topic, 30, 60);
    await handledUntil(second, (n) => n >= 30, 'the second member handled the 30 new messages');
    expect(second.handled.filter((h) => first.handled.includes(h))).toEqual([]);
    expect(second.handled).toHaveLength(30);
  });
});
