import type { ApprovalResolvedData, DecisionMadeData, JobProposedData } from '@countersign/contracts';

export type FactKind = 'proposal' | 'decision' | 'resolution';

export const FACT_TOPIC: Record<FactKind, string> = {
  proposal: 'job.proposed',
  decision: 'decision.made',
  resolution: 'approval.resolved',
};

export interface ProposalFact {
  eventId: string;
  data: JobProposedData;
  receivedAt: Date;
}

/** A signed fact with the outcome of its signature check, made once when it was received. */
export interface SignedFact<D> {
  eventId: string;
  data: D;
  /** Null when the signature verified with the producer's trusted key; otherwise why not. */
  signatureError: string | null;
  receivedAt: Date;
}

/** A second fact of a kind (another event id) that arrived before the job was bound. */
export interface DuplicateFact {
  kind: FactKind;
  eventId: string;
  signatureError: string | null;
}

/** Everything the executor knows about one job that has no outcome yet. */
export interface JobFacts {
  jobId: string;
  firstSeenAt: Date;
  proposal: ProposalFact | null;
  decision: SignedFact<DecisionMadeData> | null;
  resolution: SignedFact<ApprovalResolvedData> | null;
  duplicate: DuplicateFact | null;
}
