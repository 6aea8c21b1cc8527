import { BUS_LOGGER, PoisonMessageError } from '@countersign/bus';
import type { DecisionMadeV1 } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { ApprovalsRepository } from '../approvals/approvals.repository';
import { CLOCK, type Clock } from '../shared/clock';
import { DECISION_KEYS } from '../shared/tokens';
import { planDecision } from './intake-plan';

export const DECISION_CONSUMER = 'approval-queue:decision.made';

/**
 * Takes a policy decision. Only a decision signed by policy-decision counts: anything else goes to
 * the DLQ and never becomes an item. A REQUIRE_APPROVAL decision opens one pending item per job.
 */
@Injectable()
export class IntakeDecisionUseCase {
  constructor(
    private readonly repo: ApprovalsRepository,
    @Inject(DECISION_KEYS) private readonly trusted: KeyObject[],
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  async execute(event: DecisionMadeV1): Promise<void> {
    const d = event.data;
    const verified = verifyEvent(event, this.trusted);
    if (!verified.ok) {
      this.logger.warn({ event_id: event.event_id, job_id: d.job_id, reason: verified.reason }, 'decision.made refused: bad signature');
      throw new PoisonMessageError(`decision.made signature refused: ${verified.reason}`);
    }
    // Thrown inside the transaction, a poison message rolls back its markProcessed: a redelivery is refused again.
    await this.repo.transaction(async (tx) => {
      if (!(await tx.markProcessed(DECISION_CONSUMER, event.event_id))) return;
      const row = await tx.lockOrCreate(d.job_id);
      const plan = planDecision(row, event.event_id, d, this.clock.now());
      const decision = {
        tenant: d.tenant,
        decisionEventId: event.event_id,
        decision: d.decision,
        policySnapshot: d.policy_snapshot,
        policyRuleId: d.policy_rule_id,
        policyReason: d.policy_reason,
        matchedRules: d.matched_rules,
        jobHash: d.job_hash,
        constraints: d.constraints,
        decisionSummary: d.decision_summary,
        approvalRequirement: d.approval,
        decidedAt: new Date(d.decided_at),
      };
      const dropped = { proposalEventId: null, payload: null, redactedFields: [], requestedBy: null, proposalHash: null };
      switch (plan.kind) {
        case 'ignore':
          if (plan.warn) this.logger.warn({ job_id: d.job_id, event_id: event.event_id }, `decision.made ignored: ${plan.reason}`);
          return;
        case 'poison':
          throw new PoisonMessageError(plan.reason);
        case 'not-required':
          await tx.update(d.job_id, { ...decision, state: 'NOT_REQUIRED', payload: null, redactedFields: [] });
          return;
        case 'pending':
          if (plan.dropProposal) this.logger.warn({ job_id: d.job_id }, 'stored proposal does not match the decided job_hash; dropped');
          await tx.update(d.job_id, {
            ...decision,
            ...(plan.dropProposal ? dropped : {}),
            state: 'PENDING',
            approvalsRequired: plan.requirement.approvals_required,
            approverRoles: plan.requirement.approver_roles,
            pendingSince: plan.pendingSince,
            dueAt: plan.dueAt,
            escalateAt: plan.escalateAt,
          });
          this.logger.info({ job_id: d.job_id, due_at: plan.dueAt.toISOString(), rule: d.policy_rule_id }, 'approval pending');
          return;
      }
    });
  }
}
