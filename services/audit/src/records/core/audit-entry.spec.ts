import {
  canonicalJson,
  generateSigningKeyPair,
  jobHash,
  publicKeyFromPem,
  sha256Hex,
  signEvent,
  signerFromPem,
} from '@countersign/crypto';
import {
  DEFAULT_REDACT_FIELDS,
  REDACTED,
  SignedTopics,
  type AnyEnvelope,
  type DlqRecord,
} from '@countersign/contracts';
import {
  conflictEntry,
  contentDigest,
  entryFromDlq,
  entryFromEvent,
  MALFORMED_DLQ,
  REJECTED_INPUT,
  signatureVerdict,
  UnrecordableInputError,
  type DlqMessage,
  type RecordingPolicy,
} from './audit-entry';

const policyKeys = generateSigningKeyPair();
const otherKeys = generateSigningKeyPair();
const policySigner = signerFromPem(policyKeys.privateKeyPem);
const recording: RecordingPolicy = {
  trusted: { 'policy-decision': [publicKeyFromPem(policyKeys.publicKeyPem)] },
  redactFields: DEFAULT_REDACT_FIELDS,
  keepFullPayloads: false,
};

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

/** The fields of an entry that keeps `message` whole: unredacted, unsigned, no conflict. */
const keptWhole = (message: unknown) => ({
  body: canonicalJson(message),
  digest: sha256Hex(canonicalJson(message)),
  signature: 'unsigned',
  signature_reason: null,
  redaction: null,
  conflict: null,
});

describe('entryFromEvent', () => {
  it('keys on topic and event id and keeps the job, tenant and the JSON as received', () => {
    const event = envelope('job.proposed', { job_id: 'job-1', tenant: 'acme' });
    const received = { ...event, extra_field: { kept: true } };
    const e = entryFromEvent('job.proposed', event, received, recording);
    expect(e).toEqual({
      dedupe_key: `event:job.proposed:${event.event_id}`,
      source_topic: 'job.proposed',
      source_event_id: event.event_id,
      event_type: 'job.proposed',
      job_id: 'job-1',
      tenant: 'acme',
      kind: 'event',
      ...keptWhole(received),
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
      recording,
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
      recording,
    );
    expect(e.tenant).toBeNull();
  });

  it('refuses a body with no canonical form (so the inbox sends it to the DLQ, where it is recorded raw)', () => {
    const event = envelope('job.proposed', { job_id: 'job-1', tenant: 'acme' });
    expect(() => entryFromEvent('job.proposed', event, { n: Infinity }, recording)).toThrow(UnrecordableInputError);
  });
});

describe('signatureVerdict', () => {
  const decision = () =>
    signEvent(
      {
        ...envelope('decision.made', { job_id: 'job-1', tenant: 'acme', decision: 'ALLOW' }),
        producer: 'policy-decision',
      },
      policySigner,
    ) as Record<string, unknown>;

  it('is verified with a key trusted for the topic producer', () => {
    expect(signatureVerdict('decision.made', decision(), recording.trusted)).toEqual({
      signature: 'verified',
      signature_reason: null,
    });
  });

  it('ignores the trace context, which is rewritten in transit', () => {
    const d = { ...decision(), trace: { traceparent: '00-abc-def-01' } };
    expect(signatureVerdict('decision.made', d, recording.trusted).signature).toBe('verified');
  });

  it('is invalid, with the reason, when the body was altered after signing', () => {
    const d = decision();
    const altered = { ...d, data: { ...(d['data'] as object), decision: 'DENY' } };
    expect(signatureVerdict('decision.made', altered, recording.trusted)).toEqual({
      signature: 'invalid',
      signature_reason: 'signature does not verify',
    });
  });

  it('is invalid when a signed topic carries no signature', () => {
    const { signature: _s, ...unsigned } = decision();
    expect(signatureVerdict('decision.made', unsigned, recording.trusted)).toEqual({
      signature: 'invalid',
      signature_reason: 'no signature',
    });
  });

  it('is invalid when signed by a key not trusted for the producer', () => {
    const forged = signEvent(
      envelope('decision.made', { job_id: 'job-1' }) as unknown as Record<string, unknown>,
      signerFromPem(otherKeys.privateKeyPem),
    );
    expect(signatureVerdict('decision.made', forged, recording.trusted).signature_reason).toMatch(
      /^unknown signing key/,
    );
  });

  it('is invalid when no key is trusted for the producer at all', () => {
    expect(signatureVerdict('approval.resolved', decision(), recording.trusted)).toEqual({
      signature: 'invalid',
      signature_reason: 'no key trusted for approval-queue',
    });
  });

  it.each(['job.blocked', 'job.executed', 'job.released', 'approval.escalated'])(
    'checks %s, which its producer signs too',
    (topic) => {
      expect(signatureVerdict(topic, decision(), recording.trusted).signature).toBe('invalid');
    },
  );

  it('is unsigned for a topic the contract does not sign', () => {
    expect(signatureVerdict('job.proposed', decision(), recording.trusted)).toEqual({
      signature: 'unsigned',
      signature_reason: null,
    });
  });

  it('is checked on the message as received: a signed decision is verified before anything is redacted', () => {
    const d = decision();
    const e = entryFromEvent('decision.made', d as unknown as AnyEnvelope, d, recording);
    expect(e.signature).toBe('verified');
  });
});

describe('payload redaction', () => {
  const proposal = () =>
    envelope('job.proposed', {
      job_id: 'job-9',
      tenant: 'acme',
      agent_id: 'fleet/a',
      topic: 'job.deploy',
      risk_tags: ['prod', 'db'],
      payload: { target: 'db-1', credentials: { password: 'hunter2', user: 'ops' }, items: [{ token: 't' }] },
      requested_by: 'alice@acme.test',
    });

  it('stores the payload redacted as the queue shows it, with the job_hash of the full proposal', () => {
    const event = proposal();
    const e = entryFromEvent('job.proposed', event, event, recording);
    const body = JSON.parse(e.body) as { data: { payload: Record<string, unknown> } };
    expect(body.data.payload).toEqual({
      target: 'db-1',
      credentials: { password: REDACTED, user: 'ops' },
      items: [{ token: REDACTED }],
    });
    expect(e.body).not.toContain('hunter2');
    expect(JSON.parse(e.redaction!)).toEqual({
      fields: ['credentials.password', 'items[0].token'],
      job_hash: jobHash(event.data as Parameters<typeof jobHash>[0]),
    });
    // The digest is of the full message, so a redelivery is told from a different body.
    expect(e.digest).toBe(contentDigest(event));
    expect(e.digest).not.toBe(sha256Hex(e.body));
  });

  it('keeps the payload whole only when told to', () => {
    const event = proposal();
    const e = entryFromEvent('job.proposed', event, event, { ...recording, keepFullPayloads: true });
    expect(e.body).toBe(canonicalJson(event));
    expect(e.redaction).toBeNull();
  });

  it('redacts the fields configured, not a fixed list', () => {
    const event = proposal();
    const e = entryFromEvent('job.proposed', event, event, { ...recording, redactFields: ['target'] });
    expect(JSON.parse(e.redaction!)).toMatchObject({ fields: ['target'] });
    expect(e.body).toContain('hunter2');
  });
});

describe('contentDigest and conflictEntry', () => {
  it('leaves trace out of the digest', () => {
    const event = envelope('job.blocked', { job_id: 'j' });
    expect(contentDigest({ ...event, trace: { traceparent: 'x' } })).toBe(contentDigest(event));
    expect(contentDigest({ ...event, producer: 'other' })).not.toBe(contentDigest(event));
  });

  it('turns an entry into a conflict record keyed on its own digest, naming the first record', () => {
    const event = envelope('policy.activated', { snapshot_id: snapshot, scope: 'system', document: {} });
    const e = entryFromEvent('policy.activated', event, event, recording);
    const c = conflictEntry(e, { seq: 4, digest: 'f'.repeat(64) });
    expect(c).toMatchObject({
      kind: 'conflict',
      dedupe_key: `conflict:event:policy.activated:${event.event_id}:${e.digest}`,
      digest: e.digest,
      body: e.body,
      conflict: canonicalJson({ first_digest: 'f'.repeat(64), first_seq: 4 }),
    });
    expect(c.snapshot).toBeUndefined();
  });
});

describe('entryFromDlq', () => {
  const now = new Date(at);

  it('links a record to its job through the redacted copy when the DLQ kept no bytes (the default)', () => {
    const r = dlqRecord({
      value_base64: null,
      value_redacted: { data: { job_id: 'job-8', tenant: 'acme', payload: { password: '[REDACTED]' } } },
    });
    const e = entryFromDlq(dlqMessage(JSON.stringify(r)), now);
    expect(e.job_id).toBe('job-8');
    expect(e.tenant).toBe('acme');
  });

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
      kind: 'rejected_input',
      ...keptWhole(r),
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

describe('the producers audit trusts', () => {
  it('are every producer SignedTopics names except audit itself', () => {
    // config/audit-config.ts loads one TRUST_<PRODUCER>_KEY per producer: a new signed producer needs one there.
    expect([...new Set(Object.values(SignedTopics))].filter((p) => p !== 'audit').sort()).toEqual([
      'approval-queue',
      'execution-binding',
      'policy-decision',
    ]);
  });
});
