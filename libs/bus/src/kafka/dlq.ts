import { createHash } from 'node:crypto';
import {
  DEFAULT_REDACT_FIELDS,
  MAX_EVENT_DEPTH,
  decodeJsonText,
  dlqTopic,
  isExactJsonNumber,
  printableKey,
  redactPayload,
  type DlqRecord,
} from '@countersign/contracts';
import { jobHash, type HashableJob } from '@countersign/crypto';
import type { EventProducer } from './event-producer';

export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

function asText(v: Buffer | string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : v.toString('utf8');
}

function asBytes(v: Buffer | string | null): Buffer | null {
  if (v === null) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

export function headersAsText(headers: RawMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((x) => asText(x) ?? '').join(',') : (asText(v) ?? '');
  }
  return out;
}

/**
 * At most this much of the original value is kept in a DLQ record (base64 grows it by a third): the
 * record must itself fit under the broker's `max.message.bytes` (1 MiB by default), or sending it
 * would fail forever and stall the partition behind the bad message.
 */
export const DLQ_MAX_VALUE_BYTES = 256 * 1024;
const DLQ_MAX_TEXT = 1024;
const DLQ_MAX_HEADERS = 32;

export interface DlqOptions {
  /** Keep the original bytes (`value_base64`); off by default, since they may hold secrets (`DLQ_KEEP_RAW`). */
  keepRaw?: boolean;
  /** Payload keys redacted in `value_redacted` (the service's `REDACT_FIELDS`). */
  redactFields?: readonly string[];
  /** Where the failure happened: the message itself, or the service handling a valid one. */
  stage?: DlqRecord['stage'];
}

/** Text that may be stored and logged: no NUL (jsonb refuses it), no lone surrogates, bounded. */
const clip = (text: string): string => {
  const safe = printableKey(text);
  return safe.length > DLQ_MAX_TEXT ? `${safe.slice(0, DLQ_MAX_TEXT)}…` : safe;
};

const NOT_REPRESENTABLE = '[not representable]';
const TOO_DEEP = '[nested too deep]';

/**
 * A copy of parsed JSON that any consumer of the DLQ (audit canonicalises and stores it) can take:
 * numbers with no exact JSON form and deeper nesting are replaced by markers, strings made printable.
 * Objects have no prototype, so a `__proto__` key stays a key. Iterative.
 */
function storableCopy(value: unknown, maxDepth: number): unknown {
  const scalar = (v: unknown): unknown => {
    if (typeof v === 'string') return printableKey(v);
    if (typeof v === 'number') return isExactJsonNumber(v) ? v : `${NOT_REPRESENTABLE} ${v}`;
    return v;
  };
  if (typeof value !== 'object' || value === null) return scalar(value);
  const copy = (v: object): Record<string, unknown> | unknown[] =>
    Array.isArray(v) ? new Array<unknown>(v.length) : (Object.create(null) as Record<string, unknown>);
  const root = copy(value);
  const stack: { from: object; to: Record<string, unknown> | unknown[]; depth: number }[] = [
    { from: value, to: root, depth: 1 },
  ];
  while (stack.length) {
    const { from, to, depth } = stack.pop()!;
    for (const [k, v] of Object.entries(from)) {
      const key = Array.isArray(to) ? Number(k) : printableKey(k);
      let out: unknown;
      if (typeof v === 'object' && v !== null) {
        if (depth >= maxDepth) out = TOO_DEEP;
        else {
          out = copy(v);
          stack.push({ from: v, to: out as Record<string, unknown>, depth: depth + 1 });
        }
      } else out = scalar(v);
      (to as Record<string | number, unknown>)[key] = out;
    }
  }
  return root;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What a DLQ record keeps of a value that parses as JSON: the message with its payload's sensitive
 * fields redacted (a message without `data.payload` is redacted as a whole, since nothing says
 * which part of it is the agent's), and the `job_hash` of the original payload when it has one.
 */
function redactedView(
  bytes: Buffer,
  fields: readonly string[],
): Pick<DlqRecord, 'value_redacted' | 'redacted_fields' | 'payload_job_hash'> {
  const decoded = decodeJsonText(bytes);
  if (!decoded.ok) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded.text);
  } catch {
    return {};
  }
  const out: Pick<DlqRecord, 'value_redacted' | 'redacted_fields' | 'payload_job_hash'> = {};
  const data = isObject(parsed) ? parsed['data'] : undefined;
  if (isObject(data) && isObject(data['payload'])) {
    try {
      out.payload_job_hash = jobHash(data as unknown as HashableJob);
    } catch {
      // No canonical form (1e309) or not a job: the record still has value_sha256.
    }
  }
  const copy = storableCopy(parsed, MAX_EVENT_DEPTH);
  const copyData = isObject(copy) ? copy['data'] : undefined;
  if (isObject(copyData) && isObject(copyData['payload'])) {
    const r = redactPayload(copyData['payload'], fields);
    copyData['payload'] = r.payload;
    out.redacted_fields = r.redactedFields.map((p) => `data.payload${p.startsWith('[') ? '' : '.'}${p}`);
    out.value_redacted = copy;
  } else if (isObject(copy)) {
    const r = redactPayload(copy, fields);
    out.value_redacted = r.payload;
    out.redacted_fields = r.redactedFields;
  }
  // A bare string, number or array is not kept: nothing tells a secret from a harmless value in it.
  return out;
}

/**
 * The DLQ record of a message a consumer could not accept. Secrets stay out of it by default: it
 * keeps the SHA-256 and length of the original bytes and, when they parse as JSON, the message with
 * its payload redacted (plus the payload's `job_hash`); the bytes themselves only with `keepRaw`.
 */
export function dlqRecordFor(
  msg: RawMessage,
  consumer: string,
  error: string,
  issues: DlqRecord['issues'],
  now = new Date(),
  opts: DlqOptions = {},
): DlqRecord {
  const bytes = asBytes(msg.value);
  const kept =
    bytes && opts.keepRaw
      ? bytes.length > DLQ_MAX_VALUE_BYTES
        ? bytes.subarray(0, DLQ_MAX_VALUE_BYTES)
        : bytes
      : null;
  const note =
    bytes && kept && kept.length < bytes.length
      ? ` (value_base64 keeps the first ${kept.length} of ${bytes.length} bytes; the whole message is at ${msg.topic}/${msg.partition}/${msg.offset})`
      : '';
  const key = asText(msg.key);
  const headers = Object.fromEntries(
    Object.entries(headersAsText(msg.headers))
      .slice(0, DLQ_MAX_HEADERS)
      .map(([k, v]) => [clip(k), clip(v)]),
  );
  // An oversized value is not parsed here either: its size is the whole story.
  const view =
    bytes && bytes.length <= DLQ_MAX_VALUE_BYTES ? redactedView(bytes, opts.redactFields ?? DEFAULT_REDACT_FIELDS) : {};
  return {
    source_topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    consumer,
    error: printableKey(error.slice(0, 4000)) + note,
    issues: issues.slice(0, 20).map((i) => ({ path: clip(i.path), message: clip(i.message) })),
    key: key === null ? null : clip(key),
    value_base64: kept ? kept.toString('base64') : null,
    ...(bytes ? { value_sha256: createHash('sha256').update(bytes).digest('hex'), value_bytes: bytes.length } : {}),
    ...view,
    ...(opts.stage ? { stage: opts.stage } : {}),
    headers,
    failed_at: now.toISOString(),
  };
}

/** Moves a message a consumer cannot accept to `<topic>.dlq`, with why and (see dlqRecordFor) what it held. */
export async function sendToDlq(producer: EventProducer, record: DlqRecord): Promise<void> {
  await producer.sendRaw(dlqTopic(record.source_topic), [
    {
      key: record.key ?? `${record.source_topic}:${record.partition}:${record.offset}`,
      value: JSON.stringify(record),
      headers: { 'content-type': 'application/json', 'dlq-consumer': record.consumer },
    },
  ]);
}
