import { CodedError, invalidRequest } from '@countersign/contracts';
import type { RefusalCode } from './core/approval-state';

/** The codes the approvals feature refuses a request with (statuses: `API_ERRORS`). */
export type ApprovalError =
  | 'NOT_FOUND'
  | 'INVALID_REQUEST'
  | 'TENANT_NOT_ALLOWED'
  | 'ROLE_NOT_ALLOWED'
  | 'SELF_APPROVAL'
  | 'ALREADY_RESOLVED'
  | 'ALREADY_DECIDED_BY_ACTOR'
  | 'PROPOSAL_PENDING';

export const approvalNotFound = (jobId: string): CodedError<ApprovalError> =>
  new CodedError('NOT_FOUND', `no approval for job ${jobId}`);

export const decisionNotFound = (jobId: string): CodedError<ApprovalError> =>
  new CodedError('NOT_FOUND', `no decision recorded for job ${jobId}`);

export const tenantNotAllowed = (tenant: string): CodedError<ApprovalError> =>
  new CodedError('TENANT_NOT_ALLOWED', `your token does not cover tenant ${tenant}`);

export const invalidCursor = (): CodedError<ApprovalError> =>
  invalidRequest('cursor', 'cursor: not a cursor this API returned');

/**
 * A review the pure core refused. A missing reason is a request error on the `reason` field; every
 * other refusal keeps its own code.
 */
export function reviewRefused(
  code: RefusalCode,
  message: string,
  details: Record<string, unknown> = {},
): CodedError<ApprovalError> {
  if (code === 'REASON_REQUIRED') return invalidRequest('reason', `reason: ${message}`);
  return new CodedError(code, message, details);
}

/** The SLA ran out before this review: the item was just resolved EXPIRED. */
export const expiredOnReview = (details: Record<string, unknown>): CodedError<ApprovalError> =>
  new CodedError('ALREADY_RESOLVED', 'already resolved: EXPIRED (the SLA ran out)', details);
