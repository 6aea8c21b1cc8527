import { DlqRecordSchema, exampleEvents, type DlqRecord, type JobProposedV1 } from '@countersign/contracts';
import pino from 'pino';
import { DLQ_MAX_VALUE_BYTES, type RawMessage } from './dlq';
import type { EventProducer } from './event-producer';
import { DEFAULT_MAX_MESSAGE_BYTES, KafkaInbox, PoisonMessageError } from './inbox';

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

function inbox(maxMessageBytes?: number) {
  const fake = fakeProducer();
  const sut = new KafkaInbox({
    consumer: 'policy-decision',
    producer: fake.producer,
    logger: pino({ level: 'silent' }),
    isStopping: () => false,
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
  });
  return { sut, sent: fake.sent };
}

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

    it('keeps only the head of a huge value in the DLQ record, so the record itself fits on the broker', async () => {
      const { sut, sent } = inbox();
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
});
