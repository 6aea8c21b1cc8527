import { GroupCommitter } from '@countersign/bus';
import { BUS_LOGGER } from '@countersign/service-kit';
import { redactPayload, type DecisionMadeV1, type JobProposedV1 } from '@countersign/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApprovalsRepository } from '../approvals/approvals.repository';
import { CLOCK, type Clock } from '@countersign/clock';
import { QUEUE_CONFIG, type QueueConfig } from '../config/queue-config';
import type { IntakeClaim, IntakeItemRow, IntakeStore, IntakeTx, IntakeWrite } from './intake.port';
import { planDecision, planProposal } from './core/intake-plan';

export const PROPOSAL_CONSUMER = 'approval-queue:job.proposed';
export const DECISION_CONSUMER = 'approval-queue:decision.made';

/** An event already screened (proposal) or verified (decision) by its use case. */
export type IntakeItem =
  { kind: 'proposal'; event: JobProposedV1; hash: string } | { kind: 'decision'; event: DecisionMadeV1 };

/** `refused`: the event can never be taken (it goes to the DLQ); its claim was not kept. */
export type IntakeOutcome = { kind: 'taken' } | { kind: 'refused'; reason: string };

/** A locked row as the flush changes it; `payload` is the raw proposal payload (redacted when written) or null to drop it. */
interface Working {
  row: IntakeItemRow;
  changed: boolean;
  payload?: Record<string, unknown> | null;
}

type Note = () => void;

const claimOf = (item: IntakeItem): IntakeClaim => ({
  consumer: item.kind === 'proposal' ? PROPOSAL_CONSUMER : DECISION_CONSUMER,
  eventId: item.event.event_id,
});

/**
 * The intake batch pass. Both consumers submit here; events submitted while a flush runs form the
 * next one (GroupCommitter), so a flush costs the same few statements however many events it holds:
 * claim them all, lock or create their rows (job_id order), plan in memory with the pure
 * intake-plan core, write the changed rows. Intake emits no events, so there is no outbox row to
 * stage. A refused event (a proposal that is not the decided job, a decision without its
 * requirement) fails alone: its claim is dropped and the rest commits. If the flush itself throws,
 * the GroupCommitter runs its events one by one.
 */
@Injectable()
export class IntakeBatch {
  private readonly committer: GroupCommitter<IntakeItem, IntakeOutcome>;

  constructor(
    @Inject(ApprovalsRepository) private readonly store: IntakeStore,
    @Inject(QUEUE_CONFIG) private readonly config: Pick<QueueConfig, 'env'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {
    this.committer = new GroupCommitter((items) => this.flush(items), config.env.APPROVAL_QUEUE_INTAKE_BATCH_MAX);
  }

  /** Resolves once the event's flush has committed. */
  submit(item: IntakeItem): Promise<IntakeOutcome> {
    return this.committer.submit(item);
  }

  async flush(items: readonly IntakeItem[]): Promise<IntakeOutcome[]> {
    const notes: Note[] = [];
    const outcomes = await this.store.transaction((tx) => this.pass(tx, items, notes));
    // Logged after the commit, once: a flush that fails is run again item by item.
    for (const note of notes) note();
    this.logger.debug({ events: items.length }, 'intake flush committed');
    return outcomes;
  }

  private async pass(tx: IntakeTx, items: readonly IntakeItem[], notes: Note[]): Promise<IntakeOutcome[]> {
    const now = this.clock.now();
    const claims = items.map(claimOf);
    const fresh = await tx.claim(claims);
    const outcomes: IntakeOutcome[] = items.map(() => ({ kind: 'taken' }));
    const jobIds = [...new Set(items.filter((_, i) => fresh[i]).map((item) => item.event.data.job_id))];
    if (jobIds.length === 0) return outcomes;
    const rows = new Map<string, Working>(
      (await tx.lockOrCreate(jobIds)).map((row) => [row.jobId, { row, changed: false }]),
    );

    items.forEach((item, i) => {
      if (!fresh[i]) return;
      const w = rows.get(item.event.data.job_id);
      if (!w) throw new Error(`approval item ${item.event.data.job_id} was neither created nor found`);
      const outcome =
        item.kind === 'proposal' ? this.takeProposal(w, item, notes) : this.takeDecision(w, item.event, now, notes);
      if (outcome) outcomes[i] = outcome;
    });

    const refused = claims.filter((_, i) => outcomes[i]?.kind === 'refused');
    if (refused.length > 0) await tx.unclaim(refused);
    const writes = [...rows.values()].filter((w) => w.changed).map((w) => this.toWrite(w));
    if (writes.length > 0) await tx.write(writes);
    return outcomes;
  }

  private takeProposal(
    w: Working,
    item: Extract<IntakeItem, { kind: 'proposal' }>,
    notes: Note[],
  ): IntakeOutcome | undefined {
    const { event, hash } = item;
    const p = event.data;
    const ids = { job_id: p.job_id, event_id: event.event_id };
    const plan = planProposal(w.row, { eventId: event.event_id, hash, requestedBy: p.requested_by });
    switch (plan.kind) {
      case 'ignore':
        if (plan.warn) notes.push(() => this.logger.warn(ids, `job.proposed ignored: ${plan.reason}`));
        return undefined;
      case 'mismatch':
        notes.push(() => this.logger.warn(ids, `job.proposed refused: ${plan.reason}`));
        return { kind: 'refused', reason: plan.reason };
      case 'attach':
        Object.assign(w.row, {
          tenant: w.row.tenant ?? p.tenant,
          proposalEventId: event.event_id,
          agentId: p.agent_id,
          topic: p.topic,
          riskTags: [...new Set(p.risk_tags)],
          requestedBy: p.requested_by,
          proposalSummary: p.summary ?? null,
          proposalHash: hash,
          proposedAt: new Date(p.proposed_at),
        });
        w.payload = p.payload;
        w.changed = true;
        notes.push(() => this.logger.debug(ids, 'job.proposed stored'));
        return undefined;
    }
  }

  private takeDecision(w: Working, event: DecisionMadeV1, now: Date, notes: Note[]): IntakeOutcome | undefined {
    const d = event.data;
    const ids = { job_id: d.job_id, event_id: event.event_id };
    const plan = planDecision(w.row, event.event_id, d, now);
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
    switch (plan.kind) {
      case 'ignore':
        if (plan.warn) notes.push(() => this.logger.warn(ids, `decision.made ignored: ${plan.reason}`));
        return undefined;
      case 'poison':
        notes.push(() => this.logger.warn(ids, `decision.made refused: ${plan.reason}`));
        return { kind: 'refused', reason: plan.reason };
      case 'not-required':
        // Only the decision is kept (for the decisions endpoint): the payload is dropped, or never written.
        Object.assign(w.row, decision, { state: 'NOT_REQUIRED' });
        w.payload = null;
        w.changed = true;
        notes.push(() => this.logger.debug(ids, 'decision.made recorded: no approval needed'));
        return undefined;
      case 'pending':
        Object.assign(w.row, decision, {
          state: 'PENDING',
          approvalsRequired: plan.requirement.approvals_required,
          approverRoles: plan.requirement.approver_roles,
          pendingSince: plan.pendingSince,
          dueAt: plan.dueAt,
          escalateAt: plan.escalateAt,
        });
        if (plan.dropProposal) {
          Object.assign(w.row, { proposalEventId: null, requestedBy: null, proposalHash: null });
          w.payload = null;
          notes.push(() =>
            this.logger.warn({ job_id: d.job_id }, 'stored proposal does not match the decided job_hash; dropped'),
          );
        }
        w.changed = true;
        notes.push(() =>
          this.logger.debug({ ...ids, due_at: plan.dueAt.toISOString(), rule: d.policy_rule_id }, 'approval pending'),
        );
        return undefined;
    }
  }

  /** Redacts a payload only when it is written: one whose job needs no approval is never redacted nor stored. */
  private toWrite(w: Working): IntakeWrite {
    if (w.payload === undefined) return { row: w.row };
    if (w.payload === null) return { row: w.row, payload: { payload: null, redactedFields: [] } };
    return { row: w.row, payload: redactPayload(w.payload, this.config.env.REDACT_FIELDS) };
  }
}
