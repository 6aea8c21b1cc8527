// Shared by the benches (bench/lib/stack.ts, bench/audit) and the test harness (test/support/stack.ts).
// Jest loads this file as CommonJS and Node as an ES module, so it uses neither import.meta nor
// __dirname, and imports only packages (no relative .ts paths).
import { createServer } from 'node:net';
import type { Kafka } from 'kafkajs';
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

/**
 * Commits a fresh consumer group's offsets at the current end of every topic, so a service
 * started under it sees only what is published from now on (nothing from earlier runs).
 */
export async function positionGroupAtEnd(k: Kafka, groupId: string): Promise<void> {
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
