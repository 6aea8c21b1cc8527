import type { ApiErrorCode } from './error-codes';

/**
 * An error with a stable code from the catalogue (`API_ERRORS`). Use cases throw these through their
 * feature's `<feature>.errors.ts`; each transport maps the code to its own answer (the exception
 * filter to an HTTP status, the CLI to an exit code). It carries no status: the catalogue does.
 * Messages are safe to show a client; `details` are merged into the answer's `error` object.
 */
export class CodedError<C extends ApiErrorCode = ApiErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CodedError';
  }
}

/** A 400 `INVALID_REQUEST` naming the field at fault (the message is the whole sentence). */
export function invalidRequest(
  field: string,
  message: string,
  details: Record<string, unknown> = {},
): CodedError<'INVALID_REQUEST'> {
  return new CodedError('INVALID_REQUEST', message, { field, ...details });
}

/** The 401 for a request that carries no bearer token. */
export const MISSING_BEARER = 'missing bearer token (Authorization: Bearer <JWT>)';
