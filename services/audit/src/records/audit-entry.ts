import { DlqRecordSchema, IdSchema, type AnyEnvelope, type DlqRecord } from '@countersign/contracts';
import { canonicalJson } from '@countersign/crypto';

/** event_type of a record made from a `<topic>.dlq` message. */
export const REJECTED_INPUT = 'rejected_input';
/** event_type of a record made from a DLQ message that is not a valid DlqRecord itself. */
export const MALFORMED_DLQ = 'rejected_input.malformed';

/** A policy snapshot carried by a `policy.activated` record, kept in its own table for lookup. */
export interface SnapshotEntry {
  snapshot_id: string;
  scope: string;
  /** Canonical JSON of the policy document. */
  document: string;
  activated_at: string;
}

/** One thing to record, before it has a place in the chain. */
export interface AuditEntry {
  /** What makes a redelivery the same record: `event:<topic>:<event_id>`, `dlq:<source topic>:<partition>:<offset>:<consumer>`. */
  dedupe_key: string;
  source_topic: string;
  source_event_id: string | null;
  event_type: string;
  job_id: string | null;
  tenant: string | null;
  /** The body's canonical JSON text. */
  body: string;
  snapshot?: SnapshotEntry;
}

/** Input that can never be recorded as given (the caller turns it into a DLQ message, which is). */
export class UnrecordableInputError extends Error {
  readonly code = 'UNRECORDABLE_INPUT';
}

function canonicalOrThrow(value: unknown, what: string): string {
  try {
    return canonicalJson(value);
  } catch (e) {
    throw new UnrecordableInputError(`${what} has no canonical JSON form: ${(e as Error).message}`);
  }
}

const idOrNull = (v: unknown): string | null => (IdSchema.safeParse(v).success ? (v as string) : null);

function tenantOfScope(scope: unknown): string | null {
  return typeof scope === 'string' && scope.startsWith('tenant:') ? idOrNull(scope.slice('tenant:'.length)) : null;
}

/**
 * The record for a validated event. `received` is the message's JSON exactly as it arrived (the
 * contract parse drops unknown fields; the audit trail keeps them, signatures cover them).
 */
export function entryFromEvent(topic: string, event: AnyEnvelope, received: unknown): AuditEntry {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const entry: AuditEntry = {
    dedupe_key: `event:${topic}:${event.event_id}`,
    source_topic: topic,
    source_event_id: event.event_id,
    event_type: event.type,
    job_id: idOrNull(data['job_id']),
    tenant: idOrNull(data['tenant']) ?? tenantOfScope(data['scope']),
    body: canonicalOrThrow(received, `${topic} event ${event.event_id}`),
  };
  if (typeof data['snapshot_id'] === 'string' && typeof data['scope'] === 'string' && 'document' in data) {
    entry.snapshot = {
      snapshot_id: data['snapshot_id'],
      scope: data['scope'],
      document: canonicalOrThrow(data['document'] ?? null, 'policy document'),
      activated_at: typeof data['activated_at'] === 'string' ? data['activated_at'] : event.occurred_at,
    };
  }
  return entry;
}

export interface DlqMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

function decodeOriginal(valueBase64: string | null): Record<string, unknown> | undefined {
  if (!valueBase64) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(valueBase64, 'base64').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record for a message read from `<topic>.dlq`: the DlqRecord as body, keyed on where the
 * rejected message was. A DLQ message that is not a DlqRecord is recorded too, as a DlqRecord
 * describing the DLQ message itself with its raw bytes: nothing is dropped.
 */
export function entryFromDlq(msg: DlqMessage, now: Date): AuditEntry {
  let parsed = parseDlqRecord(msg.value);
  let body: string | undefined;
  if (parsed.ok) {
    try {
      body = canonicalJson(parsed.received);
    } catch (e) {
      parsed = { ok: false, error: `no canonical JSON form: ${(e as Error).message}`, issues: [] };
    }
  }
  if (parsed.ok && body !== undefined) {
    const r = parsed.record;
    const data = decodeOriginal(r.value_base64)?.['data'] as Record<string, unknown> | undefined;
    return {
      dedupe_key: `dlq:${r.source_topic}:${r.partition}:${r.offset}:${r.consumer}`,
      source_topic: msg.topic,
      source_event_id: null,
      event_type: REJECTED_INPUT,
      // Best effort, so a job's timeline shows input about it that was refused; the body says it was.
      job_id: idOrNull(data?.['job_id']),
      tenant: idOrNull(data?.['tenant']),
      body,
    };
  }
  const why = parsed.ok ? 'unknown' : parsed.error;
  const self: DlqRecord = {
    source_topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    consumer: 'audit',
    error: `not a valid DLQ record: ${why}`.slice(0, 4000),
    issues: parsed.ok ? [] : parsed.issues,
    key: msg.key,
    value_base64: msg.value ? msg.value.toString('base64') : null,
    headers: msg.headers,
    failed_at: now.toISOString(),
  };
  return {
    dedupe_key: `dlq-raw:${msg.topic}:${msg.partition}:${msg.offset}`,
    source_topic: msg.topic,
    source_event_id: null,
    event_type: MALFORMED_DLQ,
    job_id: null,
    tenant: null,
    body: canonicalJson(self),
  };
}

type DlqParse =
  { ok: true; record: DlqRecord; received: unknown } | { ok: false; error: string; issues: DlqRecord['issues'] };

export function parseDlqRecord(value: Buffer | null): DlqParse {
  if (value === null) return { ok: false, error: 'empty message value', issues: [] };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, error: `value is not JSON: ${(e as Error).message}`, issues: [] };
  }
  const r = DlqRecordSchema.safeParse(json);
  if (r.success) return { ok: true, record: r.data, received: json };
  const issues = r.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  return { ok: false, error: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}
