import { canonicalJson } from '@countersign/crypto';
import type { AnyEnvelope, DlqRecord } from '@countersign/contracts';
import {
  entryFromDlq,
  entryFromEvent,
  MALFORMED_DLQ,
  REJECTED_INPUT,
  UnrecordableInputError,
  type DlqMessage,
} from './audit-entry';

const at = '2026-11-24T10:00:00.000Z';
const snapshot = `cfg:tenant:acme:policy#sha256:${'a'.repeat(64)}`;

function envelope(type: string, data: Record<string, unknown>): AnyEnvelope {
  return {
    event_id: '7d0f8a3e-2b1c-4c3d-9e8f-0a1b2c3d4e5f',
    type,
    schema_version: 1,
    occurred_at: at,
    producer: 'test',
    data,
  };
}

function dlqMessage(value: Buffer | string | null, over: Partial<DlqMessage> = {}): DlqMessage {
  return {
    topic: 'job.proposed.dlq',
    partition: 2,
    offset: '17',
    key: 'k',
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: { 'dlq-consumer': 'approval-queue' },
    ...over,
  };
}

const dlqRecord = (over: Partial<DlqRecord> = {}): DlqRecord => ({
  source_topic: 'job.proposed',
  partition: 4,
  offset: '99',
  consumer: 'approval-queue',
  error: 'does not match job.proposed v1',
  issues: [{ path: 'data.tenant', message: 'Required' }],
  key: 'job-7',
  value_base64: Buffer.from(JSON.stringify({ data: { job_id: 'job-7', tenant: 'acme' } })).toString('base64'),
  headers: {},
  failed_at: at,
  ...over,
});

describe('entryFromEvent', () => {
  it('keys on topic and event id and keeps the job, tenant and the JSON as received', () => {
    const event = envelope('job.proposed', { job_id: 'job-1', tenant: 'acme' });
    const received = { ...event, extra_field: { kept: true } };
    const e = entryFromEvent('job.proposed', event, received);
    expect(e).toEqual({
      dedupe_key: `event:job.proposed:${event.event_id}`,
      source_topic: 'job.proposed',
      source_event_id: event.event_id,
      event_type: 'job.proposed',
      job_id: 'job-1',
      tenant: 'acme',
      body: canonicalJson(received),
    });
  });

  it('takes a policy.activated tenant from its scope and carries the snapshot', () => {
    const doc = { rules: [{ id: 'b', decision: 'deny' }], version: 1 };
    const e = entryFromEvent(
      'policy.activated',
      envelope('policy.activated', {
        snapshot_id: snapshot,
        scope: 'tenant:acme',
        document: doc,
        previous_snapshot_id: null,
        activated_at: at,
      }),
      {},
    );
    expect(e.job_id).toBeNull();
    expect(e.tenant).toBe('acme');
    expect(e.snapshot).toEqual({
      snapshot_id: snapshot,
      scope: 'tenant:acme',
      document: canonicalJson(doc),
      activated_at: at,
    });
  });

  it('has no tenant for the system policy', () => {
    const e = entryFromEvent(
      'policy.activated',
      envelope('policy.activated', {
        snapshot_id: snapshot,
        scope: 'system',
        document: {},
        previous_snapshot_id: null,
        activated_at: at,
      }),
      {},
    );
    expect(e.tenant).toBeNull();
  });

  it('refuses a body with no canonical form (so the inbox sends it to the DLQ, where it is recorded raw)', () => {
    const event = envelope('job.proposed', { job_id: 'job-1', tenant: 'acme' });
    expect(() => entryFromEvent('job.proposed', event, { n: Infinity })).toThrow(UnrecordableInputError);
  });
});

describe('entryFromDlq', () => {
  const now = new Date(at);

  it('records a DlqRecord keyed on where the rejected message was, with the job it was about', () => {
    const r = dlqRecord();
    const e = entryFromDlq(dlqMessage(JSON.stringify(r)), now);
    expect(e).toEqual({
      dedupe_key: 'dlq:job.proposed:4:99:approval-queue',
      source_topic: 'job.proposed.dlq',
      source_event_id: null,
      event_type: REJECTED_INPUT,
      job_id: 'job-7',
      tenant: 'acme',
      body: canonicalJson(r),
    });
  });

  it('leaves the job empty when the rejected bytes are not JSON', () => {
    const r = dlqRecord({ value_base64: Buffer.from('{"not": json').toString('base64') });
    expect(entryFromDlq(dlqMessage(JSON.stringify(r)), now)).toMatchObject({
      job_id: null,
      tenant: null,
      event_type: REJECTED_INPUT,
    });
  });

  it('ignores a job id that is not a valid id', () => {
    const r = dlqRecord({
      value_base64: Buffer.from(JSON.stringify({ data: { job_id: '../../etc' } })).toString('base64'),
    });
    expect(entryFromDlq(dlqMessage(JSON.stringify(r)), now).job_id).toBeNull();
  });

  it.each([
    ['garbage bytes', Buffer.from([0xff, 0x00, 0x7b])],
    ['JSON that is not a DlqRecord', Buffer.from('{"hello":"world"}')],
    ['an empty value', null],
  ])('records %s as a malformed DLQ message with its raw bytes', (_, value) => {
    const e = entryFromDlq(dlqMessage(value), now);
    expect(e.event_type).toBe(MALFORMED_DLQ);
    expect(e.dedupe_key).toBe('dlq-raw:job.proposed.dlq:2:17');
    const body = JSON.parse(e.body) as DlqRecord;
    expect(body).toMatchObject({
      source_topic: 'job.proposed.dlq',
      partition: 2,
      offset: '17',
      consumer: 'audit',
      key: 'k',
      failed_at: at,
    });
    expect(body.error).toMatch(/^not a valid DLQ record: /);
    expect(body.value_base64).toBe(value ? value.toString('base64') : null);
  });
});
