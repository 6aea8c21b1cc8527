import { buildEvent, deterministicEventId } from '@countersign/bus';
import { Topics, type ApprovalEscalatedV1, type ApprovalResolvedV1 } from '@countersign/contracts';
import type { Signer } from '@countersign/crypto';
import type { ApprovalItemEntity } from './approval-item.entity';
import type { RecordedAction, ResolutionRecord } from './core/approval-state';

export const PRODUCER = 'approval-queue';

/** Builds (and signs) the events the queue emits. One id per job and kind, so a re-emit is the same event. */
export class ApprovalEvents {
  constructor(private readonly signer: Signer) {}

  resolved(item: ApprovalItemEntity, actions: readonly RecordedAction[], r: ResolutionRecord): ApprovalResolvedV1 {
    if (!item.tenant || !item.jobHash || !item.policySnapshot)
      throw new Error(`item ${item.jobId} has no decision to resolve`);
    return buildEvent(
      Topics.ApprovalResolved,
      {
        job_id: item.jobId,
        tenant: item.tenant,
        resolution: r.resolution,
        job_hash: item.jobHash,
        policy_snapshot: item.policySnapshot,
        approvals: actions.map((a) => ({
          actor: a.actor,
          role: a.role,
          action: a.action,
          reason: a.reason,
          note: a.note,
          at: a.at.toISOString(),
        })),
        resolved_by: r.resolvedBy,
        resolved_comment: r.resolvedComment,
        resolved_at: r.resolvedAt.toISOString(),
      },
      {
        producer: PRODUCER,
        signer: this.signer,
        eventId: deterministicEventId(Topics.ApprovalResolved, item.jobId),
        now: r.resolvedAt,
      },
    );
  }

  escalated(item: ApprovalItemEntity, approvalsSoFar: number, now: Date): ApprovalEscalatedV1 {
    if (!item.tenant || !item.dueAt || !item.approvalsRequired || !item.decisionSummary)
      throw new Error(`item ${item.jobId} has no decision to escalate`);
    return buildEvent(
      Topics.ApprovalEscalated,
      {
        job_id: item.jobId,
        tenant: item.tenant,
        escalation_roles: item.approvalRequirement?.escalation_roles ?? [],
        due_at: item.dueAt.toISOString(),
        approvals_so_far: approvalsSoFar,
        approvals_required: item.approvalsRequired,
        decision_summary: item.decisionSummary,
        escalated_at: now.toISOString(),
      },
      {
        producer: PRODUCER,
        signer: this.signer,
        eventId: deterministicEventId(Topics.ApprovalEscalated, item.jobId),
        now,
      },
    );
  }
}
