import { parseEvent, type EventOf, type Topic } from '@countersign/contracts';
import type { Logger } from 'pino';
import { dlqRecordFor, sendToDlq, type RawMessage } from './dlq';
import type { EventProducer } from './event-producer';

/** Thrown by a use case for input that can never succeed: the message goes to the DLQ, not retried. */
export class PoisonMessageError extends Error {
  readonly code = 'POISON_MESSAGE';
}

export interface InboxOptions {
  consumer: string;
  producer: EventProducer;
  logger: Logger;
  /** True while the service is stopping: transient failures then give up so the offset is not committed. */
  isStopping: () => boolean;
  maxBackoffMs?: number;
  /** Largest message value accepted, in bytes (`MAX_MESSAGE_BYTES`); larger ones go to the DLQ unparsed. */
  maxMessageBytes?: number;
}

/** The default `MAX_MESSAGE_BYTES`: 1 MiB, the broker's own default `max.message.bytes` (rounded). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

function sizeOf(value: RawMessage['value']): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The one way a service takes a Kafka message: validate it against its contract, send what fails to
 * the DLQ (the partition moves on), and run the handler, retrying transient failures (database or
 * broker down) with backoff instead of throwing, because a thrown error would stop the partition
 * behind a message that is not at fault. Nothing is dropped: during shutdown the handler gives up
 * by throwing, so the offset stays uncommitted and the message is delivered again.
 */
export class KafkaInbox {
  constructor(private readonly opts: InboxOptions) {}

  async handle<T extends Topic>(
    topic: T,
    msg: RawMessage,
    handler: (event: EventOf<T>) => Promise<void>,
  ): Promise<void> {
    const log = this.opts.logger;
    // Checked before parsing: a huge value must not cost the memory and CPU of JSON.parse and zod.
    const limit = this.opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const size = sizeOf(msg.value);
    if (size > limit) {
      const error = `message is ${size} bytes, over the ${limit}-byte limit (MAX_MESSAGE_BYTES)`;
      log.warn({ topic, partition: msg.partition, offset: msg.offset, error }, 'oversized message sent to DLQ');
      await this.retrying(() => sendToDlq(this.opts.producer, dlqRecordFor(msg, this.opts.consumer, error, [])));
      return;
    }
    const parsed = parseEvent(topic, msg.value);
    if (!parsed.ok) {
      log.warn(
        { topic, partition: msg.partition, offset: msg.offset, error: parsed.error },
        'invalid message sent to DLQ',
      );
      await this.retrying(() =>
        sendToDlq(this.opts.producer, dlqRecordFor(msg, this.opts.consumer, parsed.error, parsed.issues)),
      );
      return;
    }
    const data = parsed.event.data as { job_id?: unknown };
    log.debug(
      { topic, event_id: parsed.event.event_id, job_id: typeof data.job_id === 'string' ? data.job_id : undefined },
      'event accepted',
    );
    await this.retrying(async () => {
      try {
        await handler(parsed.event);
      } catch (e) {
        if (e instanceof PoisonMessageError) {
          log.warn({ topic, event_id: parsed.event.event_id, error: e.message }, 'unprocessable message sent to DLQ');
          await sendToDlq(this.opts.producer, dlqRecordFor(msg, this.opts.consumer, e.message, []));
          return;
        }
        throw e;
      }
    });
  }

  private async retrying(fn: () => Promise<void>): Promise<void> {
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return;
      } catch (e) {
        if (this.opts.isStopping()) throw e;
        this.opts.logger.error({ err: e, attempt }, 'message handling failed; retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }
}
