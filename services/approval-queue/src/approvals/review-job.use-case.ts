import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '@countersign/clock';
import { cleanText } from '../shared/core/redact-text';
import type { ReviewResult } from './approval.schemas';
import { ApprovalEvents } from './approval-events';
import { approvalNotFound, expiredOnReview, reviewRefused } from './approval.errors';
import { ApprovalMetrics } from './approval-metrics';
import { isQueueItem, toSnapshot, type QueueItem } from './core/approval-snapshot';
import {
  review,
  type RecordedAction,
  type RefusalCode,
  type ResolutionRecord,
  type ReviewAction,
  type Reviewer,
} from './core/approval-state';
import { resolutionDetails, reviewResult } from './core/approval-view';
import type { ApprovalsStore } from './approvals.port';
import { ApprovalsRepository } from './approvals.repository';
import { recordResolution } from './record-resolution';

export interface ReviewJobCommand {
  jobId: string;
  action: ReviewAction;
  reviewer: Reviewer;
  reason: string | null;
  note: string | null;
}

type Result =
  | { kind: 'not-found' }
  | { kind: 'refused'; code: RefusalCode; message: string; item: QueueItem; actions: RecordedAction[] }
  | { kind: 'expired'; item: QueueItem; actions: RecordedAction[]; resolution: ResolutionRecord }
  | {
      kind: 'recorded';
      item: QueueItem;
      action: RecordedAction;
      actions: RecordedAction[];
      resolution: ResolutionRecord | null;
    };

/**
 * Approve or reject one job. The item row is locked (`SELECT ... FOR UPDATE`) for the whole
 * decision, so reviewers racing on the last slot are serialized and exactly one resolves it; the
 * action, the resolution and its `approval.resolved` event commit together.
 */
@Injectable()
export class ReviewJobUseCase {
  constructor(
    @Inject(ApprovalsRepository) private readonly repo: ApprovalsStore,
    private readonly events: ApprovalEvents,
    private readonly metrics: ApprovalMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(cmd: ReviewJobCommand): Promise<ReviewResult> {
    const reason = cleanText(cmd.reason);
    const note = cleanText(cmd.note);
    const result = await this.repo.transaction(async (tx): Promise<Result> => {
      const now = this.clock.now();
      const found = await tx.lock(cmd.jobId);
      if (!isQueueItem(found)) return { kind: 'not-found' };
      const actions = await tx.actionsOf(cmd.jobId);
      const outcome = review(toSnapshot(found, actions), {
        action: cmd.action,
        reviewer: cmd.reviewer,
        reason,
        note,
        now,
      });
      switch (outcome.kind) {
        case 'refused':
          return { kind: 'refused', code: outcome.code, message: outcome.message, item: found, actions };
        case 'expire': {
          const item = (await recordResolution(tx, this.events, found, actions, outcome.resolution)) as QueueItem;
          return { kind: 'expired', item, actions, resolution: outcome.resolution };
        }
        case 'recorded': {
          await tx.insertAction(cmd.jobId, outcome.action);
          const all = [...actions, outcome.action];
          const item = outcome.resolution
            ? ((await recordResolution(tx, this.events, found, all, outcome.resolution)) as QueueItem)
            : found;
          return { kind: 'recorded', item, action: outcome.action, actions: all, resolution: outcome.resolution };
        }
      }
    });

    switch (result.kind) {
      case 'not-found':
        throw approvalNotFound(cmd.jobId);
      case 'refused': {
        const details = result.code === 'ALREADY_RESOLVED' ? resolutionDetails(result.item, result.actions) : {};
        throw reviewRefused(result.code, result.message, details);
      }
      case 'expired':
        this.observe(result.item, result.resolution);
        throw expiredOnReview(resolutionDetails(result.item, result.actions));
      case 'recorded':
        if (result.resolution) this.observe(result.item, result.resolution);
        return reviewResult(result.item, result.action, result.actions);
    }
  }

  private observe(item: QueueItem, r: ResolutionRecord): void {
    this.metrics.resolved({
      resolution: r.resolution,
      policyRuleId: item.policyRuleId,
      pendingSince: item.pendingSince,
      resolvedAt: r.resolvedAt,
    });
  }
}
