import type { ApiError } from './api';
import type { ApprovalItem } from './types';

/**
 * What an API refusal means for the reviewer, in plain words. The code is still shown, small, so a
 * reviewer can quote it to an operator, but never on its own.
 */
export function explain(e: ApiError, item?: ApprovalItem): string {
  switch (e.code) {
    case 'UNAUTHENTICATED':
      return 'Your sign-in is no longer valid (the token expired or was not accepted). Sign in again.';
    case 'SELF_APPROVAL':
      return 'You requested this action, so someone else must approve it.';
    case 'ROLE_NOT_ALLOWED':
      return item?.approver_roles.length
        ? `Your roles cannot decide this item. It needs someone with one of these roles: ${item.approver_roles.join(', ')}.`
        : 'Your roles cannot decide this item. It names no role, so it needs the default role: approver.';
    case 'TENANT_NOT_ALLOWED':
      return item
        ? `Your token does not cover the tenant “${item.tenant}”, so you cannot decide this item.`
        : 'Your token does not cover this tenant.';
    case 'ALREADY_DECIDED_BY_ACTOR':
      return 'You have already decided on this item. Any further approval must come from a different person.';
    case 'ALREADY_RESOLVED': {
      const r = (e.details['resolution'] ?? {}) as { resolution?: string; resolved_by?: string };
      const what = r.resolution
        ? `${r.resolution.toLowerCase()}${r.resolved_by ? ` by ${r.resolved_by}` : ''}`
        : 'resolved';
      return `This item was already ${what}. There is nothing left to decide.`;
    }
    case 'PROPOSAL_PENDING':
      return 'The agent’s full proposal has not arrived yet, so there is nothing to approve. Try again in a moment.';
    case 'NOT_FOUND':
      return 'This item is no longer in the queue.';
    case 'INVALID_REQUEST':
      return `The request was not accepted: ${e.message}.`;
    case 'NETWORK':
      return 'The approval queue cannot be reached. Check your connection; the page keeps trying.';
    default:
      return e.status >= 500
        ? 'The approval queue had a problem answering. Try again in a moment.'
        : `The request was refused: ${e.message}.`;
  }
}
