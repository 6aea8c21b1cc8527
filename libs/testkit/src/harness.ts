// Shared by the test harness (test/support/stack.ts) and the benches (bench/lib/stack.ts, bench/audit).
import { createServer } from 'node:net';
import { ALL_TOPICS } from '@countersign/contracts';

/** A TCP port free on 127.0.0.1 at the time of asking. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

/** The slice of a kafkajs `Kafka` client that positionGroupAtEnd uses (structural: the kit imports no Kafka). */
export interface KafkaClientLike {
  admin(): {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string }[]>;
  };
  consumer(config: { groupId: string; sessionTimeout: number }): {
    readonly events: { readonly GROUP_JOIN: string };
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    subscribe(subscription: { topics: string[]; fromBeginning: boolean }): Promise<void>;
    on(event: string, listener: () => void): unknown;
    run(config: { autoCommit: boolean; eachMessage: () => Promise<void> }): Promise<void>;
    commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  };
}

/**
 * Commits a fresh consumer group's offsets at the current end of every topic, so a service
 * started under it sees only what is published from now on (nothing from earlier runs).
 */
export async function positionGroupAtEnd(k: KafkaClientLike, groupId: string): Promise<void> {
  const admin = k.admin();
  await admin.connect();
  const ends = await Promise.all(
    ALL_TOPICS.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })),
  ).finally(() => admin.disconnect());
  // kafkajs' admin.resetOffsets leaves a member behind; a member that commits and leaves does not.
  const consumer = k.consumer({ groupId, sessionTimeout: 10000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...ALL_TOPICS], fromBeginning: false });
    const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()));
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    await consumer.commitOffsets(
      ends.flatMap(({ topic, partitions }) =>
        partitions.map((p) => ({ topic, partition: p.partition, offset: p.high })),
      ),
    );
  } finally {
    await consumer.disconnect();
  }
}
