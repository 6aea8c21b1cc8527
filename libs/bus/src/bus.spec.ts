import { z } from 'zod';
import { BaseEnvSchema, ConfigError, loadEnv } from './config/env';
import { dlqRecordFor } from './kafka/dlq';
import { deterministicEventId } from './kafka/event-factory';

describe('loadEnv', () => {
  it('applies defaults', () => {
    const env = loadEnv(BaseEnvSchema, { PORT: '8081' });
    expect(env).toMatchObject({
      PORT: 8081,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/countersign',
    });
  });
  it('splits broker lists', () => {
    expect(loadEnv(BaseEnvSchema, { PORT: '1', KAFKA_BROKERS: 'a:1, b:2' }).KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });
  it('names every bad variable in one readable message', () => {
    const schema = BaseEnvSchema.extend({ SLA: z.coerce.number().int() });
    let error: unknown;
    try {
      loadEnv(schema, { PORT: 'eighty', DATABASE_URL: 'not a url', SLA: 'x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid configuration:/);
    expect(message).toMatch(/PORT: /);
    expect(message).toMatch(/DATABASE_URL: /);
    expect(message).toMatch(/SLA: /);
  });
  it('says when a required variable is not set', () => {
    expect(() => loadEnv(BaseEnvSchema, {})).toThrow(/PORT: .*\(not set\)/);
  });
});

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
