import { CodedError } from '@countersign/contracts';

/** The codes the policy read API refuses with (statuses: `API_ERRORS`). */
export type PolicyError = 'NOT_FOUND';

export const snapshotNotFound = (id: string): CodedError<PolicyError> =>
  new CodedError('NOT_FOUND', `no snapshot ${id} has been active in this service`);
