import {
  findReservedKey,
  payloadViewProblem,
  type ApprovalRequirement,
  type DecisionMadeData,
} from '@countersign/contracts';
import { deadlines } from '../../approvals/core/approval-state';
import type { ItemRowState } from '../../approvals/approval-item.entity';

/**
 * How an arriving `job.proposed` or `decision.made` changes the item of its job. Either may come
 * first; both are merged into one row. Pure: the use cases load and lock the row, then apply the plan.
 */

export interface IntakeRow {
  state: ItemRowState;
  proposalEventId: string | null;
  proposalHash: string | null;
  requestedBy: string | null;
  decisionEventId: string | null;
  jobHash: string | null;
}

export type ProposalScreen =
  | { kind: 'store' }
  /** Policy denies the job (a reserved key): nothing of it is kept, so nothing of it is shown. */
  | { kind: 'skip'; reason: string }
  /** The reviewers' view could not show it whole: refused (to the DLQ) rather than shown in part. */
  | { kind: 'refuse'; reason: string };

/**
 * Whether a proposal's payload may be stored for reviewers at all, before any row is touched. The
 * queue shows reviewers exactly what would run or nothing: a payload with `__proto__`,
 * `constructor` or `prototype` keys is denied by policy (rule `countersign:reserved-key`) and never
 * stored; one the view cannot show whole (deeper than the contract's payload depth) is refused.
 */
export function screenProposal(payload: Record<string, unknown>): ProposalScreen {
  const reserved = findReservedKey(payload);
  if (reserved)
    return {
      kind: 'skip',
      reason: `payload carries the reserved key at payload.${reserved.path}; policy denies it (countersign:reserved-key)`,
    };
  const problem = payloadViewProblem(payload);
  if (problem)
    return {
      kind: 'refuse',
      reason: `payload cannot be shown to reviewers whole: payload.${problem.path}: ${problem.message}`,
    };
  return { kind: 'store' };
}

export type ProposalPlan =
  | { kind: 'attach' }
  | { kind: 'ignore'; reason: string; warn: boolean }
  /** The proposal is not the job that was decided: it can never be attached. */
  | { kind: 'mismatch'; reason: string };

export function planProposal(row: IntakeRow, p: { eventId: string; hash: string; requestedBy: string }): ProposalPlan {
  if (row.proposalEventId === p.eventId) return { kind: 'ignore', reason: 'redelivered proposal', warn: false };
  if (row.proposalEventId !== null) {
    // First proposal wins: a later one naming someone else must not change who may not approve.
    const conflicting = row.proposalHash !== p.hash || row.requestedBy !== p.requestedBy;
    return {
      kind: 'ignore',
      reason: conflicting ? 'a different proposal for this job was already stored' : 'duplicate proposal',
      warn: conflicting,
    };
  }
  if (row.state === 'NOT_REQUIRED') return { kind: 'ignore', reason: 'no approval needed for this job', warn: false };
  if (row.jobHash !== null && row.jobHash !== p.hash) {
    return {
      kind: 'mismatch',
      reason: `proposal does not match the decided job (job_hash ${row.jobHash.slice(0, 12)}…, proposal ${p.hash.slice(0, 12)}…)`,
    };
  }
  return { kind: 'attach' };
}

export type DecisionPlan =
  | {
      kind: 'pending';
      requirement: ApprovalRequirement;
      pendingSince: Date;
      dueAt: Date;
      escalateAt: Date | null;
      /** The stored proposal is not the decided job: forget it (approval waits for the right one). */
      dropProposal: boolean;
    }
  | { kind: 'not-required'; dropProposal: true }
  | { kind: 'ignore'; reason: string; warn: boolean }
  /** A decision that can never become an item. */
  | { kind: 'poison'; reason: string };

export function planDecision(row: IntakeRow, eventId: string, d: DecisionMadeData, now: Date): DecisionPlan {
  if (row.decisionEventId === eventId) return { kind: 'ignore', reason: 'redelivered decision', warn: false };
  if (row.decisionEventId !== null) {
    // The first decision gated the job; a second one (a re-decision) does not move the goalposts.
    const different = row.jobHash !== d.job_hash;
    return {
      kind: 'ignore',
      reason: different ? 'a different decision for this job was already stored' : 'duplicate decision',
      warn: different,
    };
  }
  if (d.decision !== 'REQUIRE_APPROVAL') return { kind: 'not-required', dropProposal: true };
  if (!d.approval) return { kind: 'poison', reason: 'REQUIRE_APPROVAL decision without an approval requirement' };
  const { startedAt, dueAt, escalateAt } = deadlines(
    new Date(d.decided_at),
    now,
    d.approval.sla_seconds,
    d.approval.escalate_after_seconds,
  );
  const dropProposal = row.proposalHash !== null && row.proposalHash !== d.job_hash;
  return { kind: 'pending', requirement: d.approval, pendingSince: startedAt, dueAt, escalateAt, dropProposal };
}
