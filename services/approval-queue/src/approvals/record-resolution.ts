import { Topics } from '@countersign/contracts';
import type { ApprovalEvents } from './approval-events';
import type { ApprovalItemEntity } from './approval-item.entity';
import type { RecordedAction, ResolutionRecord } from './core/approval-state';
import type { ApprovalsTx } from './approvals.port';

/** Resolves an item and enqueues its signed `approval.resolved` in the same transaction. */
export async function recordResolution(
  tx: ApprovalsTx,
  events: ApprovalEvents,
  item: ApprovalItemEntity,
  actions: readonly RecordedAction[],
  r: ResolutionRecord,
): Promise<ApprovalItemEntity> {
  await tx.resolve(item.jobId, r);
  await tx.enqueue(Topics.ApprovalResolved, item.jobId, events.resolved(item, actions, r));
  return {
    ...item,
    state: r.resolution,
    resolvedBy: r.resolvedBy,
    resolvedComment: r.resolvedComment,
    resolvedAt: r.resolvedAt,
  };
}
