import { exampleEvents } from '@countersign/contracts';
import { generateSigningKeyPair, publicKeyFromPem, signEvent, signerFromPem, type Signer } from '@countersign/crypto';
import { BlockedError, DeniedError, ExpiredError, RejectedError } from './errors';
import { blockedError, outcomeOf, signalOf } from './outcome';

const pair = generateSigningKeyPair();
const signer = signerFromPem(pair.privateKeyPem);
const trusted = [publicKeyFromPem(pair.publicKeyPem)];
const signed = (event: object, by: Signer = signer) =>
  JSON.stringify(signEvent({ ...(event as Record<string, unknown>) }, by));
const blockedData = exampleEvents['job.blocked'].data as Record<string, unknown>;
const blocked = (over: Record<string, unknown>) =>
  signed({ ...exampleEvents['job.blocked'], data: { ...blockedData, ...over } });

describe('signalOf', () => {
  it('reads signed grants, executions and blocks', () => {
    expect(signalOf('job.released', signed(exampleEvents['job.released']), trusted)).toMatchObject({
      kind: 'released',
      jobId: 'job-1',
    });
    expect(signalOf('job.executed', signed(exampleEvents['job.executed']), trusted)).toMatchObject({
      kind: 'executed',
      jobId: 'job-1',
    });
    expect(signalOf('job.blocked', blocked({}), trusted)).toMatchObject({ kind: 'blocked', jobId: 'job-1' });
  });

  it('ignores unsigned and forged outcome events', () => {
    expect(signalOf('job.blocked', JSON.stringify(exampleEvents['job.blocked']), trusted)).toBeNull();
    const forger = signerFromPem(generateSigningKeyPair().privateKeyPem);
    expect(signalOf('job.executed', signed(exampleEvents['job.executed'], forger), trusted)).toBeNull();
  });

  it('ignores report-only blocks: the job outcome stands', () => {
    expect(signalOf('job.blocked', blocked({ reason_code: 'DUPLICATE', report_only: true }), trusted)).toBeNull();
  });

  it('ignores garbage and other topics', () => {
    expect(signalOf('job.blocked', '{nope', trusted)).toBeNull();
    expect(signalOf('job.blocked', null, trusted)).toBeNull();
    expect(signalOf('job.proposed', signed(exampleEvents['job.proposed']), trusted)).toBeNull();
  });
});

describe('blockedError', () => {
  const data = (reason_code: string, reason_text: string | null = null) =>
    ({ ...blockedData, reason_code, reason_text }) as Parameters<typeof blockedError>[0];

  it('types the common reasons', () => {
    expect(blockedError(data('DENIED'))).toBeInstanceOf(DeniedError);
    expect(blockedError(data('EXPIRED'))).toBeInstanceOf(ExpiredError);
    const rejected = blockedError(data('REJECTED', 'not during the freeze'));
    expect(rejected).toBeInstanceOf(RejectedError);
    expect((rejected as RejectedError).reason).toBe('not during the freeze');
    expect(rejected.message).toContain('not during the freeze');
  });

  it('keeps the code of any other block', () => {
    const sut = blockedError(data('HASH_MISMATCH'));
    expect(sut).toBeInstanceOf(BlockedError);
    expect(sut).not.toBeInstanceOf(DeniedError);
    expect(sut).toMatchObject({
      code: 'HASH_MISMATCH',
      reasonCode: 'HASH_MISMATCH',
      jobId: 'job-1',
      name: 'BlockedError',
    });
  });
});

describe('outcomeOf', () => {
  it('maps job.executed', () => {
    const d = exampleEvents['job.executed'].data as Parameters<typeof outcomeOf>[0];
    expect(outcomeOf(d)).toMatchObject({
      jobId: 'job-1',
      status: d.status,
      executor: d.executor,
      attempts: d.attempts,
    });
  });
});
