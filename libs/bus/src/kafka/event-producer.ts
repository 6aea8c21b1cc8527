import { EventSchemas, Headers, type EventOf, type Topic } from '@countersign/contracts';
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';

export class InvalidOutgoingEventError extends Error {
  readonly code = 'INVALID_OUTGOING_EVENT';
}

/** Headers that travel with every event: identity and version, readable without parsing the value. */
export function eventHeaders(event: { event_id: string; type: string; schema_version: number }): Record<string, string> {
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

/** An idempotent producer (acks from all in-sync replicas, no duplicates on retry). */
export class EventProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
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
    await this.connect();
    return this.producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: JSON.stringify(event), headers: eventHeaders(event) }],
    });
  }

  /** Sends pre-serialized messages (the outbox relay's rows, already validated when written). */
  async sendRaw(topic: string, messages: { key: string; value: string; headers: Record<string, string> }[]) {
    await this.connect();
    return this.producer.send({ topic, acks: -1, messages });
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
    this.connected = undefined;
  }
}
