import {
  exampleEvents,
  type ApprovalResolvedData,
  type DecisionMadeData,
  type JobProposedData,
} from '@countersign/contracts';
import { canonicalJson, jobHash, sha256Hex } from '@countersign/crypto';
import { applyFact, digestPrefix, factDigest, factsOf, waitingState } from './incoming-fact';
import { JobEntity } from '../job.entity';

const now = new Date('2026-11-24T10:00:00.000Z');
const proposal = exampleEvents['job.proposed'].data as JobProposedData;
const decision = exampleEvents['decision.made'].data as DecisionMadeData;
const resolution = exampleEvents['approval.resolved'].data as ApprovalResolvedData;

function job(): JobEntity {
  return Object.assign(new JobEntity(), {
    jobId: 'job-1',
    tenant: null,
    state: 'pending',
    firstSeenAt: now,
    updatedAt: now,
    deadlineAt: null,
    proposal: null,
    proposalEventId: null,
    proposalReceivedAt: null,
    jobHash: null,
    decision: null,
    decisionEventId: null,
    decisionSignatureError: null,
    decisionReceivedAt: null,
    resolution: null,
    resolutionEventId: null,
    resolutionSignatureError: null,
    resolutionReceivedAt: null,
    duplicate: null,
    lateFacts: 0,
  });
}

describe('applyFact', () => {
  it('stores the first fact of each kind, hashing the proposal itself', () => {
    const sut = job();
    applyFact(sut, { kind: 'resolution', eventId: 'r1', data: resolution, signatureError: null }, now);
    applyFact(sut, { kind: 'proposal', eventId: 'p1', data: proposal, signatureError: null }, now);
    applyFact(sut, { kind: 'decision', eventId: 'd1', data: decision, signatureError: 'bad' }, now);
    expect(sut).toMatchObject({
      proposalEventId: 'p1',
      decisionEventId: 'd1',
      resolutionEventId: 'r1',
      jobHash: jobHash(proposal),
      tenant: 'acme',
    });
    expect(factsOf(sut)).toMatchObject({
      proposal: { eventId: 'p1' },
      decision: { eventId: 'd1', signatureError: 'bad' },
      resolution: { eventId: 'r1', signatureError: null },
      duplicate: null,
    });
  });

  it('keeps a second fact of a kind aside as the duplicate, never replacing the first', () => {
    const sut = job();
    applyFact(sut, { kind: 'proposal', eventId: 'p1', data: proposal, signatureError: null }, now);
    applyFact(
      sut,
      { kind: 'proposal', eventId: 'p2', data: { ...proposal, payload: { other: true } }, signatureError: null },
      now,
    );
    applyFact(sut, { kind: 'proposal', eventId: 'p3', data: proposal, signatureError: null }, now);
    expect(sut.proposalEventId).toBe('p1');
    expect(sut.jobHash).toBe(jobHash(proposal));
    expect(sut.duplicate).toEqual({ kind: 'proposal', eventId: 'p2', signatureError: null });
  });

  it('keeps a proposal re-sent for another requester aside as the duplicate: the first requester stays hashed', () => {
    const sut = job();
    applyFact(sut, { kind: 'proposal', eventId: 'p1', data: proposal, signatureError: null }, now);
    const resent = { ...proposal, requested_by: 'mallory' };
    applyFact(sut, { kind: 'proposal', eventId: 'p2', data: resent, signatureError: null }, now);
    expect(sut.proposal).toMatchObject({ requested_by: proposal.requested_by });
    expect(sut.jobHash).toBe(jobHash(proposal));
    expect(sut.jobHash).not.toBe(jobHash(resent));
    expect(sut.duplicate).toEqual({ kind: 'proposal', eventId: 'p2', signatureError: null });
  });
});

describe('waitingState', () => {
  it.each([
    [{ proposal: null, decision: null }, 'pending'],
    [{ proposal, decision: null }, 'proposed'],
    [{ proposal: null, decision }, 'decided'],
    [{ proposal, decision: { ...decision, decision: 'ALLOW' as const } }, 'decided'],
    [{ proposal, decision }, 'awaiting_approval'],
  ])('%j -> %s', (facts, state) => {
    expect(waitingState(facts)).toBe(state);
  });
});

describe('factDigest', () => {
  // Raw texts as a producer or an attacker would send them, parsed as the consumer parses them.
  const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;
  const body = '{"event_id":"e1","type":"approval.resolved","data":{"job_id":"j1","n":1}';
  const sig = '"signature":{"alg":"Ed25519","key_id":"k1","value":"AAAA"}';

  it('is the SHA-256 of the canonical JSON of what the producer signs (signature and trace left out)', () => {
    expect(factDigest(parse(`${body},${sig},"trace":{"traceparent":"00-a"}}`))).toBe(
      sha256Hex(canonicalJson({ event_id: 'e1', type: 'approval.resolved', data: { job_id: 'j1', n: 1 } })),
    );
  });

  it('is the same for another byte layout, trace or signature of the same content (a redelivery)', () => {
    const reordered =
      '{ "data": {"n": 1.0, "job_id": "j1"}, "type": "approval.resolved", "event_id": "e1",' +
      '"trace": {"traceparent": "00-b"}, "signature": {"alg":"Ed25519","key_id":"k2","value":"BBBB"} }';
    expect(factDigest(parse(reordered))).toBe(factDigest(parse(`${body},${sig}}`)));
  });

  it('differs when anything signed differs: another job id under the same event id is another body', () => {
    const other = body.replace('"job_id":"j1"', '"job_id":"j2"');
    expect(factDigest(parse(`${other},${sig}}`))).not.toBe(factDigest(parse(`${body},${sig}}`)));
  });

  it('shows a prefix of a digest in reports, or says it is unknown', () => {
    expect(digestPrefix('0123456789abcdef')).toBe('0123456789ab…');
    expect(digestPrefix(null)).toBe('unknown');
  });
});
