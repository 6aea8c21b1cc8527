import { PoisonMessageError } from '@countersign/bus';
import { BUS_LOGGER } from '@countersign/service-kit';
import type { DecisionMadeV1 } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { QUEUE_CONFIG, type QueueConfig } from '../config/queue-config';
import { IntakeBatch } from './intake-batch';

/**
 * Takes a policy decision. Only a decision signed by policy-decision counts: anything else goes to
 * the DLQ and never becomes an item. A REQUIRE_APPROVAL decision opens one pending item per job;
 * the others are recorded for the decisions endpoint only. The signature is checked here, before
 * the event joins the intake batch pass.
 */
@Injectable()
export class IntakeDecisionUseCase {
  constructor(
    private readonly batch: IntakeBatch,
    @Inject(QUEUE_CONFIG) private readonly config: Pick<QueueConfig, 'decisionKeys'>,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  async execute(event: DecisionMadeV1): Promise<void> {
    const verified = verifyEvent(event, this.config.decisionKeys);
    if (!verified.ok) {
      this.logger.warn(
        { event_id: event.event_id, job_id: event.data.job_id, reason: verified.reason },
        'decision.made refused: bad signature',
      );
      throw new PoisonMessageError(`decision.made signature refused: ${verified.reason}`);
    }
    const outcome = await this.batch.submit({ kind: 'decision', event });
    if (outcome.kind === 'refused') throw new PoisonMessageError(outcome.reason);
  }
}
