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

interface OutgoingMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

interface QueuedSend {
  topic: string;
  message: OutgoingMessage;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Most proposals in one coalesced produce request (well under the broker's 1 MiB batch limit for small ones). */
const MAX_COALESCED = 500;
const MAX_COALESCED_BYTES = 512 * 1024;

/**
 * The SDK's only contact with kafkajs: an idempotent producer, and one consumer per SDK instance on
 * the outcome topics in its own throwaway group (no offsets committed), started so that nothing
 * published after `start()` returns can be missed: the end offsets are read first, and once the
 * group is joined every partition is sought back to them.
 */
export class KafkaTransport {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private consumer: Consumer | undefined;
  private queue: QueuedSend[] = [];
  private flushing = false;

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
      // Outcomes are spread over every partition of three topics; handling them one partition at a
      // time put a fetch's other partitions behind each other (the handler is a cheap sync call).
      partitionsConsumedConcurrently: 32,
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

  /**
   * Sends one message and resolves when the broker acknowledged it (acks from all in-sync replicas,
   * idempotent). Sends made while a request is out go together in the next request, in the order
   * they were made: an agent proposing many actions at once shares broker round trips instead of
   * queueing for one each, and nothing is acknowledged early.
   */
  publish(topic: string, key: string, value: string, headers: Record<string, string>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message: { key, value, headers }, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private connectProducer(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: QueuedSend[] = [];
        let bytes = 0;
        while (this.queue.length > 0 && batch.length < MAX_COALESCED) {
          const size = Buffer.byteLength(this.queue[0]!.message.value);
          if (batch.length > 0 && bytes + size > MAX_COALESCED_BYTES) break;
          batch.push(this.queue.shift()!);
          bytes += size;
        }
        try {
          const producer = await this.connectProducer();
          const topicMessages: { topic: string; messages: OutgoingMessage[] }[] = [];
          for (const q of batch) {
            const last = topicMessages[topicMessages.length - 1];
            if (last && last.topic === q.topic) last.messages.push(q.message);
            else topicMessages.push({ topic: q.topic, messages: [q.message] });
          }
          await producer.sendBatch({ acks: -1, topicMessages });
          for (const q of batch) q.resolve();
        } catch (e) {
          for (const q of batch) q.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer?.disconnect(), this.producer?.disconnect()]);
    this.consumer = undefined;
    this.producer = undefined;
  }
}
