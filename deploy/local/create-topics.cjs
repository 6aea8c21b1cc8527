#!/usr/bin/env node
// Creates every topic the stack uses (DLQs included) with 6 partitions, waiting for leaders.
// Idempotent: existing topics are left as they are. Needs `npm run build` (reads libs/contracts).
const { Kafka, logLevel } = require('kafkajs');
const { ALL_TOPICS } = require('@countersign/contracts');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const partitions = Number(process.env.KAFKA_PARTITIONS || 6);

async function main() {
  const kafka = new Kafka({
    clientId: 'countersign-topics',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = ALL_TOPICS.filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      });
    }
    console.log(`topics: ${ALL_TOPICS.length} present (${missing.length} created) on ${brokers.join(',')}`);
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(`could not create topics on ${brokers.join(',')}: ${e.message}`);
  process.exit(1);
});
