import { dlqTopic, type DlqRecord } from '@countersign/contracts';
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

const clip = (text: string): string => (text.length > DLQ_MAX_TEXT ? `${text.slice(0, DLQ_MAX_TEXT)}…` : text);

export function dlqRecordFor(
  msg: RawMessage,
  consumer: string,
  error: string,
  issues: DlqRecord['issues'],
  now = new Date(),
): DlqRecord {
  const bytes = asBytes(msg.value);
  const kept = bytes && bytes.length > DLQ_MAX_VALUE_BYTES ? bytes.subarray(0, DLQ_MAX_VALUE_BYTES) : bytes;
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
  return {
    source_topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    consumer,
    error: error.slice(0, 4000) + note,
    issues: issues.slice(0, 20).map((i) => ({ path: clip(i.path), message: clip(i.message) })),
    key: key === null ? null : clip(key),
    value_base64: kept ? kept.toString('base64') : null,
    headers,
    failed_at: now.toISOString(),
  };
}

/** Moves a message a consumer cannot accept to `<topic>.dlq`, with the original bytes and why. */
export async function sendToDlq(producer: EventProducer, record: DlqRecord): Promise<void> {
  await producer.sendRaw(dlqTopic(record.source_topic), [
    {
      key: record.key ?? `${record.source_topic}:${record.partition}:${record.offset}`,
      value: JSON.stringify(record),
      headers: { 'content-type': 'application/json', 'dlq-consumer': record.consumer },
    },
  ]);
}
