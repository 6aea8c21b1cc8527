import type { EventOf, Topic } from '@countersign/contracts';
import { currentTraceContext } from '@countersign/telemetry';
import { assertValidEvent, eventHeaders } from '../kafka/event-producer';

/**
 * What the outbox functions need of a connection: TypeORM's `EntityManager` and `QueryRunner`
 * fit, so raw-SQL ports pass whatever runs their transaction.
 */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * An outbox row as committed: what `OutboxRelay.publishNow` sends right after the commit, and what
 * the relay sends later from the table if that direct publish was not confirmed.
 */
export interface StagedEvent {
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  trace: { traceparent?: string; tracestate?: string } | null;
}

/**
 * Adds an event to the outbox inside the caller's transaction: the state change and the event
 * it causes commit together or not at all. Returns the row, for `OutboxRelay.publishNow` after commit.
 */
export async function enqueueEvent<T extends Topic>(
  manager: SqlRunner,
  schema: string,
  topic: T,
  key: string,
  event: EventOf<T>,
): Promise<StagedEvent> {
  const [row] = await enqueueEvents(manager, schema, [{ topic, key, event }]);
  return row!;
}

/**
 * Records that a consumer has acted on an event, inside the transaction of the action. Returns
 * false when it had already done so (a redelivery), and the caller then does nothing.
 */
export async function markProcessed(
  manager: SqlRunner,
  schema: string,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const [fresh] = await markProcessedMany(manager, schema, consumer, [eventId]);
  return fresh!;
}

/**
 * markProcessed for many events in one statement: for each id in order, true when it was new.
 * An id given twice is new only the first time.
 */
export async function markProcessedMany(
  manager: SqlRunner,
  schema: string,
  consumer: string,
  eventIds: readonly string[],
): Promise<boolean[]> {
  if (eventIds.length === 0) return [];
  const rows = (await manager.query(
    `INSERT INTO "${schema}".processed_events (consumer, event_id)
     SELECT $1, e FROM unnest($2::text[]) AS u(e) ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, [...eventIds]],
  )) as { event_id: string }[];
  const inserted = new Set(rows.map((r) => r.event_id));
  return eventIds.map((id) => inserted.delete(id));
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
  manager: SqlRunner,
  schema: string,
  consumer: string,
  topic: string,
  eventId: string,
  digest: string,
): Promise<EventClaim> {
  const [claim] = await claimEvents(manager, schema, consumer, [{ topic, eventId, digest }]);
  return claim!;
}

/** One event for claimEvents. */
export interface EventToClaim {
  topic: string;
  eventId: string;
  digest: string;
}

/**
 * claimEvent for many events in one statement, each claim as claimEvent would find it, in the order
 * given. The same (topic, event_id) twice in one call is claimed once: the first is `new` (or what
 * the table held), a later one with the same digest a `redelivery`, with another digest a `conflict`.
 * Rows are claimed in (topic, event_id) order, so two replicas claiming overlapping sets never
 * deadlock.
 */
export async function claimEvents(
  manager: SqlRunner,
  schema: string,
  consumer: string,
  claims: readonly EventToClaim[],
): Promise<EventClaim[]> {
  if (claims.length === 0) return [];
  // ON CONFLICT DO UPDATE may not touch one row twice in a statement: distinct keys only.
  const first = new Map<string, EventToClaim>();
  for (const c of claims) {
    const k = `${c.topic}\u0000${c.eventId}`;
    if (!first.has(k)) first.set(k, c);
  }
  const unique = [...first.values()].sort((a, b) =>
    a.topic === b.topic ? (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0) : a.topic < b.topic ? -1 : 1,
  );
  const rows = (await manager.query(
    `INSERT INTO "${schema}".processed_events AS p (consumer, topic, event_id, digest)
     SELECT $1, t, e, d FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(t, e, d, n) ORDER BY n
     ON CONFLICT (consumer, topic, event_id) DO UPDATE SET processed_at = p.processed_at
     RETURNING p.topic, p.event_id, p.digest, (p.xmax = 0) AS inserted`,
    [consumer, unique.map((c) => c.topic), unique.map((c) => c.eventId), unique.map((c) => c.digest)],
  )) as { topic: string; event_id: string; digest: string | null; inserted: boolean }[];
  const found = new Map(rows.map((r) => [`${r.topic}\u0000${r.event_id}`, r]));
  const seen = new Set<string>();
  return claims.map((c) => {
    const k = `${c.topic}\u0000${c.eventId}`;
    const row = found.get(k);
    if (!row) throw new Error(`claimEvents: no row returned for ${c.topic} ${c.eventId}`);
    const firstInCall = !seen.has(k);
    seen.add(k);
    if (firstInCall && row.inserted) return { status: 'new' };
    const known = row.inserted ? first.get(k)!.digest : row.digest;
    if (known === null || known === c.digest) return { status: 'redelivery' };
    return { status: 'conflict', knownDigest: known };
  });
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
  manager: SqlRunner,
  schema: string,
  items: readonly OutboxItem[],
): Promise<StagedEvent[]> {
  if (items.length === 0) return [];
  const active = currentTraceContext();
  const rows = items.map(({ topic, key, event }) => {
    assertValidEvent(topic, event);
    const trace = event.trace ?? active;
    return {
      topic: topic as string,
      key,
      value: JSON.stringify(event),
      headers: eventHeaders(event),
      trace: trace.traceparent ? trace : null,
    };
  });
  const ids = (await manager.query(
    `INSERT INTO "${schema}".outbox (topic, key, value, headers, trace)
     SELECT t, k, v, h::jsonb, tr::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(t, k, v, h, tr, n)
     ORDER BY n RETURNING id`,
    [
      rows.map((r) => r.topic),
      rows.map((r) => r.key),
      rows.map((r) => r.value),
      rows.map((r) => JSON.stringify(r.headers)),
      rows.map((r) => (r.trace ? JSON.stringify(r.trace) : null)),
    ],
  )) as { id: string }[];
  if (ids.length !== rows.length) throw new Error(`outbox insert returned ${ids.length} ids for ${rows.length} rows`);
  // nextval runs in insertion order (ORDER BY n), so the ascending ids belong to the rows in order.
  const sorted = ids.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return rows.map((r, i) => ({ ...r, id: String(sorted[i]) }));
}
