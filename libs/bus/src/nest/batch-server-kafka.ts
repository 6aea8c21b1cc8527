import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type TextMapGetter } from '@opentelemetry/api';
import { ServerKafka, type KafkaOptions } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';

/** Reads W3C trace headers that kafkajs hands over as Buffers. */
const headerGetter: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v.map((x) => x.toString());
    return v.toString();
  },
};
const tracer = trace.getTracer('@countersign/bus');

export interface BatchConsumerOptions {
  /** Messages of one partition's batch handled at once (their handlers run concurrently). */
  concurrency: number;
}

/**
 * Nest's Kafka server, fed by kafkajs `eachBatch` instead of `eachMessage`: the handlers of up to
 * `concurrency` messages of a partition run at once, so a handler that commits in groups (the
 * audit trail's group commit) gets many records per transaction instead of one per partition in
 * flight. Offsets move only over the prefix of messages whose handlers finished: a message whose
 * handler failed, and everything after it, is delivered again. Only for consumers that are
 * idempotent and start their work in arrival order (handlers are called in offset order).
 */
export class BatchServerKafka extends ServerKafka {
  constructor(
    options: Required<KafkaOptions>['options'],
    private readonly batch: BatchConsumerOptions,
  ) {
    super(options);
    if (batch.concurrency < 1) throw new RangeError('batch concurrency must be at least 1');
  }

  /**
   * Our patterns are plain topic names: look them up directly. Nest's lookup first tries
   * JSON.parse on every message's topic and catches the SyntaxError, a measurable cost per message.
   */
  override getHandlerByPattern(pattern: string): ReturnType<ServerKafka['getHandlerByPattern']> {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

  /** The next offset to commit per partition, as resolved: committed at close (see close). */
  private readonly resolved = new Map<string, { topic: string; partition: number; offset: string }>();

  /**
   * Offsets are committed on an interval (KAFKA_COMMIT_INTERVAL_MS), not after every batch; before
   * leaving the group the offsets resolved since the last commit are committed, so a clean restart
   * does not hand the next member a second of already-handled messages (harmless, every consumer is
   * idempotent, but wasted work and a second DLQ copy of any poison among them).
   */
  override async close(): Promise<void> {
    const offsets = [...this.resolved.values()];
    this.resolved.clear();
    if (offsets.length > 0 && this.consumer)
      await this.consumer
        .commitOffsets(offsets)
        .catch((e: unknown) => this.logger.warn?.(`could not commit offsets before leaving: ${(e as Error).message}`));
    await super.close();
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    if (topics.length > 0) await consumer.subscribe({ ...(this.options.subscribe ?? {}), topics });
    await consumer.run({
      ...(this.options.run ?? {}),
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async handleBatch({
    batch,
    resolveOffset,
    heartbeat,
    pause,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const messages = batch.messages;
    const started = performance.now();
    const lagMs = messages.length > 0 ? Date.now() - Number(messages[0]!.timestamp) : 0;
    for (let start = 0; start < messages.length; start += this.batch.concurrency) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(start, start + this.batch.concurrency);
      const results = await Promise.allSettled(
        chunk.map((message) =>
          this.inTraceOf(batch.topic, batch.partition, message, () =>
            this.handleMessage({ topic: batch.topic, partition: batch.partition, message, heartbeat, pause }),
          ),
        ),
      );
      for (let i = 0; i < chunk.length; i++) {
        const r = results[i]!;
        if (r.status === 'rejected') throw r.reason;
        resolveOffset(chunk[i]!.offset);
      }
      const last = chunk[chunk.length - 1]!;
      this.resolved.set(`${batch.topic}:${batch.partition}`, {
        topic: batch.topic,
        partition: batch.partition,
        offset: (BigInt(last.offset) + 1n).toString(),
      });
      await heartbeat();
    }
    this.logger.debug?.(
      `batch ${batch.topic}[${batch.partition}]: ${messages.length} messages in ${Math.round(performance.now() - started)} ms, first waited ${lagMs} ms, ${batch.offsetLag()} behind`,
    );
  }

  /**
   * Runs a message's handler in a span that continues the trace the message carries, as kafkajs'
   * instrumentation does for eachMessage (for eachBatch it only links the batch to the messages),
   * so a proposal's trace still runs through every service.
   */
  private inTraceOf<T>(topic: string, partition: number, message: KafkaMessage, fn: () => Promise<T>): Promise<T> {
    const parent = propagation.extract(ROOT_CONTEXT, message.headers ?? {}, headerGetter);
    return tracer.startActiveSpan(
      `${topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.kafka.offset': message.offset,
        },
      },
      parent,
      async (span) => {
        try {
          return await fn();
        } catch (e) {
          span.recordException(e as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }
}
