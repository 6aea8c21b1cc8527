import { CodedError } from '@countersign/contracts';

/** The codes reading a job's state refuses with (statuses: `API_ERRORS`). */
export type JobsError = 'JOB_NOT_FOUND';

export const jobNotFound = (jobId: string): CodedError<JobsError> =>
  new CodedError('JOB_NOT_FOUND', `no job ${jobId} is known to execution-binding`);
