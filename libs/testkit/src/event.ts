import { randomUUID } from 'node:crypto';
import type { DataOf, EventOf, Topic } from '@countersign/contracts';
import { signEvent, signerFromPem, type EventSignature, type Signer } from '@countersign/crypto';

/** Who signs: a signer, a private key PEM, or `null` for an unsigned event. */
export type SignedBy = Signer | string | null;

export interface EventOptions {
  /** Default: unsigned. */
  signer?: SignedBy;
  /** Default `test`. */
  producer?: string;
  /** Default a fresh UUID. */
  eventId?: string;
  /** Default now. */
  occurredAt?: string;
}

const signerOf = (by: Signer | string): Signer => (typeof by === 'string' ? signerFromPem(by) : by);

/** Signs any envelope (also a deliberately odd one) as a producer signs it; `null` leaves it as it is. */
export function signWith<T extends Record<string, unknown>>(
  event: T,
  by: SignedBy,
): T | (T & { signature: EventSignature }) {
  return by === null ? event : signEvent(event, signerOf(by));
}

/**
 * An event envelope as its producer sends it (the bus's `buildEvent`, without pulling Nest into
 * Jest): version 1, a fresh id, now, signed over canonical JSON when a signer is given.
 */
export function signedEvent<T extends Topic>(topic: T, data: DataOf<T>, opts: EventOptions = {}): EventOf<T> {
  const event = {
    event_id: opts.eventId ?? randomUUID(),
    type: topic,
    schema_version: 1,
    occurred_at: opts.occurredAt ?? new Date().toISOString(),
    producer: opts.producer ?? 'test',
    data,
  };
  return signWith(event, opts.signer ?? null) as unknown as EventOf<T>;
}
