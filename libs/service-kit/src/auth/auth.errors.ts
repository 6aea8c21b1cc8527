import { CodedError, MISSING_BEARER } from '@countersign/contracts';

/** The codes the bearer-token guards refuse with. */
export type AuthError = 'UNAUTHENTICATED' | 'ROLE_NOT_ALLOWED';

/** 401: the token is missing or does not verify. */
export function unauthenticated(message: string = MISSING_BEARER): CodedError<AuthError> {
  return new CodedError('UNAUTHENTICATED', message);
}

/** 403: the token verified but carries none of the roles the route needs. */
export function roleNotAllowed(message: string, details: Record<string, unknown> = {}): CodedError<AuthError> {
  return new CodedError('ROLE_NOT_ALLOWED', message, details);
}
