import type { ApprovalRequirement, Constraints, DecisionSummary } from '@countersign/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * `AWAITING_DECISION`: only the proposal has arrived (not listed). `NOT_REQUIRED`: the policy
 * decided without an approval (kept for the decisions endpoint, payload dropped). The rest is the
 * approval's own life: `PENDING` until `APPROVED`, `REJECTED` or `EXPIRED`.
 */
export type ItemRowState = 'AWAITING_DECISION' | 'NOT_REQUIRED' | 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** One job as the queue knows it: its proposal, its decision, its approval requirement and outcome. */
@Entity({ schema: 'approval_queue', name: 'approval_items' })
export class ApprovalItemEntity {
  @PrimaryColumn({ name: 'job_id', type: 'text' })
  jobId!: string;

  @Column({ type: 'text' })
  state!: ItemRowState;

  @Column({ type: 'text', nullable: true })
  tenant!: string | null;

  @Column({ name: 'proposal_event_id', type: 'text', nullable: true })
  proposalEventId!: string | null;

  @Column({ name: 'agent_id', type: 'text', nullable: true })
  agentId!: string | null;

  @Column({ type: 'text', nullable: true })
  topic!: string | null;

  @Column({ name: 'risk_tags', type: 'text', array: true, default: () => "'{}'" })
  riskTags!: string[];

  @Column({ name: 'requested_by', type: 'text', nullable: true })
  requestedBy!: string | null;

  /** Stored already redacted: the secrets in a payload never reach this database. */
  @Column({ type: 'jsonb', nullable: true })
  payload!: Record<string, unknown> | null;

  @Column({ name: 'redacted_fields', type: 'text', array: true, default: () => "'{}'" })
  redactedFields!: string[];

  @Column({ name: 'proposal_summary', type: 'jsonb', nullable: true })
  proposalSummary!: { title: string; next_effect?: string | undefined } | null;

  /** jobHash of the proposal as received, compared with the decision's job_hash. */
  @Column({ name: 'proposal_hash', type: 'text', nullable: true })
  proposalHash!: string | null;

  @Column({ name: 'proposed_at', type: 'timestamptz', nullable: true })
  proposedAt!: Date | null;

  @Column({ name: 'decision_event_id', type: 'text', nullable: true })
  decisionEventId!: string | null;

  @Column({ type: 'text', nullable: true })
  decision!: string | null;

  @Column({ name: 'policy_snapshot', type: 'text', nullable: true })
  policySnapshot!: string | null;

  @Column({ name: 'policy_rule_id', type: 'text', nullable: true })
  policyRuleId!: string | null;

  @Column({ name: 'policy_reason', type: 'text', nullable: true })
  policyReason!: string | null;

  @Column({ name: 'matched_rules', type: 'text', array: true, default: () => "'{}'" })
  matchedRules!: string[];

  @Column({ name: 'job_hash', type: 'text', nullable: true })
  jobHash!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  constraints!: Constraints | null;

  @Column({ name: 'decision_summary', type: 'jsonb', nullable: true })
  decisionSummary!: DecisionSummary | null;

  @Column({ name: 'approval_requirement', type: 'jsonb', nullable: true })
  approvalRequirement!: ApprovalRequirement | null;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ name: 'approvals_required', type: 'int', nullable: true })
  approvalsRequired!: number | null;

  @Column({ name: 'approver_roles', type: 'text', array: true, default: () => "'{}'" })
  approverRoles!: string[];

  @Column({ name: 'pending_since', type: 'timestamptz', nullable: true })
  pendingSince!: Date | null;

  @Column({ name: 'due_at', type: 'timestamptz', nullable: true })
  dueAt!: Date | null;

  @Column({ name: 'escalate_at', type: 'timestamptz', nullable: true })
  escalateAt!: Date | null;

  @Column({ name: 'escalated_at', type: 'timestamptz', nullable: true })
  escalatedAt!: Date | null;

  @Column({ name: 'resolved_by', type: 'text', nullable: true })
  resolvedBy!: string | null;

  @Column({ name: 'resolved_comment', type: 'text', nullable: true })
  resolvedComment!: string | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
