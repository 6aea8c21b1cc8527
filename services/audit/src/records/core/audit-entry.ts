import {
  DlqRecordSchema,
  IdSchema,
  redactPayload,
  SignedTopics,
  Topics,
  type AnyEnvelope,
  type DlqRecord,
  type Topic,
} from '@countersign/contracts';
import { canonicalJson, eventDigest, jobHash, sha256Hex, verifyEvent, type HashableJob } from '@countersign/crypto';
import type { KeyObject } from 'node:crypto';

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

export type RecordKind = 'event' | 'conflict' | 'rejected_input';
export type SignatureVerdict = 'verified' | 'invalid' | 'unsigned';

/** How audit treats what it records: whose signatures it trusts, what it keeps. */
export interface RecordingPolicy {
  /** Public keys trusted per producer (`policy-decision`, …), the producers SignedTopics names. */
  trusted: Readonly<Record<string, readonly KeyObject[]>>;
  /** Payload keys whose values are redacted before the record is stored. */
  redactFields: readonly string[];
  /** Keep payloads whole (AUDIT_KEEP_FULL_PAYLOADS): secrets stay in the permanent record. */
  keepFullPayloads: boolean;
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
  /** The body's canonical JSON text (its payload redacted unless full payloads are kept). */
  body: string;
  kind: RecordKind;
  /** SHA-256 hex of the message as received without `trace`: what tells a redelivery from a conflicting body. */
  digest: string;
  signature: SignatureVerdict;
  signature_reason: string | null;
  /** Canonical JSON of `{ fields, job_hash }` when the payload was redacted; null otherwise. */
  redaction: string | null;
  /** Canonical JSON of `{ first_seq, first_digest }` on a conflict record; null otherwise. */
  conflict: string | null;
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

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The digest that identifies a message's content: `eventDigest` (libs/crypto), the rule
 * execution-binding dedupes with, so a redelivery or a producer's re-emission is the same message.
 */
export function contentDigest(received: unknown): string {
  return eventDigest(received);
}

/**
 * The signature verdict for an event on `topic`: `unsigned` where the contract signs nothing, else
 * `verified` with a key trusted for the topic's producer, or `invalid` with why (a missing signature
 * included: the contract requires one). Checked on the message as received, before any redaction.
 */
export function signatureVerdict(
  topic: string,
  received: unknown,
  trusted: RecordingPolicy['trusted'],
): { signature: SignatureVerdict; signature_reason: string | null } {
  const producer = SignedTopics[topic as Topic];
  if (!producer) return { signature: 'unsigned', signature_reason: null };
  const keys = trusted[producer] ?? [];
  if (keys.length === 0) return { signature: 'invalid', signature_reason: `no key trusted for ${producer}` };
  if (!isObj(received)) return { signature: 'invalid', signature_reason: 'not an object' };
  const r = verifyEvent(received, keys);
  return r.ok
    ? { signature: 'verified', signature_reason: null }
    : { signature: 'invalid', signature_reason: r.reason };
}

/**
 * The body to keep: the message with its `data.payload` redacted, plus what proves the whole: the
 * redacted paths and, for a proposal, the job_hash of the full payload (the hash execution binds).
 */
function keptBody(
  topic: string,
  event: AnyEnvelope,
  received: unknown,
  policy: RecordingPolicy,
): { body: unknown; redaction: string | null } {
  const data = isObj(received) ? received['data'] : undefined;
  if (policy.keepFullPayloads || !isObj(data) || !isObj(data['payload'])) return { body: received, redaction: null };
  const { payload, redactedFields } = redactPayload(data['payload'], policy.redactFields);
  let fullHash: string | null = null;
  if (topic === Topics.JobProposed) {
    try {
      fullHash = jobHash(event.data as HashableJob);
    } catch (e) {
      throw new UnrecordableInputError(`${topic} event ${event.event_id}: no job_hash: ${(e as Error).message}`);
    }
  }
  return {
    body: { ...(received as Obj), data: { ...data, payload } },
    redaction: canonicalJson({ fields: redactedFields, job_hash: fullHash }),
  };
}

/**
 * The record for a validated event. `received` is the message's JSON exactly as it arrived (the
 * contract parse drops unknown fields; the audit trail keeps them, signatures cover them).
 */
export function entryFromEvent(
  topic: string,
  event: AnyEnvelope,
  received: unknown,
  policy: RecordingPolicy,
): AuditEntry {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const what = `${topic} event ${event.event_id}`;
  const digest = (() => {
    try {
      return contentDigest(received);
    } catch (e) {
      throw new UnrecordableInputError(`${what} has no canonical JSON form: ${(e as Error).message}`);
    }
  })();
  const kept = keptBody(topic, event, received, policy);
  const entry: AuditEntry = {
    dedupe_key: `event:${topic}:${event.event_id}`,
    source_topic: topic,
    source_event_id: event.event_id,
    event_type: event.type,
    job_id: idOrNull(data['job_id']),
    tenant: idOrNull(data['tenant']) ?? tenantOfScope(data['scope']),
    body: canonicalOrThrow(kept.body, what),
    kind: 'event',
    digest,
    ...signatureVerdict(topic, received, policy.trusted),
    redaction: kept.redaction,
    conflict: null,
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

/**
 * The entry recording `entry` as a conflict: its body arrived under a topic + event_id already
 * recorded (at `first.seq`) with a different digest. Its own dedupe key is the first one's plus its
 * digest, so a redelivery of the same conflicting body is still a no-op.
 */
export function conflictEntry(entry: AuditEntry, first: { seq: number; digest: string }): AuditEntry {
  const { snapshot: _snapshot, ...rest } = entry;
  return {
    ...rest,
    dedupe_key: `conflict:${entry.dedupe_key}:${entry.digest}`,
    kind: 'conflict',
    conflict: canonicalJson({ first_digest: first.digest, first_seq: first.seq }),
  };
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
    // The redacted copy by default; the original bytes only where the DLQ keeps them (DLQ_KEEP_RAW).
    const original = decodeOriginal(r.value_base64) ?? (isObj(r.value_redacted) ? r.value_redacted : undefined);
    const data = original?.['data'] as Record<string, unknown> | undefined;
    return {
      dedupe_key: `dlq:${r.source_topic}:${r.partition}:${r.offset}:${r.consumer}`,
      source_topic: msg.topic,
      source_event_id: null,
      event_type: REJECTED_INPUT,
      // Best effort, so a job's timeline shows input about it that was refused; the body says it was.
      job_id: idOrNull(data?.['job_id']),
      tenant: idOrNull(data?.['tenant']),
      body,
      ...asReceived(body),
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
    ...asReceived(canonicalJson(self)),
  };
}

/** DLQ records are kept as they come (the DLQ redacts at its source) and are not signed. */
function asReceived(
  body: string,
): Pick<AuditEntry, 'kind' | 'digest' | 'signature' | 'signature_reason' | 'redaction' | 'conflict'> {
  return {
    kind: 'rejected_input',
    digest: sha256Hex(body),
    signature: 'unsigned',
    signature_reason: null,
    redaction: null,
    conflict: null,
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
