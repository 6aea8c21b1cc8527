import type { EventOf, Topic } from '@countersign/contracts';
import { currentTraceContext } from '@countersign/telemetry';
import type { EntityManager } from 'typeorm';
import { assertValidEvent, eventHeaders } from '../kafka/event-producer';

/**
 * Adds an event to the outbox inside the caller's transaction: the state change and the event
 * it causes commit together or not at all.
 */
export async function enqueueEvent<T extends Topic>(
  manager: EntityManager,
  schema: string,
  topic: T,
  key: string,
  event: EventOf<T>,
): Promise<void> {
  assertValidEvent(topic, event);
  const trace = event.trace ?? currentTraceContext();
  await manager.query(
    `INSERT INTO "${schema}".outbox (topic, key, value, headers, trace) VALUES ($1, $2, $3, $4, $5)`,
    [
      topic,
      key,
      JSON.stringify(event),
      JSON.stringify(eventHeaders(event)),
      trace.traceparent ? JSON.stringify(trace) : null,
    ],
  );
}

/**
 * Records that a consumer has acted on an event, inside the transaction of the action. Returns
 * false when it had already done so (a redelivery), and the caller then does nothing.
 */
export async function markProcessed(
  manager: EntityManager,
  schema: string,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO "${schema}".processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, eventId],
  );
  return rows.length === 1;
}

/**
 * What claimEvent found: the event is new (now recorded), a redelivery of the body already processed
 * under its (topic, event_id), or a conflict: another body already holds that (topic, event_id).
 */
export type EventClaim = { status: 'new' } | { status: 'redelivery' } | { status: 'conflict'; knownDigest: string };

/**
 * Records that a consumer acts on (topic, event_id) with a body of `digest`, inside the transaction
 * of the action, in one statement. Needs the schema upgraded by addProcessedEventsTopicDigestSql.
 * The no-op DO UPDATE locks and returns the row already there, even one committed by another
 * transaction after this statement's snapshot (DO NOTHING would return nothing for it); `xmax = 0`
 * holds only for a row this statement inserted. A row recorded without a digest (before the
 * upgrade) counts as a redelivery: its body is unknown, so it cannot be shown to differ.
 */
export async function claimEvent(
  manager: EntityManager,
  schema: string,
  consumer: string,
  topic: string,
  eventId: string,
  digest: string,
): Promise<EventClaim> {
  const rows: { digest: string | null; inserted: boolean }[] = await manager.query(
    `INSERT INTO "${schema}".processed_events AS p (consumer, topic, event_id, digest) VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer, topic, event_id) DO UPDATE SET processed_at = p.processed_at
     RETURNING p.digest, (p.xmax = 0) AS inserted`,
    [consumer, topic, eventId, digest],
  );
  const row = rows[0];
  if (!row) throw new Error(`claimEvent: no row returned for ${topic} ${eventId}`);
  if (row.inserted) return { status: 'new' };
  if (row.digest === null || row.digest === digest) return { status: 'redelivery' };
  return { status: 'conflict', knownDigest: row.digest };
}

/** One event to add to the outbox with enqueueEvents. */
export interface OutboxItem<T extends Topic = Topic> {
  topic: T;
  key: string;
  event: EventOf<T>;
}

/**
 * Adds many events to the outbox in one statement (one round trip), inside the caller's
 * transaction, in the order given: the relay publishes them in that order.
 */
export async function enqueueEvents(
  manager: EntityManager,
  schema: string,
  items: readonly OutboxItem[],
): Promise<void> {
  if (items.length === 0) return;
  const active = currentTraceContext();
  const rows = items.map(({ topic, key, event }) => {
    assertValidEvent(topic, event);
    const trace = event.trace ?? active;
    return {
      topic,
      key,
      value: JSON.stringify(event),
      headers: JSON.stringify(eventHeaders(event)),
      trace: trace.traceparent ? JSON.stringify(trace) : null,
    };
  });
  await manager.query(
    `INSERT INTO "${schema}".outbox (topic, key, value, headers, trace)
     SELECT t, k, v, h::jsonb, tr::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(t, k, v, h, tr, n)
     ORDER BY n`,
    [
      rows.map((r) => r.topic),
      rows.map((r) => r.key),
      rows.map((r) => r.value),
      rows.map((r) => r.headers),
      rows.map((r) => r.trace),
    ],
  );
}
