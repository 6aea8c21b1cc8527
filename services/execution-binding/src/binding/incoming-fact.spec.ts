import {
  exampleEvents,
  type ApprovalResolvedData,
  type DecisionMadeData,
  type JobProposedData,
} from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { applyFact, factsOf, waitingState } from './incoming-fact';
import { JobEntity } from './job.entity';

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
