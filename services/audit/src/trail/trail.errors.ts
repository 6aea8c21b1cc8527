import { CodedError, invalidRequest } from '@countersign/contracts';

/** The codes the audit trail API refuses with (statuses: `API_ERRORS`). */
export type TrailError = 'JOB_NOT_FOUND' | 'SNAPSHOT_NOT_FOUND' | 'INVALID_REQUEST';

/** Also the answer for a job outside the token's tenants, so its existence does not leak. */
export const jobNotFound = (jobId: string): CodedError<TrailError> =>
  new CodedError('JOB_NOT_FOUND', `no audit records for job ${jobId}`, { job_id: jobId });

export const snapshotNotFound = (id: string): CodedError<TrailError> =>
  new CodedError('SNAPSHOT_NOT_FOUND', `no policy.activated record for snapshot ${id}`, { snapshot_id: id });

export const rangeReversed = (): CodedError<TrailError> =>
  invalidRequest('to_seq', 'to_seq must not be below from_seq');
