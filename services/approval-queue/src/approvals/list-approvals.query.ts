import { Inject, Injectable } from '@nestjs/common';
import type { ApprovalPage, ListQuery } from './approval.schemas';
import { isQueueItem } from './core/approval-snapshot';
import type { Reviewer } from './core/approval-state';
import { decodeCursor, encodeCursor, itemView } from './core/approval-view';
import type { ApprovalsStore } from './approvals.port';
import { ApprovalsRepository } from './approvals.repository';

export const HISTORY_LIMIT = 5;

/** The queue a reviewer may see: their roles and tenants decide, filters narrow, due date orders. */
@Injectable()
export class ListApprovalsQuery {
  constructor(@Inject(ApprovalsRepository) private readonly repo: ApprovalsStore) {}

  async execute(reviewer: Reviewer, q: ListQuery): Promise<ApprovalPage> {
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (reviewer.roles.length === 0) return { items: [], next_cursor: null };
    const page = await this.repo.list({
      includeResolved: q.include_resolved,
      visibleToRoles: reviewer.roles,
      visibleTenants: reviewer.tenants,
      tenant: q.tenant,
      topic: q.topic,
      riskTag: q.risk_tag,
      role: q.role,
      ruleId: q.rule_id,
      after,
      limit: q.limit,
    });
    const items = page.items.filter(isQueueItem);
    const ids = items.map((i) => i.jobId);
    const withContext = items.flatMap((i) =>
      i.agentId && i.topic
        ? [
            {
              jobId: i.jobId,
              tenant: i.tenant,
              agentId: i.agentId,
              topic: i.topic,
              before: i.state === 'PENDING' ? null : i.resolvedAt,
            },
          ]
        : [],
    );
    const [actions, history] = await Promise.all([
      this.repo.actionsFor(ids),
      this.repo.historyFor(withContext, HISTORY_LIMIT),
    ]);
    return {
      items: items.map((i) => itemView(i, actions.get(i.jobId) ?? [], history.get(i.jobId) ?? [])),
      next_cursor: page.more && page.lastKey ? encodeCursor(page.lastKey) : null,
    };
  }
}
