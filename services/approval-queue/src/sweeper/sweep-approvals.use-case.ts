import { Topics, type ApprovalEscalatedData } from '@countersign/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { ApprovalEvents } from '../approvals/approval-events';
import { ApprovalMetrics } from '../approvals/approval-metrics';
import { isQueueItem, toSnapshot } from '../approvals/core/approval-snapshot';
import { sweep, type ResolutionRecord } from '../approvals/core/approval-state';
import type { ApprovalsStore } from '../approvals/approvals.port';
import { ApprovalsRepository } from '../approvals/approvals.repository';
import { recordResolution } from '../approvals/record-resolution';
import { CLOCK, type Clock } from '@countersign/clock';
import { EscalationWebhook } from './escalation-webhook';

/**
 * Expires and escalates pending items. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several
 * replicas sweep side by side without doing anything twice; all state is in the database, so a
 * restart resumes where the last sweep stopped.
 */
@Injectable()
export class SweepApprovalsUseCase {
  constructor(
    @Inject(ApprovalsRepository) private readonly repo: ApprovalsStore,
    private readonly events: ApprovalEvents,
    private readonly metrics: ApprovalMetrics,
    private readonly webhook: EscalationWebhook,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Expires one batch of overdue items; returns how many. */
  async expireDue(batchSize: number): Promise<number> {
    const done = await this.repo.transaction(async (tx) => {
      const now = this.clock.now();
      const expired: { ruleId: string | null; pendingSince: Date | null; r: ResolutionRecord }[] = [];
      for (const item of await tx.lockDue(now, batchSize)) {
        if (!isQueueItem(item)) continue;
        const actions = await tx.actionsOf(item.jobId);
        const outcome = sweep(toSnapshot(item, actions), now);
        if (outcome.kind !== 'expire') continue;
        await recordResolution(tx, this.events, item, actions, outcome.resolution);
        expired.push({ ruleId: item.policyRuleId, pendingSince: item.pendingSince, r: outcome.resolution });
      }
      return expired;
    });
    for (const e of done)
      this.metrics.resolved({
        resolution: e.r.resolution,
        policyRuleId: e.ruleId,
        pendingSince: e.pendingSince,
        resolvedAt: e.r.resolvedAt,
      });
    return done.length;
  }

  /** Escalates one batch of items past their escalation time, once each; returns how many. */
  async escalateDue(batchSize: number): Promise<number> {
    const escalated = await this.repo.transaction(async (tx) => {
      const now = this.clock.now();
      const out: ApprovalEscalatedData[] = [];
      for (const item of await tx.lockEscalationsDue(now, batchSize)) {
        if (!isQueueItem(item)) continue;
        const actions = await tx.actionsOf(item.jobId);
        if (sweep(toSnapshot(item, actions), now).kind !== 'escalate') continue;
        const event = this.events.escalated(item, actions.filter((a) => a.action === 'approve').length, now);
        await tx.update(item.jobId, { escalatedAt: now });
        await tx.enqueue(Topics.ApprovalEscalated, item.jobId, event);
        out.push(event.data);
      }
      return out;
    });
    await Promise.all(escalated.map((e) => this.webhook.notify(e)));
    return escalated.length;
  }
}
