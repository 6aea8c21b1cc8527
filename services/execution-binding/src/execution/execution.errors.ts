import { CodedError } from '@countersign/contracts';

/**
 * The codes an agent's outcome report is refused with (statuses: `API_ERRORS`). `GRANT_MALFORMED`
 * reaches the client as `INVALID_GRANT` with a 400, as it always has.
 */
export type ExecutionError =
  'GRANT_MALFORMED' | 'INVALID_GRANT' | 'GRANT_MISMATCH' | 'NOT_RELEASED' | 'ALREADY_REPORTED';

export const grantMalformed = (): CodedError<ExecutionError> =>
  new CodedError('GRANT_MALFORMED', 'grant is not a job.released event');

export const grantSignatureInvalid = (reason: string): CodedError<ExecutionError> =>
  new CodedError('INVALID_GRANT', `grant signature: ${reason}`);

export const grantNotIssued = (): CodedError<ExecutionError> =>
  new CodedError('INVALID_GRANT', 'not the grant issued for this job');

export const grantMismatch = (grantJobId: string, jobId: string): CodedError<ExecutionError> =>
  new CodedError('GRANT_MISMATCH', `the grant is for job ${grantJobId}, not ${jobId}`);

export const notReleased = (jobId: string): CodedError<ExecutionError> =>
  new CodedError('NOT_RELEASED', `job ${jobId} was not released to an agent`);

export const alreadyReported = (jobId: string, recorded: string | null, state: string): CodedError<ExecutionError> =>
  new CodedError('ALREADY_REPORTED', `job ${jobId} is already recorded as ${recorded ?? state}`, {
    recorded_status: recorded,
  });
