import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  canonicalJson,
  eventDigest,
  generateSigningKeyPair,
  jobHash,
  keyIdOf,
  policySnapshotId,
  publicKeyFromPem,
  signEvent,
  signerFromPem,
  verifyEvent,
} from './index';

const job = {
  job_id: 'j1',
  tenant: 'acme',
  agent_id: 'a1',
  topic: 'job.deploy.rollout',
  risk_tags: ['write', 'prod', 'prod'],
  payload: { b: 1, a: [1, 'x'] },
  requested_by: 'alice@acme.test',
};

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys and drops insignificant whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: true, c: null } })).toBe('{"a":{"c":null,"d":true},"b":1}');
  });
  it('formats numbers as ECMAScript does', () => {
    expect(canonicalJson({ n: 1e21, m: 0.1, z: -0 })).toBe('{"m":0.1,"n":1e+21,"z":0}');
  });
  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(undefined)).toThrow(/no canonical JSON/);
  });
});

describe('jobHash', () => {
  it('is the SHA-256 of the canonical JSON of the job identity and requester, tags sorted and deduplicated', () => {
    const canonical =
      '{"agent_id":"a1","job_id":"j1","payload":{"a":[1,"x"],"b":1},"requested_by":"alice@acme.test","risk_tags":["prod","write"],"tenant":"acme","topic":"job.deploy.rollout"}';
    expect(createHash('sha256').update(canonical).digest('hex')).toBe(
      '99172a42a3b047e7f0126057d58a6547194f1a9b31f8a3468f22533b288cb1c7',
    );
    expect(jobHash(job)).toBe('99172a42a3b047e7f0126057d58a6547194f1a9b31f8a3468f22533b288cb1c7');
  });
  it('covers who asked: the same job for another requester hashes differently', () => {
    const canonical =
      '{"agent_id":"a1","job_id":"j1","payload":{"a":[1,"x"],"b":1},"requested_by":"bob@acme.test","risk_tags":["prod","write"],"tenant":"acme","topic":"job.deploy.rollout"}';
    expect(createHash('sha256').update(canonical).digest('hex')).toBe(
      '28d5938f304a046f845a8c4d7a4ac5bf30e06f84d4f886ffe0bff42eb08ef871',
    );
    expect(jobHash({ ...job, requested_by: 'bob@acme.test' })).toBe(
      '28d5938f304a046f845a8c4d7a4ac5bf30e06f84d4f886ffe0bff42eb08ef871',
    );
    expect(jobHash({ ...job, requested_by: 'bob@acme.test' })).not.toBe(jobHash(job));
  });
  it('refuses a job without a requester rather than hash it as before the requester was in', () => {
    const { requested_by: _r, ...noRequester } = job;
    expect(() => jobHash(noRequester as typeof job)).toThrow(/requested_by/);
  });
  it('ignores tag order and key order, but not payload changes', () => {
    const same = { ...job, risk_tags: ['prod', 'write'], payload: { a: [1, 'x'], b: 1 } };
    expect(jobHash(same)).toBe(jobHash(job));
    expect(jobHash({ ...job, payload: { a: [1, 'x'], b: 2 } })).not.toBe(jobHash(job));
    expect(jobHash({ ...job, job_id: 'j2' })).not.toBe(jobHash(job));
  });
  it('ignores fields outside the identity and requester (summary, time)', () => {
    expect(jobHash({ ...job, summary: { title: 'x' }, proposed_at: '2025-01-01T00:00:00Z' } as typeof job)).toBe(
      jobHash(job),
    );
  });
});

describe('policySnapshotId', () => {
  it('names scope and hash of the canonical document', () => {
    const doc = { version: 'v1', rules: [] };
    const hex = createHash('sha256').update('{"rules":[],"version":"v1"}').digest('hex');
    expect(policySnapshotId({ kind: 'system' }, doc)).toBe(`cfg:system:policy#sha256:${hex}`);
    expect(policySnapshotId({ kind: 'tenant', tenant: 'acme' }, doc)).toBe(`cfg:tenant:acme:policy#sha256:${hex}`);
  });
});

describe('event signatures (Ed25519)', () => {
  const pair = generateSigningKeyPair();
  const signer = signerFromPem(pair.privateKeyPem);
  const trusted = [publicKeyFromPem(pair.publicKeyPem)];
  const event = { event_id: 'e1', type: 'decision.made', data: { job_id: 'j1', decision: 'ALLOW' } };

  it('verifies what it signed', () => {
    expect(verifyEvent(signEvent(event, signer), trusted)).toEqual({ ok: true });
  });
  it('still verifies when the trace context was rewritten in transit', () => {
    const signed = signEvent(event, signer);
    expect(verifyEvent({ ...signed, trace: { traceparent: '00-x' } }, trusted)).toEqual({ ok: true });
  });
  it('refuses an altered field', () => {
    const signed = signEvent(event, signer);
    expect(verifyEvent({ ...signed, data: { job_id: 'j1', decision: 'DENY' } }, trusted)).toEqual({
      ok: false,
      reason: 'signature does not verify',
    });
  });
  it('refuses a missing signature and an unknown key', () => {
    expect(verifyEvent(event, trusted)).toEqual({ ok: false, reason: 'no signature' });
    const other = signerFromPem(generateSigningKeyPair().privateKeyPem);
    expect(verifyEvent(signEvent(event, other), trusted)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unknown signing key/),
    });
  });
  it('refuses a signature by a trusted key id over other bytes', () => {
    const signed = signEvent(event, signer);
    expect(verifyEvent({ ...signed, signature: { ...signed.signature, value: 'AAAA' } }, trusted).ok).toBe(false);
    expect(verifyEvent({ ...signed, signature: { alg: 'RS256', key_id: signer.keyId, value: 'x' } }, trusted)).toEqual({
      ok: false,
      reason: 'malformed signature',
    });
  });
  it('refuses keys of another type', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => signerFromPem(rsa)).toThrow(/Ed25519/);
    expect(keyIdOf(trusted[0]!)).toHaveLength(16);
  });
});

describe('eventDigest', () => {
  const decision = JSON.parse(
    '{"event_id":"0d0c6f3e-1c2b-4d5e-8f90-123456789abc","type":"decision.made","schema_version":1,' +
      '"occurred_at":"2026-12-04T10:00:00.000Z","producer":"policy-decision","trace":{"traceparent":"00-a-b-01"},' +
      '"data":{"job_id":"j1","decision":"ALLOW","decided_at":"2026-12-04T10:00:00.000Z"},' +
      '"signature":{"alg":"Ed25519","key_id":"k","value":"sig1"}}',
  ) as Record<string, unknown>;
  const data = decision['data'] as Record<string, unknown>;

  it('ignores the trace and the signature', () => {
    const other = {
      ...decision,
      trace: { traceparent: '00-c-d-01' },
      signature: { alg: 'Ed25519', key_id: 'k2', value: 'sig2' },
    };
    expect(eventDigest(other)).toBe(eventDigest(decision));
  });

  it("ignores policy-decision's re-emission stamps on a decision", () => {
    const again = {
      ...decision,
      occurred_at: '2026-12-04T10:05:00.000Z',
      data: { ...data, decided_at: '2026-12-04T10:05:00.000Z' },
    };
    expect(eventDigest(again)).toBe(eventDigest(decision));
  });

  it('tells any other change apart', () => {
    expect(eventDigest({ ...decision, data: { ...data, decision: 'DENY' } })).not.toBe(eventDigest(decision));
    expect(eventDigest({ ...decision, data: { ...data, job_id: 'j2' } })).not.toBe(eventDigest(decision));
    expect(eventDigest({ ...decision, producer: 'someone' })).not.toBe(eventDigest(decision));
  });

  it('keeps the time stamps of other topics in the identity', () => {
    const proposal = {
      ...decision,
      type: 'job.proposed',
      data: { job_id: 'j1', proposed_at: '2026-12-04T10:00:00.000Z' },
    };
    const later = { ...proposal, occurred_at: '2026-12-04T10:05:00.000Z' };
    expect(eventDigest(later)).not.toBe(eventDigest(proposal));
    const restamped = { ...proposal, data: { job_id: 'j1', proposed_at: '2026-12-04T10:05:00.000Z' } };
    expect(eventDigest(restamped)).not.toBe(eventDigest(proposal));
  });
});
