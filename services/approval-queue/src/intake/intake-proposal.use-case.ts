import { BUS_LOGGER, PoisonMessageError } from '@countersign/bus';
import { redactPayload, type JobProposedV1 } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApprovalsRepository } from '../approvals/approvals.repository';
import type { Env } from '../config/env.schema';
import { QUEUE_ENV } from '../shared/tokens';
import { planProposal, screenProposal } from './intake-plan';

export const PROPOSAL_CONSUMER = 'approval-queue:job.proposed';

/**
 * Keeps what reviewers need from a proposal: who asked (for the self-approval rule), the agent,
 * topic, tags, and the payload with sensitive values redacted before it is stored. A payload that
 * policy denies for its keys, or that the view could not show whole, is never stored.
 */
@Injectable()
export class IntakeProposalUseCase {
  constructor(
    private readonly repo: ApprovalsRepository,
    @Inject(QUEUE_ENV) private readonly env: Env,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  async execute(event: JobProposedV1): Promise<void> {
    const p = event.data;
    const screen = screenProposal(p.payload);
    if (screen.kind === 'skip') {
      // No row, no payload: the decision.made DENY records the job, execution-binding blocks it.
      this.logger.warn({ job_id: p.job_id, event_id: event.event_id }, `job.proposed not stored: ${screen.reason}`);
      return;
    }
    if (screen.kind === 'refuse') {
      this.logger.warn({ job_id: p.job_id, event_id: event.event_id }, `job.proposed refused: ${screen.reason}`);
      throw new PoisonMessageError(screen.reason);
    }
    const hash = jobHash(p);
    await this.repo.transaction(async (tx) => {
      if (!(await tx.markProcessed(PROPOSAL_CONSUMER, event.event_id))) return;
      const row = await tx.lockOrCreate(p.job_id);
      const plan = planProposal(row, { eventId: event.event_id, hash, requestedBy: p.requested_by });
      switch (plan.kind) {
        case 'ignore':
          if (plan.warn) this.logger.warn({ job_id: p.job_id, event_id: event.event_id }, `job.proposed ignored: ${plan.reason}`);
          return;
        case 'mismatch':
          this.logger.warn({ job_id: p.job_id, event_id: event.event_id }, `job.proposed refused: ${plan.reason}`);
          throw new PoisonMessageError(plan.reason);
        case 'attach': {
          const { payload, redactedFields } = redactPayload(p.payload, this.env.REDACT_FIELDS);
          await tx.update(p.job_id, {
            ...(row.tenant === null ? { tenant: p.tenant } : {}),
            proposalEventId: event.event_id,
            agentId: p.agent_id,
            topic: p.topic,
            riskTags: [...new Set(p.risk_tags)],
            requestedBy: p.requested_by,
            payload,
            redactedFields,
            proposalSummary: p.summary ?? null,
            proposalHash: hash,
            proposedAt: new Date(p.proposed_at),
          });
          this.logger.debug({ event_id: event.event_id, job_id: p.job_id, redacted: redactedFields.length }, 'job.proposed stored');
          return;
        }
      }
    });
  }
}
