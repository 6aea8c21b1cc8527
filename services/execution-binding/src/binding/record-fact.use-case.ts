import { BUS_LOGGER, markProcessed } from '@countersign/bus';
import type { ApprovalResolvedV1, DecisionMadeV1, JobProposedV1 } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { BINDING_CONFIG, CONSUMER, SCHEMA, type BindingConfig } from '../config/binding-config';
import { ExecutionRunner } from '../execution/execution-runner';
import { BindJobService } from './bind-job.service';
import { applyFact, type IncomingFact } from './incoming-fact';
import { isBound } from './job.entity';
import { JobRepository } from './job.repository';

/**
 * Takes one fact (proposal, decision or resolution) in one transaction: a redelivered event does
 * nothing; a fact for a job that already has its outcome is reported and ignored; otherwise the fact
 * is stored and the job is bound as far as its facts allow. The attempt of a recorded execution
 * starts only after that transaction committed.
 */
@Injectable()
export class RecordFactUseCase {
  constructor(
    @Inject(BINDING_CONFIG) private readonly config: BindingConfig,
    private readonly dataSource: DataSource,
    private readonly jobs: JobRepository,
    private readonly binder: BindJobService,
    private readonly runner: ExecutionRunner,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  proposal(event: JobProposedV1): Promise<void> {
    return this.record({ kind: 'proposal', eventId: event.event_id, data: event.data, signatureError: null });
  }

  /** `signed` is the event exactly as received (JSON), which is what its producer signed. */
  decision(event: DecisionMadeV1, signed: Record<string, unknown>): Promise<void> {
    const check = verifyEvent(signed, this.config.keys.policyDecision);
    return this.record({
      kind: 'decision',
      eventId: event.event_id,
      data: event.data,
      signatureError: check.ok ? null : check.reason,
    });
  }

  resolution(event: ApprovalResolvedV1, signed: Record<string, unknown>): Promise<void> {
    const check = verifyEvent(signed, this.config.keys.approvalQueue);
    return this.record({
      kind: 'resolution',
      eventId: event.event_id,
      data: event.data,
      signatureError: check.ok ? null : check.reason,
    });
  }

  private async record(fact: IncomingFact): Promise<void> {
    const now = new Date();
    const ticket = await this.dataSource.transaction(async (m) => {
      if (!(await markProcessed(m, SCHEMA, CONSUMER, fact.eventId))) {
        this.logger.debug({ event_id: fact.eventId, job_id: fact.data.job_id }, 'redelivered fact ignored');
        return null;
      }
      const job = await this.jobs.lockOrCreate(m, fact.data.job_id, now);
      if (isBound(job.state)) {
        await this.binder.reportLateFact(m, job, fact, now);
        return null;
      }
      applyFact(job, fact, now);
      return this.binder.bindAndApply(m, job, now);
    });
    if (ticket) this.runner.launch(ticket);
  }
}
