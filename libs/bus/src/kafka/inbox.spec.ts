import { DlqRecordSchema, exampleEvents, type DlqRecord, type JobProposedV1 } from '@countersign/contracts';
import pino from 'pino';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { DatabaseError } from 'pg';
import { QueryFailedError, TypeORMError } from 'typeorm';
import { z } from 'zod';
import { DLQ_MAX_VALUE_BYTES, type RawMessage } from './dlq';
import type { EventProducer } from './event-producer';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  KafkaInbox,
  PoisonMessageError,
  TransientError,
  classifyFailure,
  type InboxOptions,
} from './inbox';

/** A strict fake of the one producer call the inbox makes: it records every DLQ message. */
function fakeProducer() {
  const sent: { topic: string; key: string; record: DlqRecord; headers: Record<string, string> }[] = [];
  const producer = {
    sendRaw: async (topic: string, messages: { key: string; value: string; headers: Record<string, string> }[]) => {
      for (const m of messages)
        sent.push({ topic, key: m.key, record: DlqRecordSchema.parse(JSON.parse(m.value)), headers: m.headers });
      return [];
    },
  } as unknown as EventProducer;
  return { producer, sent };
}

const proposal = exampleEvents['job.proposed'] as unknown as JobProposedV1;

function message(value: Buffer | string | null): RawMessage {
  return { topic: 'job.proposed', partition: 2, offset: '7', key: 'job-1', value, headers: {} };
}

function inbox(maxMessageBytes?: number, more: Partial<InboxOptions> = {}) {
  const fake = fakeProducer();
  const sut = new KafkaInbox({
    consumer: 'policy-decision',
    producer: fake.producer,
    logger: pino({ level: 'silent' }),
    isStopping: () => false,
    maxBackoffMs: 1,
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
    ...more,
  });
  return { sut, sent: fake.sent };
}

/** A PostgreSQL error as node-postgres raises it. */
function pgError(code: string): DatabaseError {
  const e = new DatabaseError(`pg error ${code}`, 0, 'error');
  e.code = code;
  e.severity = 'ERROR';
  return e;
}

/** A real ECONNREFUSED from the kernel (port 1 on loopback has no listener). */
function refusedConnection(): Promise<Error> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: 1 });
    s.on('error', (e) => resolve(e));
  });
}

/** A job.proposed whose bytes are built by concatenation: JSON.stringify cannot write 1e309. */
const rawProposal = (payloadText: string, jobId = 'job-1') =>
  JSON.stringify({ ...proposal, data: { ...proposal.data, job_id: jobId, payload: { p: 0 } } }).replace(
    '{"p":0}',
    payloadText,
  );

/** A valid job.proposed padded to exactly `bytes` bytes of JSON. */
function paddedProposal(bytes: number): Buffer {
  const base = { ...proposal, data: { ...proposal.data, payload: { pad: '' } } };
  const pad = bytes - Buffer.byteLength(JSON.stringify(base));
  return Buffer.from(JSON.stringify({ ...base, data: { ...base.data, payload: { pad: 'x'.repeat(pad) } } }));
}

describe('KafkaInbox', () => {
  it('hands a valid event to the handler', async () => {
    const { sut, sent } = inbox();
    const seen: string[] = [];
    await sut.handle('job.proposed', message(JSON.stringify(proposal)), async (e) => void seen.push(e.event_id));
    expect(seen).toEqual([proposal.event_id]);
    expect(sent).toEqual([]);
  });

  it('sends an invalid message to <topic>.dlq with the reason and moves on', async () => {
    const { sut, sent } = inbox();
    const handler = jest.fn();
    await sut.handle('job.proposed', message('{"not":"a proposal"}'), handler);
    expect(handler).not.toHaveBeenCalled();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      topic: 'job.proposed.dlq',
      headers: { 'dlq-consumer': 'policy-decision' },
      record: {
        consumer: 'policy-decision',
        partition: 2,
        offset: '7',
        error: expect.stringMatching(/does not match job\.proposed/),
      },
    });
  });

  it('sends a PoisonMessageError from the handler to the DLQ without retrying', async () => {
    const { sut, sent } = inbox();
    const handler = jest.fn(async () => {
      throw new PoisonMessageError('cannot ever work');
    });
    await sut.handle('job.proposed', message(JSON.stringify(proposal)), handler);
    expect(handler).toHaveBeenCalledTimes(1);
    expect(sent.map((s) => s.record.error)).toEqual(['cannot ever work']);
  });

  describe('MAX_MESSAGE_BYTES', () => {
    it('defaults to 1 MiB', () => {
      expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(1048576);
    });

    it('accepts a message of exactly the limit', async () => {
      const { sut, sent } = inbox(4096);
      const handler = jest.fn(async () => undefined);
      await sut.handle('job.proposed', message(paddedProposal(4096)), handler);
      expect(handler).toHaveBeenCalledTimes(1);
      expect(sent).toEqual([]);
    });

    it('refuses a message one byte over the limit before parsing it, naming its size and the limit', async () => {
      const { sut, sent } = inbox(4096);
      const handler = jest.fn();
      // Valid JSON of the contract: only the size is wrong, so the refusal cannot come from parsing.
      await sut.handle('job.proposed', message(paddedProposal(4097)), handler);
      expect(handler).not.toHaveBeenCalled();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.topic).toBe('job.proposed.dlq');
      expect(sent[0]!.record.error).toBe('message is 4097 bytes, over the 4096-byte limit (MAX_MESSAGE_BYTES)');
      expect(sent[0]!.record.issues).toEqual([]);
    });

    it('applies the default to a 2 MiB message that is not even JSON', async () => {
      const { sut, sent } = inbox();
      await sut.handle('job.proposed', message(Buffer.alloc(2 * 1048576, 0x7b)), jest.fn());
      expect(sent[0]!.record.error).toMatch(
        /^message is 2097152 bytes, over the 1048576-byte limit \(MAX_MESSAGE_BYTES\)/,
      );
    });

    it('keeps only the head of a huge value in the DLQ record (with DLQ_KEEP_RAW), so the record fits on the broker', async () => {
      const { sut, sent } = inbox(undefined, { dlqKeepRaw: true });
      await sut.handle('job.proposed', message(Buffer.alloc(2 * 1048576, 0x61)), jest.fn());
      const record = sent[0]!.record;
      expect(Buffer.from(record.value_base64 ?? '', 'base64')).toHaveLength(DLQ_MAX_VALUE_BYTES);
      expect(record.error).toContain(`keeps the first ${DLQ_MAX_VALUE_BYTES} of 2097152 bytes`);
      expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(1000000);
    });

    it('counts UTF-8 bytes of a string value, not characters', async () => {
      const { sut, sent } = inbox(1024);
      await sut.handle('job.proposed', message('é'.repeat(600)), jest.fn());
      expect(sent[0]!.record.error).toBe('message is 1200 bytes, over the 1024-byte limit (MAX_MESSAGE_BYTES)');
    });
  });

  it('hands the handler a payload with __proto__, constructor and prototype kept exactly as sent', async () => {
    const { sut, sent } = inbox();
    let payload: Record<string, unknown> | undefined;
    await sut.handle('job.proposed', message(rawProposal('{"__proto__":{"admin":true},"prototype":1}')), async (e) => {
      payload = e.data.payload;
    });
    expect(sent).toEqual([]);
    expect(Object.keys(payload!)).toEqual(['__proto__', 'prototype']);
    expect(JSON.stringify(payload)).toBe('{"__proto__":{"admin":true},"prototype":1}');
  });

  describe('poison in the pure step', () => {
    it.each([
      ['1e309 in the payload', rawProposal('{"n":1e309}'), /data\.payload\.n: number is not finite/],
      ['an integer beyond 2^53', rawProposal('{"n":9007199254740993}'), /beyond ±\(2\^53−1\)/],
      ['a duplicate key', rawProposal('{"a":1,"a":2}'), /data\.payload\.a: duplicate key "a"/],
      ['5,000-deep nesting', rawProposal(`${'['.repeat(5000)}${']'.repeat(5000)}`), /nested deeper than 66 levels/],
      ['a BOM', `\ufeff${rawProposal('{}')}`, /byte order mark/],
    ])('sends %s to the DLQ once, never to the handler, naming the reason', async (_what, raw, reason) => {
      const { sut, sent } = inbox();
      const handler = jest.fn();
      await sut.handle('job.proposed', message(raw), handler);
      expect(handler).not.toHaveBeenCalled();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.record).toMatchObject({ error: expect.stringMatching(reason), stage: 'message' });
    });

    it('sends invalid UTF-8 to the DLQ', async () => {
      const { sut, sent } = inbox();
      const [head, tail] = rawProposal('{"s":"@"}').split('@') as [string, string];
      await sut.handle(
        'job.proposed',
        message(Buffer.concat([Buffer.from(head), Buffer.from([0xff]), Buffer.from(tail)])),
        jest.fn(),
      );
      expect(sent[0]!.record.error).toBe('value is not valid UTF-8 (JSON on the bus must be UTF-8)');
    });
  });

  describe('handler failures', () => {
    const permanent: [string, () => unknown][] = [
      ['a TypeError', () => new TypeError("Cannot read properties of undefined (reading 'x')")],
      ['a RangeError', () => new RangeError('Invalid array length')],
      ['canonical JSON refusing Infinity', () => new TypeError('Infinity is not allowed')],
      ['a PoisonMessageError', () => new PoisonMessageError('cannot ever work')],
      ['a zod error', () => z.object({ a: z.string() }).safeParse({}).error],
      ['a domain error with a code', () => Object.assign(new Error('self approval'), { code: 'SELF_APPROVAL' })],
      ['pg class 22 (data exception)', () => pgError('22P02')],
      ['pg class 42 (undefined column: a bug)', () => pgError('42703')],
      ['TypeORM wrapping pg class 22', () => new QueryFailedError('insert', [], pgError('22021'))],
      [
        'a kafkajs refusal of the record itself',
        () =>
          new KafkaJSProtocolError({
            message: 'too large',
            type: 'MESSAGE_TOO_LARGE',
            code: 10,
            retriable: false,
          } as unknown as Error),
      ],
      [
        'kafkajs giving up on a record the broker refused (the refusal as its cause)',
        () => {
          const refusal = new KafkaJSProtocolError({
            message: 'too large',
            type: 'MESSAGE_TOO_LARGE',
            code: 10,
            retriable: false,
          } as unknown as Error);
          // kafkajs takes `{ cause }` (src/errors.js); its .d.ts leaves the second argument out.
          const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error;
          return new NonRetriable(refusal, { cause: refusal });
        },
      ],
      ['a thrown string', () => 'oops'],
    ];

    it.each(permanent)('classifies %s as permanent', (_what, make) => {
      expect(classifyFailure(make()).kind).toBe('permanent');
    });

    it.each(permanent)(
      'sends a valid event whose handler throws %s to the DLQ after one attempt',
      async (_what, make) => {
        const { sut, sent } = inbox();
        const handler = jest.fn(async () => {
          throw make();
        });
        await sut.handle('job.proposed', message(JSON.stringify(proposal)), handler);
        expect(handler).toHaveBeenCalledTimes(1);
        expect(sent).toHaveLength(1);
        expect(sent[0]!.record).toMatchObject({
          stage: 'handler',
          consumer: 'policy-decision',
          error: expect.any(String),
        });
      },
    );

    it('names the error class and code in the DLQ reason', async () => {
      const { sut, sent } = inbox();
      await sut.handle('job.proposed', message(JSON.stringify(proposal)), async () => {
        throw pgError('22P02');
      });
      expect(sent[0]!.record.error).toBe('error 22P02: pg error 22P02');
    });

    const transient: [string, () => Promise<unknown> | unknown][] = [
      ['a real ECONNREFUSED', refusedConnection],
      [
        'an ETIMEDOUT system error',
        () => Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'connect', errno: -110 }),
      ],
      [
        'an EPIPE system error',
        () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write', errno: -32 }),
      ],
      ['pg class 08 (connection failure)', () => pgError('08006')],
      ['pg class 40 (serialization failure)', () => pgError('40001')],
      ['pg class 57 (admin shutdown)', () => pgError('57P01')],
      ['pg class 53 (too many connections)', () => pgError('53300')],
      ['pg 42501 (permission denied: a grant, fixed by configuration)', () => pgError('42501')],
      ['pg class 23 (a unique violation racing another writer)', () => pgError('23505')],
      ['TypeORM wrapping pg class 40', () => new QueryFailedError('update', [], pgError('40P01'))],
      [
        'TypeORM wrapping a lost connection',
        () => new QueryFailedError('select', [], new Error('Connection terminated unexpectedly')),
      ],
      ['node-postgres losing its connection', () => new Error('Connection terminated unexpectedly')],
      ['pg-pool timing out', () => new Error('timeout exceeded when trying to connect')],
      ['a kafkajs connection error', () => new KafkaJSConnectionError('Connection error: ECONNREFUSED')],
      [
        'kafkajs giving up its retries',
        () => new KafkaJSNumberOfRetriesExceeded(new Error('x'), { retryCount: 5, retryTime: 100 }),
      ],
      ['an explicit TransientError', () => new TransientError('executor target busy')],
      // What the fault suite met while PostgreSQL restarted: TypeORM's pool gone, no SQLSTATE.
      ['TypeORM while PostgreSQL restarts ("Driver not Connected")', () => new TypeORMError('Driver not Connected')],
      [
        'fetch timing out on connect (undici, caught as the cause)',
        () =>
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
          }),
      ],
      [
        'fetch failing on a refused connection (a TypeError with a system-error cause)',
        async () => new TypeError('fetch failed', { cause: await refusedConnection() }),
      ],
      [
        'an AggregateError of refused connections',
        async () => new AggregateError([await refusedConnection()], 'all failed'),
      ],
    ];

    it.each(transient)('classifies %s as transient', async (_what, make) => {
      expect(classifyFailure(await make()).kind).toBe('transient');
    });

    it('retries a transient failure, holding the message, then handles it; nothing reaches the DLQ', async () => {
      const { sut, sent } = inbox();
      const failure = pgError('08006');
      let calls = 0;
      await sut.handle('job.proposed', message(JSON.stringify(proposal)), async () => {
        calls++;
        if (calls < 4) throw failure;
      });
      expect(calls).toBe(4);
      expect(sent).toEqual([]);
    });

    it('gives up on a transient failure by throwing when the service stops, so the offset is not committed', async () => {
      let stopping = false;
      const { sut, sent } = inbox(undefined, { isStopping: () => stopping });
      const failure = new TransientError('db down');
      const handled = sut.handle('job.proposed', message(JSON.stringify(proposal)), async () => {
        stopping = true;
        throw failure;
      });
      await expect(handled).rejects.toBe(failure);
      expect(sent).toEqual([]);
    });

    it('keeps a permanent verdict on the error itself over a transient cause', () => {
      expect(classifyFailure(new PoisonMessageError('bad', { cause: pgError('08006') })).kind).toBe('permanent');
    });
  });

  describe('DLQ records keep no secrets by default', () => {
    it('keeps the proposal with its payload redacted, the SHA-256 and length of the bytes, and the job hash', async () => {
      const { sut, sent } = inbox();
      const raw = rawProposal('{"service":"api","password":"hunter2","db":{"api_key":"k-123"}}');
      await sut.handle('job.proposed', message(raw), async () => {
        throw new TypeError('boom');
      });
      const r = sent[0]!.record;
      expect(r.value_base64).toBeNull();
      expect(r.value_sha256).toBe(createHash('sha256').update(raw).digest('hex'));
      expect(r.value_bytes).toBe(Buffer.byteLength(raw));
      expect(r.payload_job_hash).toMatch(/^[0-9a-f]{64}$/);
      expect((r.value_redacted as { data: { payload: unknown; job_id: string } }).data).toMatchObject({
        job_id: 'job-1',
        payload: { service: 'api', password: '[REDACTED]', db: { api_key: '[REDACTED]' } },
      });
      expect(r.redacted_fields).toEqual(['data.payload.password', 'data.payload.db.api_key']);
      expect(JSON.stringify(r)).not.toMatch(/hunter2|k-123/);
    });

    it('uses the service REDACT_FIELDS when given', async () => {
      const { sut, sent } = inbox(undefined, { redactFields: ['pin'] });
      await sut.handle('job.proposed', message(rawProposal('{"pin":"1234","n":1e309}')), jest.fn());
      const payload = (sent[0]!.record.value_redacted as { data: { payload: Record<string, unknown> } }).data.payload;
      // 1e309 has no JSON form: the copy marks it rather than writing null, and no job hash exists.
      expect(payload).toEqual({ pin: '[REDACTED]', n: '[not representable] Infinity' });
      expect(sent[0]!.record.payload_job_hash).toBeUndefined();
    });

    it('keeps only the digest and length of bytes that do not parse', async () => {
      const { sut, sent } = inbox();
      const raw = Buffer.from('{"password":"hunter2",');
      await sut.handle('job.proposed', message(raw), jest.fn());
      const r = sent[0]!.record;
      expect(r).toMatchObject({
        value_base64: null,
        value_bytes: raw.length,
        value_sha256: createHash('sha256').update(raw).digest('hex'),
      });
      expect(r.value_redacted).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain('hunter2');
    });

    it('keeps the raw bytes with DLQ_KEEP_RAW', async () => {
      const { sut, sent } = inbox(undefined, { dlqKeepRaw: true });
      const raw = rawProposal('{"n":1e309}');
      await sut.handle('job.proposed', message(raw), jest.fn());
      expect(Buffer.from(sent[0]!.record.value_base64!, 'base64').toString()).toBe(raw);
    });

    it('makes a copy that any DLQ consumer can store: no NUL, no lone surrogate, bounded depth', async () => {
      const { sut, sent } = inbox();
      await sut.handle(
        'job.proposed',
        message(rawProposal(`{"s":"a\\u0000\\ud800","d":${'['.repeat(5000)}${']'.repeat(5000)}}`)),
        jest.fn(),
      );
      const payload = (sent[0]!.record.value_redacted as { data: { payload: { s: string; d: unknown } } }).data.payload;
      expect(payload.s).toBe('a\\u0000\uFFFD');
      // The copy keeps MAX_EVENT_DEPTH (66) levels: the event, data, payload and 63 of the arrays.
      expect(JSON.stringify(payload.d)).toBe(`${'['.repeat(63)}"[nested too deep]"${']'.repeat(63)}`);
    });
  });
});
