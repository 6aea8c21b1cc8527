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
  await manager.query(`INSERT INTO "${schema}".outbox (topic, key, value, headers, trace) VALUES ($1, $2, $3, $4, $5)`, [
    topic,
    key,
    JSON.stringify(event),
    JSON.stringify(eventHeaders(event)),
    trace.traceparent ? JSON.stringify(trace) : null,
  ]);
}

/**
 * Records that a consumer has acted on an event, inside the transaction of the action. Returns
 * false when it had already done so (a redelivery), and the caller then does nothing.
 */
export async function markProcessed(manager: EntityManager, schema: string, consumer: string, eventId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO "${schema}".processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, eventId],
  );
  return rows.length === 1;
}
