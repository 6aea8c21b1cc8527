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

export function dlqRecordFor(
  msg: RawMessage,
  consumer: string,
  error: string,
  issues: DlqRecord['issues'],
  now = new Date(),
): DlqRecord {
  const bytes = asBytes(msg.value);
  return {
    source_topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    consumer,
    error: error.slice(0, 4000),
    issues: issues.slice(0, 20),
    key: asText(msg.key),
    value_base64: bytes ? bytes.toString('base64') : null,
    headers: headersAsText(msg.headers),
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
