import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaConfig, type Producer } from 'kafkajs';

export interface TransportOptions {
  brokers: string[];
  clientId: string;
  /** Extra kafkajs settings (ssl, sasl, retry, logLevel, ...). */
  kafka?: Partial<KafkaConfig>;
  /** How long the consumer may take to join its group. */
  startTimeoutMs?: number;
}

export type MessageHandler = (topic: string, value: Buffer | null) => void;

/**
 * The SDK's only contact with kafkajs: an idempotent producer, and one consumer per SDK instance on
 * the outcome topics in its own throwaway group (no offsets committed), started so that nothing
 * published after `start()` returns can be missed: the end offsets are read first, and once the
 * group is joined every partition is sought back to them.
 */
export class KafkaTransport {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;

  constructor(private readonly opts: TransportOptions) {
    this.kafka = new Kafka({ clientId: opts.clientId, brokers: opts.brokers, logLevel: logLevel.ERROR, ...opts.kafka });
  }

  async start(topics: readonly string[], onMessage: MessageHandler): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const startAt = new Map<string, { partition: number; offset: string }[]>();
    try {
      for (const topic of topics)
        startAt.set(
          topic,
          (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high })),
        );
    } finally {
      await admin.disconnect();
    }
    const consumer = this.kafka.consumer({
      groupId: `${this.opts.clientId}-${randomUUID()}`,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: false });
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`consumer did not join within ${this.opts.startTimeoutMs ?? 30000} ms`)),
        this.opts.startTimeoutMs ?? 30000,
      );
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const from = startAt.get(topic)?.find((p) => p.partition === partition)?.offset;
        if (from !== undefined && BigInt(message.offset) < BigInt(from)) return;
        onMessage(topic, message.value);
      },
    });
    await joined;
    for (const [topic, partitions] of startAt)
      for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.offset });
  }

  async publish(topic: string, key: string, value: string, headers: Record<string, string>): Promise<void> {
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
    }
    await this.producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect()]);
    this.consumer = undefined;
    this.producer = undefined;
  }
}
