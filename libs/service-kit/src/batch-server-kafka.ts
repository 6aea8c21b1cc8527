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
  /**
   * Commit the offsets handled so far every this many ms, in one request for every partition.
   * 0 (or unset): kafkajs commits after every batch. kafkajs ignores `autoCommitInterval` for
   * `eachBatch` consumers (it commits after each batch regardless), so the interval is kept here.
   */
  commitIntervalMs?: number;
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

  /** The next offset to commit per partition, as resolved and not yet committed. */
  private readonly resolved = new Map<string, { topic: string; partition: number; offset: string }>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;

  private get commitIntervalMs(): number {
    return this.batch.commitIntervalMs ?? 0;
  }

  /**
   * Offsets are committed on an interval (KAFKA_COMMIT_INTERVAL_MS), not after every batch: one
   * OffsetCommit for every partition per interval instead of one per batch. Also committed when
   * the group starts to rebalance and before leaving the group, so the next owner of a partition
   * does not redo a second of already-handled messages (harmless, every consumer is idempotent,
   * but wasted work and a second DLQ copy of any poison among them). A commit that fails keeps its
   * offsets for the next attempt unless newer ones were resolved meanwhile.
   */
  override async close(): Promise<void> {
    if (this.commitTimer) clearInterval(this.commitTimer);
    this.commitTimer = undefined;
    await this.commitResolved();
    await super.close();
  }

  /** Commits what was resolved since the last commit; never throws, one commit at a time. */
  commitResolved(): Promise<void> {
    if (this.committing)
      return this.committing.then(() => (this.resolved.size > 0 ? this.commitResolved() : undefined));
    if (this.resolved.size === 0 || !this.consumer) return Promise.resolve();
    const taken = [...this.resolved.entries()];
    this.resolved.clear();
    const consumer = this.consumer;
    this.committing = consumer
      .commitOffsets(taken.map(([, o]) => o))
      .catch((e: unknown) => {
        for (const [key, o] of taken) if (!this.resolved.has(key)) this.resolved.set(key, o);
        this.logger.warn?.(`could not commit offsets (kept for the next attempt): ${(e as Error).message}`);
      })
      .finally(() => {
        this.committing = undefined;
      });
    return this.committing;
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    const topics = [...this.messageHandlers.keys()];
    if (topics.length > 0) await consumer.subscribe({ ...(this.options.subscribe ?? {}), topics });
    const interval = this.commitIntervalMs;
    if (interval > 0) {
      // Partitions given to another member: their uncommitted offsets are that member's now.
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const mine = payload.memberAssignment;
        for (const [key, o] of this.resolved)
          if (!(mine[o.topic] ?? []).includes(o.partition)) this.resolved.delete(key);
      });
      consumer.on(consumer.events.REBALANCING, () => void this.commitResolved());
      this.commitTimer = setInterval(() => void this.commitResolved(), interval);
      this.commitTimer.unref();
    }
    await consumer.run({
      ...(this.options.run ?? {}),
      ...(interval > 0 ? { autoCommit: false } : {}),
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
