import type { ApprovalResolvedData, BlockReason, DecisionMadeData, JobProposedData } from '@countersign/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DuplicateFact } from './core/job-facts';

/** Waiting states have no outcome yet; bound states do, and a bound job never changes outcome. */
export const WAITING_STATES = ['pending', 'proposed', 'decided', 'awaiting_approval'] as const;
export const BOUND_STATES = ['released', 'executing', 'executed', 'blocked'] as const;
export type JobState = (typeof WAITING_STATES)[number] | (typeof BOUND_STATES)[number];

export function isBound(state: JobState): boolean {
  return (BOUND_STATES as readonly string[]).includes(state);
}

const timestamptz = { type: 'timestamptz' as const, nullable: true };

/** One row per job: the facts that arrived (first of each kind), and its outcome once bound. */
@Entity({ schema: 'execution_binding', name: 'jobs' })
export class JobEntity {
  @PrimaryColumn({ name: 'job_id', type: 'text' })
  jobId!: string;

  @Column({ type: 'text', nullable: true })
  tenant!: string | null;

  @Column({ type: 'text' })
  state!: JobState;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** When a waiting job is due to be blocked INCOMPLETE (the sweeper's index). */
  @Column({ name: 'deadline_at', ...timestamptz })
  deadlineAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  proposal!: JobProposedData | null;

  @Column({ name: 'proposal_event_id', type: 'text', nullable: true })
  proposalEventId!: string | null;

  @Column({ name: 'proposal_received_at', ...timestamptz })
  proposalReceivedAt!: Date | null;

  /** Our own hash of the stored proposal. */
  @Column({ name: 'job_hash', type: 'text', nullable: true })
  jobHash!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  decision!: DecisionMadeData | null;

  @Column({ name: 'decision_event_id', type: 'text', nullable: true })
  decisionEventId!: string | null;

  @Column({ name: 'decision_signature_error', type: 'text', nullable: true })
  decisionSignatureError!: string | null;

  @Column({ name: 'decision_received_at', ...timestamptz })
  decisionReceivedAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  resolution!: ApprovalResolvedData | null;

  @Column({ name: 'resolution_event_id', type: 'text', nullable: true })
  resolutionEventId!: string | null;

  @Column({ name: 'resolution_signature_error', type: 'text', nullable: true })
  resolutionSignatureError!: string | null;

  @Column({ name: 'resolution_received_at', ...timestamptz })
  resolutionReceivedAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  duplicate!: DuplicateFact | null;

  @Column({ name: 'block_reason', type: 'text', nullable: true })
  blockReason!: BlockReason | null;

  @Column({ name: 'block_detail', type: 'text', nullable: true })
  blockDetail!: string | null;

  @Column({ name: 'reason_text', type: 'text', nullable: true })
  reasonText!: string | null;

  @Column({ name: 'blocked_at', ...timestamptz })
  blockedAt!: Date | null;

  @Column({ name: 'released_at', ...timestamptz })
  releasedAt!: Date | null;

  @Column({ name: 'executed_at', ...timestamptz })
  executedAt!: Date | null;

  /** How many late or duplicate facts were reported (each as a report-only `job.blocked`). */
  @Column({ name: 'late_facts', type: 'integer', default: 0 })
  lateFacts!: number;
}
