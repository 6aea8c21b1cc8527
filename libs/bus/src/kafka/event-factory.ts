import { createHash, randomUUID } from 'node:crypto';
import type { DataOf, EventOf, Topic } from '@countersign/contracts';
import { signEvent, type Signer } from '@countersign/crypto';
import { currentTraceContext } from '@countersign/telemetry';

export interface BuildEventOptions {
  producer: string;
  signer?: Signer;
  /** A stable id makes a re-emitted event (after a redelivery) the same event, so consumers dedupe it. */
  eventId?: string;
  now?: Date;
}

/** A UUID (version 8, name-based) derived from the parts, for events that must be the same on every retry. */
export function deterministicEventId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function buildEvent<T extends Topic>(topic: T, data: DataOf<T>, opts: BuildEventOptions): EventOf<T> {
  const trace = currentTraceContext();
  const event: Record<string, unknown> = {
    event_id: opts.eventId ?? randomUUID(),
    type: topic,
    schema_version: 1,
    occurred_at: (opts.now ?? new Date()).toISOString(),
    producer: opts.producer,
    ...(trace.traceparent ? { trace } : {}),
    data,
  };
  return (opts.signer ? signEvent(event, opts.signer) : event) as EventOf<T>;
}
