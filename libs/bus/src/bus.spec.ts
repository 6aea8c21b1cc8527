import { z } from 'zod';
import { dlqRecordFor } from './kafka/dlq';
import { deterministicEventId } from './kafka/event-factory';

describe('deterministicEventId', () => {
  it('is a valid UUID, stable for the same parts and different for others', () => {
    const a = deterministicEventId('decision.made', 'job-1');
    expect(z.uuid().safeParse(a).success).toBe(true);
    expect(deterministicEventId('decision.made', 'job-1')).toBe(a);
    expect(deterministicEventId('decision.made', 'job-2')).not.toBe(a);
    expect(deterministicEventId('decision.made', 'job-1', '')).not.toBe(a);
  });
});

describe('dlqRecordFor', () => {
  it('keeps the original bytes (with DLQ_KEEP_RAW), key, headers and the reason', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b]);
    const r = dlqRecordFor(
      {
        topic: 'job.proposed',
        partition: 3,
        offset: '42',
        key: Buffer.from('k'),
        value: bytes,
        headers: { a: Buffer.from('1'), b: undefined },
      },
      'audit',
      'value is not JSON',
      [],
      new Date('2026-01-01T00:00:00Z'),
      { keepRaw: true },
    );
    expect(r).toEqual({
      source_topic: 'job.proposed',
      partition: 3,
      offset: '42',
      consumer: 'audit',
      error: 'value is not JSON',
      issues: [],
      key: 'k',
      value_base64: bytes.toString('base64'),
      value_sha256: 'b63c6c748b070064da9afd864dfb43bf94fdfccc16e8e168f420551eeda3416f',
      value_bytes: 3,
      headers: { a: '1' },
      failed_at: '2026-01-01T00:00:00.000Z',
    });
  });
  it('handles a message with no value or key', () => {
    const r = dlqRecordFor({ topic: 't', partition: 0, offset: '0', key: null, value: null }, 'c', 'empty', []);
    expect(r.value_base64).toBeNull();
    expect(r.key).toBeNull();
  });
});
