import type { ApprovalResolvedData, DecisionMadeData, JobProposedData } from '@countersign/contracts';
import { eventDigest, jobHash } from '@countersign/crypto';
import type { JobFacts } from './job-facts';
import type { JobEntity, JobState } from '../job.entity';

/** A fact as it arrives, its signature already checked against the producer's trusted keys. */
export type IncomingFact =
  | { kind: 'proposal'; eventId: string; data: JobProposedData; signatureError: null }
  | { kind: 'decision'; eventId: string; data: DecisionMadeData; signatureError: string | null }
  | { kind: 'resolution'; eventId: string; data: ApprovalResolvedData; signatureError: string | null };

/** The digest an event id is deduplicated with: `eventDigest` (libs/crypto), shared with audit. */
export function factDigest(sent: Record<string, unknown>): string {
  return eventDigest(sent);
}

/** The first characters of a digest, enough to tell two bodies apart in a report. */
export const digestPrefix = (digest: string | null): string => (digest ? `${digest.slice(0, 12)}…` : 'unknown');

/**
 * Records a fact on a job that has no outcome yet: the first of each kind is kept, a second one
 * (another event id) is kept aside as the duplicate that will block the job. The tenant is taken
 * from the proposal, or from a fact whose signature verified. Mutates the entity.
 */
export function applyFact(job: JobEntity, fact: IncomingFact, now: Date): void {
  job.updatedAt = now;
  const duplicate = () => {
    job.duplicate ??= { kind: fact.kind, eventId: fact.eventId, signatureError: fact.signatureError };
  };
  switch (fact.kind) {
    case 'proposal':
      if (job.proposalEventId) return duplicate();
      job.proposal = fact.data;
      job.proposalEventId = fact.eventId;
      job.proposalReceivedAt = now;
      job.jobHash = jobHash(fact.data);
      job.tenant = fact.data.tenant;
      return;
    case 'decision':
      if (job.decisionEventId) return duplicate();
      job.decision = fact.data;
      job.decisionEventId = fact.eventId;
      job.decisionSignatureError = fact.signatureError;
      job.decisionReceivedAt = now;
      if (!fact.signatureError) job.tenant ??= fact.data.tenant;
      return;
    case 'resolution':
      if (job.resolutionEventId) return duplicate();
      job.resolution = fact.data;
      job.resolutionEventId = fact.eventId;
      job.resolutionSignatureError = fact.signatureError;
      job.resolutionReceivedAt = now;
      if (!fact.signatureError) job.tenant ??= fact.data.tenant;
      return;
  }
}

export function factsOf(job: JobEntity): JobFacts {
  return {
    jobId: job.jobId,
    firstSeenAt: job.firstSeenAt,
    proposal:
      job.proposal && job.proposalEventId && job.proposalReceivedAt
        ? { eventId: job.proposalEventId, data: job.proposal, receivedAt: job.proposalReceivedAt }
        : null,
    decision:
      job.decision && job.decisionEventId && job.decisionReceivedAt
        ? {
            eventId: job.decisionEventId,
            data: job.decision,
            signatureError: job.decisionSignatureError,
            receivedAt: job.decisionReceivedAt,
          }
        : null,
    resolution:
      job.resolution && job.resolutionEventId && job.resolutionReceivedAt
        ? {
            eventId: job.resolutionEventId,
            data: job.resolution,
            signatureError: job.resolutionSignatureError,
            receivedAt: job.resolutionReceivedAt,
          }
        : null,
    duplicate: job.duplicate,
  };
}

/** The state shown for a job still waiting for facts. */
export function waitingState(job: Pick<JobEntity, 'proposal' | 'decision'>): JobState {
  if (job.proposal && job.decision?.decision === 'REQUIRE_APPROVAL') return 'awaiting_approval';
  if (job.decision) return 'decided';
  if (job.proposal) return 'proposed';
  return 'pending';
}
