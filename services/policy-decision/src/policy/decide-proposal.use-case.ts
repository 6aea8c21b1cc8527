import { EventProducer, buildEvent, deterministicEventId } from '@countersign/bus';
import { Topics, type DecisionMadeData, type JobProposedV1 } from '@countersign/contracts';
import { decide } from '@countersign/policy';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '@countersign/clock';
import { POLICY_CONFIG, type PolicyConfig } from '../config/policy-config';
import { PolicyStore } from './policy-store';

/** Pure: a proposal and the active policy give the data of its `decision.made`. */
export function decisionFor(proposal: JobProposedV1['data'], store: PolicyStore, now: Date): DecisionMadeData {
  const d = decide(proposal, store.current);
  return {
    job_id: proposal.job_id,
    tenant: proposal.tenant,
    decision: d.decision,
    policy_snapshot: d.policy_snapshot,
    policy_rule_id: d.policy_rule_id,
    policy_reason: d.policy_reason,
    matched_rules: [...d.matched_rules],
    job_hash: d.job_hash,
    constraints: {
      ...(d.constraints.max_runtime_sec !== undefined ? { max_runtime_sec: d.constraints.max_runtime_sec } : {}),
      ...(d.constraints.network_allowlist !== undefined
        ? { network_allowlist: [...d.constraints.network_allowlist] }
        : {}),
    },
    approval: d.approval
      ? {
          approvals_required: d.approval.approvals_required,
          approver_roles: [...d.approval.approver_roles],
          sla_seconds: d.approval.sla_seconds,
          escalate_after_seconds: d.approval.escalate_after_seconds,
          escalation_roles: [...d.approval.escalation_roles],
        }
      : null,
    decision_summary: { ...d.decision_summary },
    decided_at: now.toISOString(),
  };
}

/**
 * Decides a proposal and emits the signed decision. The event id is derived from the proposal's
 * event id, so a redelivered proposal yields the same event and consumers keep one.
 */
@Injectable()
export class DecideProposalUseCase {
  constructor(
    private readonly store: PolicyStore,
    private readonly producer: EventProducer,
    @Inject(POLICY_CONFIG) private readonly config: Pick<PolicyConfig, 'signer'>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(proposal: JobProposedV1): Promise<DecisionMadeData> {
    const data = decisionFor(proposal.data, this.store, this.clock.now());
    const event = buildEvent(Topics.DecisionMade, data, {
      producer: 'policy-decision',
      signer: this.config.signer,
      eventId: deterministicEventId(Topics.DecisionMade, proposal.event_id),
    });
    await this.producer.send(Topics.DecisionMade, data.job_id, event);
    return data;
  }
}
