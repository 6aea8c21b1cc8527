import { Injectable } from '@nestjs/common';
import { BindingStore } from '../binding/binding.store';
import { FINAL_STATUS } from '../execution/execution.entity';
import type { JobStateDto } from './job-state.dto';
import { jobNotFound } from './jobs.errors';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

@Injectable()
export class GetJobStateQuery {
  constructor(private readonly store: BindingStore) {}

  async execute(jobId: string): Promise<JobStateDto> {
    const job = await this.store.findJob(jobId);
    if (!job) throw jobNotFound(jobId);
    const execution = await this.store.findExecution(jobId);
    const ref = (eventId: string | null, at: Date | null, signatureError?: string | null) =>
      eventId && at
        ? {
            event_id: eventId,
            received_at: at.toISOString(),
            ...(signatureError === undefined ? {} : { signature_ok: signatureError === null }),
          }
        : null;
    return {
      job_id: job.jobId,
      tenant: job.tenant,
      state: job.state,
      job_hash: job.jobHash,
      // What a forged fact claims is not shown as the job's decision or resolution (its ref says signature_ok: false).
      decision: job.decisionSignatureError ? null : (job.decision?.decision ?? null),
      policy_snapshot: job.decisionSignatureError ? null : (job.decision?.policy_snapshot ?? null),
      resolution: job.resolutionSignatureError ? null : (job.resolution?.resolution ?? null),
      facts: {
        proposal: ref(job.proposalEventId, job.proposalReceivedAt),
        decision: ref(job.decisionEventId, job.decisionReceivedAt, job.decisionSignatureError),
        resolution: ref(job.resolutionEventId, job.resolutionReceivedAt, job.resolutionSignatureError),
      },
      block: job.blockReason
        ? { reason_code: job.blockReason, detail: job.blockDetail ?? '', reason_text: job.reasonText }
        : null,
      execution: execution
        ? {
            executor: execution.executorName,
            kind: execution.kind,
            state: execution.state,
            status: FINAL_STATUS[execution.state] ?? null,
            attempts: execution.attempts,
            error: execution.error,
            ...(execution.state === 'succeeded' ? { result: execution.result } : {}),
            grant_expires_at: iso(execution.grantExpiresAt),
          }
        : null,
      timestamps: {
        first_seen_at: job.firstSeenAt.toISOString(),
        proposed_at: iso(job.proposalReceivedAt),
        decided_at: iso(job.decisionReceivedAt),
        resolved_at: iso(job.resolutionReceivedAt),
        released_at: iso(job.releasedAt),
        executing_at: execution?.kind === 'release' ? null : iso(execution?.startedAt),
        executed_at: iso(job.executedAt),
        blocked_at: iso(job.blockedAt),
        deadline_at: iso(job.deadlineAt),
      },
      late_facts: job.lateFacts,
    };
  }
}
