import { JobReleasedV1Schema } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { BindingDeps } from '../binding/binding-deps';
import { commitPass } from '../binding/binding.port';
import { FINAL_STATUS } from './execution.entity';
import {
  alreadyReported,
  grantMalformed,
  grantMismatch,
  grantNotIssued,
  grantSignatureInvalid,
  notReleased,
} from './execution.errors';
import { ExecutionRunner } from './execution-runner';

const MAX_RESULT_BYTES = 65_536;

export const ReportBodySchema = z
  .object({
    /** The `job.released` event exactly as the agent received it: the report's credential. */
    grant: z
      .record(z.string(), z.unknown())
      .meta({ description: 'the job.released event exactly as received: the credential of the report' }),
    status: z.enum(['SUCCEEDED', 'FAILED']),
    result: z.unknown().optional().meta({ description: 'JSON result of the agent function (SUCCEEDED)' }),
    error: z.string().max(2000).nullable().optional().meta({ description: 'what went wrong (FAILED)' }),
  })
  .strict()
  .refine((b) => b.result === undefined || JSON.stringify(b.result).length <= MAX_RESULT_BYTES, {
    path: ['result'],
    message: `at most ${MAX_RESULT_BYTES} bytes of JSON`,
  });
export type ReportBody = z.infer<typeof ReportBodySchema>;

export interface ReportAnswer {
  job_id: string;
  status: 'SUCCEEDED' | 'FAILED';
  /** False when the same outcome had already been recorded (a retried report). */
  recorded: boolean;
}

/**
 * The agent's report of a released job it ran. The grant it sends back is the credential: it must
 * carry our own signature and be the very grant issued for this job; the first report is recorded
 * as `job.executed` and the same report again is answered without recording twice.
 */
@Injectable()
export class ReportOutcomeUseCase {
  constructor(
    private readonly deps: BindingDeps,
    private readonly runner: ExecutionRunner,
  ) {}

  async execute(jobId: string, body: ReportBody): Promise<ReportAnswer> {
    const parsed = JobReleasedV1Schema.safeParse(body.grant);
    if (!parsed.success) throw grantMalformed();
    const check = verifyEvent(body.grant, this.deps.config.keys.ownGrants);
    if (!check.ok) throw grantSignatureInvalid(check.reason);
    const grant = parsed.data;
    if (grant.data.job_id !== jobId) throw grantMismatch(grant.data.job_id, jobId);

    const { result } = await commitPass(this.deps.store, this.deps.relay, async (tx, changes) => {
      const locked = (await tx.lockExecutions([jobId])).get(jobId);
      const execution = locked?.execution;
      if (!locked || !execution || execution.kind !== 'release') {
        throw notReleased(jobId);
      }
      if (execution.grantEventId !== grant.event_id) throw grantNotIssued();
      if (execution.state !== 'released') {
        if (FINAL_STATUS[execution.state] === body.status)
          return { job_id: jobId, status: body.status, recorded: false };
        throw alreadyReported(jobId, FINAL_STATUS[execution.state] ?? null, execution.state);
      }
      const now = this.deps.clock.now();
      this.runner.apply(
        changes,
        locked.job,
        execution,
        body.status === 'SUCCEEDED'
          ? { state: 'succeeded', result: body.result ?? null }
          : { state: 'failed', error: body.error ?? 'the agent reported a failure' },
        now,
      );
      this.deps.logger.info({ job_id: jobId, status: body.status }, 'agent report recorded');
      return { job_id: jobId, status: body.status, recorded: true };
    });
    return result;
  }
}
