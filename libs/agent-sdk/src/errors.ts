import type { BlockReason } from '@countersign/contracts';

/** Every error the SDK throws carries a stable code. */
export class CountersignError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The proposal failed the `job.proposed` contract; nothing was sent. */
export class InvalidProposalError extends CountersignError {
  constructor(readonly issues: { path: string; message: string }[]) {
    super('INVALID_PROPOSAL', `invalid proposal: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** The serialized proposal is larger than the limit (`maxProposalBytes`, 1 MiB by default); nothing was sent. */
export class ProposalTooLargeError extends CountersignError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'PROPOSAL_TOO_LARGE',
      `proposal is ${bytes} bytes serialized, over the ${limit}-byte limit (maxProposalBytes); nothing was sent`,
    );
  }
}

/** The gate did not let the job run; `reasonCode` says why (see the execution-binding docs). */
export class BlockedError extends CountersignError {
  constructor(
    readonly jobId: string,
    readonly reasonCode: BlockReason,
    readonly detail: string,
    /** The policy's or reviewer's own words, when there are any. */
    readonly reasonText: string | null,
  ) {
    super(reasonCode, `job ${jobId} blocked (${reasonCode}): ${reasonText ?? detail}`);
  }
}

/** Policy denied the job. */
export class DeniedError extends BlockedError {}

/** A reviewer rejected the job; `reason` is what they wrote. */
export class RejectedError extends BlockedError {
  get reason(): string | null {
    return this.reasonText;
  }
}

/** Nobody approved the job before its approval SLA ran out. */
export class ExpiredError extends BlockedError {}

/** No outcome arrived in time. The job may still be decided later: ask `outcome()` again. */
export class TimeoutError extends CountersignError {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    waitingFor: string,
  ) {
    super('TIMEOUT', `no ${waitingFor} for job ${jobId} within ${timeoutMs} ms`);
  }
}

/** The grant did not verify (signature, job, hash, agent or expiry); the agent's function was not run. */
export class GrantVerificationError extends CountersignError {
  constructor(
    readonly jobId: string,
    why: string,
  ) {
    super('GRANT_REJECTED', `grant for job ${jobId} refused: ${why}`);
  }
}

/** `run()` was used for a job that an http or kafka executor ran instead of releasing it to the agent. */
export class NotReleasedError extends CountersignError {
  constructor(
    readonly jobId: string,
    readonly outcome: unknown,
  ) {
    super('NOT_RELEASED', `job ${jobId} was executed by the gate's own executor, not released to the agent`);
  }
}

/** The agent's function ran but its outcome could not be reported; `result` is what it returned. */
export class ReportError extends CountersignError {
  constructor(
    readonly jobId: string,
    message: string,
    readonly result?: unknown,
  ) {
    super('REPORT_FAILED', `could not report the outcome of job ${jobId}: ${message}`);
  }
}
