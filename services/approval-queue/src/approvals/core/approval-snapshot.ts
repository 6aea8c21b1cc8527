import type { ApprovalItemEntity } from '../approval-item.entity';
import type { ApprovalSnapshot, ItemState, RecordedAction } from './approval-state';

export type QueueItem = ApprovalItemEntity & {
  state: ItemState;
  tenant: string;
  dueAt: Date;
  approvalsRequired: number;
};

/** An item that has its REQUIRE_APPROVAL decision: one the queue lists and reviewers act on. */
export function isQueueItem(item: ApprovalItemEntity | null): item is QueueItem {
  return (
    item !== null &&
    (item.state === 'PENDING' || item.state === 'APPROVED' || item.state === 'REJECTED' || item.state === 'EXPIRED') &&
    item.tenant !== null &&
    item.dueAt !== null &&
    item.approvalsRequired !== null
  );
}

export function toSnapshot(item: QueueItem, actions: readonly RecordedAction[]): ApprovalSnapshot {
  return {
    state: item.state,
    tenant: item.tenant,
    approvalsRequired: item.approvalsRequired,
    approverRoles: item.approverRoles,
    requestedBy: item.proposalEventId !== null ? item.requestedBy : null,
    dueAt: item.dueAt,
    escalateAt: item.escalateAt,
    escalatedAt: item.escalatedAt,
    actions,
    resolution:
      item.state === 'PENDING' || !item.resolvedAt
        ? null
        : {
            resolution: item.state,
            resolvedBy: item.resolvedBy ?? '',
            resolvedComment: item.resolvedComment,
            resolvedAt: item.resolvedAt,
          },
  };
}
