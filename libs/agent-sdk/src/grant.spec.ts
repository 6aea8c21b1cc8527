import { generateSigningKeyPair, publicKeyFromPem, signEvent, signerFromPem } from '@countersign/crypto';
import { GrantVerificationError } from './errors';
import { verifyGrant } from './grant';

const pair = generateSigningKeyPair();
const trusted = [publicKeyFromPem(pair.publicKeyPem)];
const signer = signerFromPem(pair.privateKeyPem);
const now = new Date('2026-11-24T10:00:00.000Z');
const hash = 'b'.repeat(64);
const expected = { jobId: 'job-1', jobHash: hash, agentId: 'bot', tenant: 'acme' };

function grant(over: Record<string, unknown> = {}, sign = signer) {
  return signEvent(
    {
      event_id: '7d0f8a3e-2b1c-4c3d-9e8f-0a1b2c3d4e5f',
      type: 'job.released',
      schema_version: 1,
      occurred_at: now.toISOString(),
      producer: 'execution-binding',
      data: {
        job_id: 'job-1',
        tenant: 'acme',
        agent_id: 'bot',
        job_hash: hash,
        policy_snapshot: `cfg:system:policy#sha256:${'a'.repeat(64)}`,
        constraints: { max_runtime_sec: 30 },
        released_at: now.toISOString(),
        expires_at: new Date(now.getTime() + 60_000).toISOString(),
        ...over,
      },
    },
    sign,
  );
}

describe('verifyGrant', () => {
  it('accepts a grant signed by a trusted key for exactly this job', () => {
    expect(verifyGrant(grant(), expected, trusted, now)).toEqual({
      jobId: 'job-1',
      jobHash: hash,
      policySnapshot: `cfg:system:policy#sha256:${'a'.repeat(64)}`,
      constraints: { max_runtime_sec: 30 },
      expiresAt: new Date(now.getTime() + 60_000),
    });
  });

  it.each([
    [
      'signed by another key',
      () => grant({}, signerFromPem(generateSigningKeyPair().privateKeyPem)),
      /unknown signing key/,
    ],
    [
      'altered after signing',
      () => ({ ...grant(), data: { ...grant().data, constraints: {} } }),
      /signature does not verify/,
    ],
    ['for another job', () => grant({ job_id: 'job-2' }), /job job-2/],
    ['for another agent', () => grant({ agent_id: 'other' }), /agent other/],
    ['for another payload (hash)', () => grant({ job_hash: 'c'.repeat(64) }), /not the hash of what was proposed/],
    ['expired', () => grant({ expires_at: now.toISOString() }), /expired/],
    ['not a grant', () => ({ hello: 'world' }), /not a job.released/],
  ])('refuses a grant %s', (_what, make, why) => {
    expect(() => verifyGrant(make() as Record<string, unknown>, expected, trusted, now)).toThrow(
      GrantVerificationError,
    );
    expect(() => verifyGrant(make() as Record<string, unknown>, expected, trusted, now)).toThrow(why);
  });
});
