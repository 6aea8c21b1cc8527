import { PoisonMessageError } from '@countersign/bus';
import { BUS_LOGGER } from '@countersign/service-kit';
import type { JobProposedV1 } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { IntakeBatch } from './intake-batch';
import { screenProposal } from './core/intake-plan';

/**
 * Keeps what reviewers need from a proposal: who asked (for the self-approval rule), the agent,
 * topic, tags, and the payload with sensitive values redacted before it is stored. A payload that
 * policy denies for its keys, or that the view could not show whole, is never stored. The store
 * itself happens in the intake batch pass, together with the other events of the moment.
 */
@Injectable()
export class IntakeProposalUseCase {
  constructor(
    private readonly batch: IntakeBatch,
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
    const outcome = await this.batch.submit({ kind: 'proposal', event, hash: jobHash(p) });
    if (outcome.kind === 'refused') throw new PoisonMessageError(outcome.reason);
  }
}
