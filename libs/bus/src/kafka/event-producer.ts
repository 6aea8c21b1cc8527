import { EventSchemas, Headers, type EventOf, type Topic } from '@countersign/contracts';
import { context, type Context } from '@opentelemetry/api';
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';

export class InvalidOutgoingEventError extends Error {
  readonly code = 'INVALID_OUTGOING_EVENT';
}

/** Headers that travel with every event: identity and version, readable without parsing the value. */
export function eventHeaders(event: {
  event_id: string;
  type: string;
  schema_version: number;
}): Record<string, string> {
  return {
    [Headers.EventId]: event.event_id,
    [Headers.EventType]: event.type,
    [Headers.SchemaVersion]: String(event.schema_version),
    [Headers.ContentType]: 'application/json',
  };
}

/** Validates an event against its contract; a producer never sends what a consumer would reject. */
export function assertValidEvent<T extends Topic>(topic: T, event: unknown): asserts event is EventOf<T> {
  const r = EventSchemas[topic].safeParse(event);
  if (!r.success) {
    const why = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ');
    throw new InvalidOutgoingEventError(`refusing to send an invalid ${topic} event: ${why}`);
  }
}

interface OutgoingMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

interface Queued {
  topic: string;
  messages: OutgoingMessage[];
  ctx: Context;
  resolve: (r: RecordMetadata[]) => void;
  reject: (e: unknown) => void;
}

/** Most messages, and bytes of values, in one produce request when sends are coalesced: the broker
 * refuses a partition's record batch over its `max.message.bytes` (1 MiB by default) whole. */
const MAX_COALESCED = 1000;
const MAX_COALESCED_BYTES = 512 * 1024;
const bytesOf = (q: Queued) => q.messages.reduce((n, m) => n + Buffer.byteLength(m.value), 0);

/**
 * An idempotent producer (acks from all in-sync replicas, no duplicates on retry).
 *
 * Sends are coalesced: the producer allows one request in flight (what keeps idempotence and
 * order), so sends made while a request is out wait and then go together, in the order they were
 * made, as the next request (kafkajs `sendBatch`). Each caller's promise still settles only with
 * the broker's answer for the request that carried its messages, so nothing is acknowledged
 * early; under load, many handlers share one broker round trip instead of queueing for one each.
 * The request is sent inside the trace of its first send (each event also carries its own trace).
 */
export class EventProducer {
  private producer: Producer;
  private connected: Promise<void> | undefined;
  private queue: Queued[] = [];
  private flushing = false;

  constructor(private readonly kafka: Kafka) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /**
   * After a failed request the idempotent producer's sequence numbers may no longer match the
   * broker's ("out of order sequence number" on every later send), so it is replaced by a new one
   * (a new producer id). The failed sends were rejected to their callers, who send them again.
   */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    this.connected = undefined;
    await old.disconnect().catch(() => undefined);
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((e: unknown) => {
      this.connected = undefined;
      throw e;
    });
    return this.connected;
  }

  async send<T extends Topic>(topic: T, key: string, event: EventOf<T>): Promise<RecordMetadata[]> {
    assertValidEvent(topic, event);
    return this.enqueue(topic, [{ key, value: JSON.stringify(event), headers: eventHeaders(event) }]);
  }

  /** Sends pre-serialized messages (the outbox relay's rows, already validated when written). */
  async sendRaw(topic: string, messages: OutgoingMessage[]): Promise<RecordMetadata[]> {
    return this.enqueue(topic, messages);
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = undefined;
  }

  private enqueue(topic: string, messages: OutgoingMessage[]): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      this.queue.push({ topic, messages, ctx: context.active(), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch: Queued[] = [];
        let count = 0;
        let bytes = 0;
        // A send larger than the limits on its own still goes, alone: its error is its own.
        while (this.queue.length > 0) {
          const next = this.queue[0]!;
          const size = bytesOf(next);
          if (batch.length > 0 && (count + next.messages.length > MAX_COALESCED || bytes + size > MAX_COALESCED_BYTES))
            break;
          batch.push(this.queue.shift()!);
          count += next.messages.length;
          bytes += size;
        }
        try {
          await this.connect();
          // One entry per run of the same topic keeps each topic's messages in the order sent.
          const topicMessages: { topic: string; messages: OutgoingMessage[] }[] = [];
          for (const q of batch) {
            const last = topicMessages[topicMessages.length - 1];
            if (last && last.topic === q.topic) last.messages.push(...q.messages);
            else topicMessages.push({ topic: q.topic, messages: [...q.messages] });
          }
          const meta = await context.with(batch[0]!.ctx, () => this.producer.sendBatch({ acks: -1, topicMessages }));
          for (const q of batch) q.resolve(meta);
        } catch (e) {
          for (const q of batch) q.reject(e);
          await this.replaceProducer();
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
