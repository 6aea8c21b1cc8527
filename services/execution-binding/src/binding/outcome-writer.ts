import { buildEvent, deterministicEventId } from '@countersign/bus';
import {
  Topics,
  type BlockReason,
  type ExecutionStatus,
  type JobReleasedData,
  type JobReleasedV1,
} from '@countersign/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { BINDING_CONFIG, PRODUCER, type BindingConfig } from '../config/binding-config';
import type { ExecutionEntity } from '../execution/execution.entity';
import type { BindingChanges } from './binding-changes';
import type { JobEntity } from './job.entity';

const MAX_TEXT = 2000;
const clip = (s: string | null) => (s === null ? null : s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

/**
 * Adds the three outcome events to a pass (its outbox rows, written with it), with deterministic
 * event ids: a job has one `job.blocked` outcome, one grant and one `job.executed`, whatever is retried.
 * All three are signed: only the grant must be (the contract), but a signed block or execution lets
 * the SDK ignore one forged by whoever can write to Kafka.
 */
@Injectable()
export class OutcomeWriter {
  constructor(@Inject(BINDING_CONFIG) private readonly config: BindingConfig) {}

  blocked(
    changes: BindingChanges,
    job: JobEntity,
    block: { reason: BlockReason; detail: string; reasonText: string | null },
    now: Date,
    reportOf?: string,
  ): void {
    const eventId = reportOf
      ? deterministicEventId(Topics.JobBlocked, job.jobId, 'late', reportOf)
      : deterministicEventId(Topics.JobBlocked, job.jobId);
    const event = buildEvent(
      Topics.JobBlocked,
      {
        job_id: job.jobId,
        tenant: job.tenant,
        reason_code: block.reason,
        detail: clip(block.detail) ?? '',
        job_hash: job.jobHash,
        reason_text: clip(block.reasonText),
        blocked_at: now.toISOString(),
        ...(reportOf ? { report_only: true } : {}),
      },
      { producer: PRODUCER, signer: this.config.keys.signer, eventId, now },
    );
    changes.emit({ topic: Topics.JobBlocked, key: job.jobId, event });
  }

  /** The signed grant for a `release` executor. */
  released(changes: BindingChanges, data: JobReleasedData, now: Date): JobReleasedV1 {
    const event = buildEvent(Topics.JobReleased, data, {
      producer: PRODUCER,
      signer: this.config.keys.signer,
      eventId: deterministicEventId(Topics.JobReleased, data.job_id),
      now,
    });
    changes.emit({ topic: Topics.JobReleased, key: data.job_id, event });
    return event;
  }

  executed(
    changes: BindingChanges,
    execution: ExecutionEntity,
    outcome: { status: ExecutionStatus; result?: unknown; error: string | null },
    now: Date,
  ): void {
    const event = buildEvent(
      Topics.JobExecuted,
      {
        job_id: execution.jobId,
        tenant: execution.request.tenant,
        job_hash: execution.request.job_hash,
        executor: execution.kind,
        status: outcome.status,
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        error: clip(outcome.error),
        attempts: execution.attempts,
        executed_at: now.toISOString(),
      },
      {
        producer: PRODUCER,
        signer: this.config.keys.signer,
        eventId: deterministicEventId(Topics.JobExecuted, execution.jobId),
        now,
      },
    );
    changes.emit({ topic: Topics.JobExecuted, key: execution.jobId, event });
  }
}
