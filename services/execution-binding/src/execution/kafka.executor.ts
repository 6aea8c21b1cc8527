import { Headers as EventHeaders } from '@countersign/contracts';
import { signEvent, type Signer } from '@countersign/crypto';
import type { AttemptOutcome } from './core/attempt-outcome';
import type { ExecutionRequest } from './execution.entity';

export const DISPATCH_EVENT_TYPE = 'job.dispatched';

export interface DispatchMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * The approved job for trusted workers: an envelope like every event, signed by execution-binding,
 * with a stable event id (workers dedupe on it, so a re-sent dispatch is the same dispatch).
 */
export function dispatchMessage(
  req: ExecutionRequest,
  opts: { eventId: string; occurredAt: Date; producer: string; executor: string; signer: Signer },
): DispatchMessage {
  const event = signEvent(
    {
      event_id: opts.eventId,
      type: DISPATCH_EVENT_TYPE,
      schema_version: 1,
      occurred_at: opts.occurredAt.toISOString(),
      producer: opts.producer,
      data: { ...req, executor: opts.executor },
    },
    opts.signer,
  );
  return {
    key: req.job_id,
    value: JSON.stringify(event),
    headers: {
      [EventHeaders.EventId]: opts.eventId,
      [EventHeaders.EventType]: DISPATCH_EVENT_TYPE,
      [EventHeaders.SchemaVersion]: '1',
      [EventHeaders.ContentType]: 'application/json',
    },
  };
}

export type RawSend = (topic: string, messages: DispatchMessage[]) => Promise<unknown>;

/** Hands the job to the dispatch topic. A failed or timed-out send may still have been written: indeterminate. */
export async function dispatchToKafka(
  send: RawSend,
  topic: string,
  msg: DispatchMessage,
  timeoutMs: number,
): Promise<AttemptOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([send(topic, [msg]), timeout]);
    return { kind: 'succeeded', result: { topic, event_id: JSON.parse(msg.value).event_id as string } };
  } catch (e) {
    return { kind: 'indeterminate', error: `dispatch to ${topic} failed: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
