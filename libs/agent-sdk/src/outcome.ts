import type { KeyObject } from 'node:crypto';
import {
  JobBlockedV1Schema,
  JobExecutedV1Schema,
  JobReleasedV1Schema,
  Topics,
  type BlockReason,
  type ExecutionStatus,
  type ExecutorKind,
  type JobBlockedData,
  type JobExecutedData,
} from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { BlockedError, DeniedError, ExpiredError, RejectedError } from './errors';

/** An outcome event about one job, as the SDK sees it. */
export type JobSignal =
  | { kind: 'released'; jobId: string; event: Record<string, unknown> }
  | { kind: 'executed'; jobId: string; data: JobExecutedData }
  | { kind: 'blocked'; jobId: string; data: JobBlockedData };

/** What `outcome()` resolves to once the job ran. FAILED and UNKNOWN are outcomes too: check `status`. */
export interface ExecutionOutcome {
  jobId: string;
  status: ExecutionStatus;
  result?: unknown;
  error: string | null;
  executor: ExecutorKind;
  attempts: number;
}

/**
 * Reads an outcome event signed by a trusted execution-binding key; null for anything else: invalid,
 * unsigned or forged (anyone who can write to Kafka could otherwise fake a block or an execution),
 * or a report-only block (a late or duplicate fact about a job whose outcome already stands).
 */
export function signalOf(
  topic: string,
  value: Buffer | string | null,
  trusted: readonly KeyObject[],
): JobSignal | null {
  if (value === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return null;
  }
  if (!json || typeof json !== 'object' || !verifyEvent(json as Record<string, unknown>, trusted).ok) return null;
  switch (topic) {
    case Topics.JobReleased: {
      const r = JobReleasedV1Schema.safeParse(json);
      return r.success ? { kind: 'released', jobId: r.data.data.job_id, event: json as Record<string, unknown> } : null;
    }
    case Topics.JobExecuted: {
      const r = JobExecutedV1Schema.safeParse(json);
      return r.success ? { kind: 'executed', jobId: r.data.data.job_id, data: r.data.data } : null;
    }
    case Topics.JobBlocked: {
      const r = JobBlockedV1Schema.safeParse(json);
      return r.success && !r.data.data.report_only
        ? { kind: 'blocked', jobId: r.data.data.job_id, data: r.data.data }
        : null;
    }
    default:
      return null;
  }
}

export function outcomeOf(data: JobExecutedData): ExecutionOutcome {
  return {
    jobId: data.job_id,
    status: data.status,
    ...(data.result === undefined ? {} : { result: data.result }),
    error: data.error,
    executor: data.executor,
    attempts: data.attempts,
  };
}

const TYPED: Partial<Record<BlockReason, typeof BlockedError>> = {
  DENIED: DeniedError,
  REJECTED: RejectedError,
  EXPIRED: ExpiredError,
};

/** The typed error for a block: DeniedError, RejectedError, ExpiredError, or BlockedError with the code. */
export function blockedError(data: JobBlockedData): BlockedError {
  const ErrorType = TYPED[data.reason_code] ?? BlockedError;
  return new ErrorType(data.job_id, data.reason_code, data.detail, data.reason_text);
}
