import type { ApiErrorCode, BlockReason } from '@countersign/contracts';

/**
 * Exit codes: 0 ok; 1 the input was read and has findings (lint errors, a broken chain) or the
 * service refused the request; 2 bad usage, unreadable input, a missing or refused token, or an
 * unreachable service.
 */
export const ExitCode = { Ok: 0, Findings: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * How the CLI exits on each REST error code of the catalogue (`API_ERRORS`): `usage` when the
 * caller must fix how they call (their token), `refused` when the service said no to a well-formed
 * call. A command whose exit 1 already means something else (`audit verify`: the chain is broken)
 * exits 2 on a refusal too, so the two cannot be confused.
 */
export const API_ERROR_EXITS = {
  INVALID_REQUEST: 'refused',
  UNAUTHENTICATED: 'usage',
  ROLE_NOT_ALLOWED: 'refused',
  TENANT_NOT_ALLOWED: 'refused',
  FORBIDDEN: 'refused',
  NOT_FOUND: 'refused',
  CONFLICT: 'refused',
  PAYLOAD_TOO_LARGE: 'refused',
  UNSUPPORTED_MEDIA_TYPE: 'refused',
  HTTP_ERROR: 'refused',
  INTERNAL: 'refused',
  SELF_APPROVAL: 'refused',
  ALREADY_RESOLVED: 'refused',
  ALREADY_DECIDED_BY_ACTOR: 'refused',
  PROPOSAL_PENDING: 'refused',
  JOB_NOT_FOUND: 'refused',
  SNAPSHOT_NOT_FOUND: 'refused',
  INVALID_GRANT: 'refused',
  GRANT_MALFORMED: 'refused',
  GRANT_MISMATCH: 'refused',
  NOT_RELEASED: 'refused',
  ALREADY_REPORTED: 'refused',
} as const satisfies Record<ApiErrorCode, 'usage' | 'refused'>;

/** Every blocked job is the gate's answer, not a usage problem: a command reporting one exits 1. */
export const BLOCK_REASON_EXITS = {
  DENIED: ExitCode.Findings,
  REJECTED: ExitCode.Findings,
  EXPIRED: ExitCode.Findings,
  HASH_MISMATCH: ExitCode.Findings,
  SNAPSHOT_MISMATCH: ExitCode.Findings,
  BAD_SIGNATURE: ExitCode.Findings,
  DUPLICATE: ExitCode.Findings,
  UNEXPECTED_RESOLUTION: ExitCode.Findings,
  INCOMPLETE: ExitCode.Findings,
  CONSTRAINT_VIOLATION: ExitCode.Findings,
  NO_EXECUTOR: ExitCode.Findings,
  EVENT_ID_CONFLICT: ExitCode.Findings,
  UNSAFE_PAYLOAD: ExitCode.Findings,
} as const satisfies Record<BlockReason, ExitCode>;

function isApiErrorCode(code: string | undefined): code is ApiErrorCode {
  return code !== undefined && Object.hasOwn(API_ERROR_EXITS, code);
}

/**
 * The exit code for a service's error answer, from its code (`error.code` on the wire); an answer
 * that is not ours (a proxy's page, no JSON) goes by its status: 401 is usage, anything else a
 * refusal. `refused` is the command's exit code for a refusal (1 unless 1 means something else).
 */
export function exitCodeForApiError(
  code: string | undefined,
  status: number,
  refused: ExitCode = ExitCode.Findings,
): ExitCode {
  const kind = isApiErrorCode(code) ? API_ERROR_EXITS[code] : status === 401 ? 'usage' : 'refused';
  return kind === 'usage' ? ExitCode.Usage : refused;
}

/** The exit code for a job blocked with `reason`. */
export function exitCodeForBlock(reason: BlockReason): ExitCode {
  return BLOCK_REASON_EXITS[reason];
}
