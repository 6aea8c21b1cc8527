import { parseEvent, type DlqRecord, type EventOf, type Topic } from '@countersign/contracts';
import type { Logger } from 'pino';
import { dlqRecordFor, sendToDlq, type DlqOptions, type RawMessage } from './dlq';
import type { EventProducer } from './event-producer';
import { classifyFailure, PoisonMessageError } from './failure';

export { PoisonMessageError, TransientError, classifyFailure, type FailureClass } from './failure';

export interface InboxOptions {
  consumer: string;
  producer: EventProducer;
  logger: Logger;
  /** True while the service is stopping: transient failures then give up so the offset is not committed. */
  isStopping: () => boolean;
  maxBackoffMs?: number;
  /** Largest message value accepted, in bytes (`MAX_MESSAGE_BYTES`); larger ones go to the DLQ unparsed. */
  maxMessageBytes?: number;
  /** Keep the original bytes in DLQ records (`DLQ_KEEP_RAW`); off by default: they may hold secrets. */
  dlqKeepRaw?: boolean;
  /** Payload keys redacted in DLQ records (the service's `REDACT_FIELDS`; a default list otherwise). */
  redactFields?: readonly string[];
}

/** The default `MAX_MESSAGE_BYTES`: 1 MiB, the broker's own default `max.message.bytes` (rounded). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

function sizeOf(value: RawMessage['value']): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The DLQ text of a handler's permanent failure: what was thrown, with its code when it has one. */
function reasonOf(e: unknown): string {
  if (e instanceof PoisonMessageError) return e.message;
  if (typeof e !== 'object' || e === null || typeof (e as Error).message !== 'string')
    return `handler threw ${typeof e}: ${String(e)}`;
  const { name, message, code } = e as Error & { code?: unknown };
  return `${name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''}: ${message}`;
}

/**
 * The one way a service takes a Kafka message, in two steps with different failure rules:
 *
 * 1. The pure step (size, strict UTF-8, JSON, the shared JSON rule, the contract): it fails the same
 *    way on every delivery, so its failures are poison by construction: `<topic>.dlq` with the
 *    reason, and the partition moves on.
 * 2. The handler: an I/O failure (database, broker, network; see classifyFailure) is retried with
 *    backoff, holding the partition so nothing is lost; any other failure would repeat for the same
 *    bytes, so the message goes to the DLQ with the reason. Nothing is thrown to the consumer except
 *    during shutdown, when the offset must stay uncommitted so the message is delivered again.
 */
export class KafkaInbox {
  constructor(private readonly opts: InboxOptions) {}

  async handle<T extends Topic>(
    topic: T,
    msg: RawMessage,
    handler: (event: EventOf<T>) => Promise<void>,
  ): Promise<void> {
    const log = this.opts.logger;
    const where = { topic, partition: msg.partition, offset: msg.offset };
    // Checked before parsing: a huge value must not cost the memory and CPU of JSON.parse and zod.
    const limit = this.opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const size = sizeOf(msg.value);
    if (size > limit) {
      const error = `message is ${size} bytes, over the ${limit}-byte limit (MAX_MESSAGE_BYTES)`;
      log.warn({ ...where, error }, 'poison message (oversized) sent to DLQ');
      await this.toDlq(msg, error, [], 'message');
      return;
    }
    const parsed = parseEvent(topic, msg.value);
    if (!parsed.ok) {
      log.warn({ ...where, error: parsed.error }, 'poison message (refused by its contract) sent to DLQ');
      await this.toDlq(msg, parsed.error, parsed.issues, 'message');
      return;
    }
    const event = parsed.event;
    const data = event.data as { job_id?: unknown };
    const ids = { event_id: event.event_id, job_id: typeof data.job_id === 'string' ? data.job_id : undefined };
    log.debug({ ...where, ...ids }, 'event accepted');
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event);
        if (attempt > 1) log.info({ ...where, ...ids, attempt }, 'message handled after transient failures');
        return;
      } catch (e) {
        const failure = classifyFailure(e);
        if (failure.kind === 'permanent') {
          const error = reasonOf(e);
          log.warn(
            { ...where, ...ids, err: e, failure: failure.why },
            'permanent failure handling a valid event (will fail the same way again): sent to DLQ',
          );
          await this.toDlq(msg, error, [], 'handler');
          return;
        }
        if (this.opts.isStopping()) throw e;
        log.error(
          { ...where, ...ids, err: e, failure: failure.why, attempt, retry_in_ms: delay },
          'transient I/O failure; retrying, holding the partition',
        );
        await sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }

  /** The DLQ send is I/O: retried until it succeeds (or the service stops), so nothing is dropped. */
  private async toDlq(msg: RawMessage, error: string, issues: DlqRecord['issues'], stage: DlqOptions['stage']) {
    const record = dlqRecordFor(msg, this.opts.consumer, error, issues, new Date(), {
      keepRaw: this.opts.dlqKeepRaw ?? false,
      ...(this.opts.redactFields ? { redactFields: this.opts.redactFields } : {}),
      stage,
    });
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        await sendToDlq(this.opts.producer, record);
        return;
      } catch (e) {
        if (this.opts.isStopping()) throw e;
        this.opts.logger.error({ err: e, attempt, topic: msg.topic, offset: msg.offset }, 'DLQ send failed; retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }
}
