import type { BlockReason } from './common';

/** One REST error code: the HTTP status it is answered with, and what it means to a client. */
export interface ApiErrorSpec {
  /** `null`: the status the framework raised passes through unchanged. */
  readonly status: number | null;
  readonly meaning: string;
  /**
   * The code the client sees, when it differs from the catalogue key. Only for a code that was
   * answered with two statuses before the catalogue existed: each status gets its own key, the
   * wire code stays what clients already match on.
   */
  readonly sentAs?: string;
}

/**
 * Every code a service answers a REST request with, as `{ error: { code, message, ...details } }`.
 * The Nest exception filter is the one place that turns a code into an HTTP status, from this
 * table; use cases throw `CodedError(code, ...)` and never choose a status. `docs/errors.md` is
 * generated from it (`node scripts/errors-docs.cjs`).
 */
export const API_ERRORS = {
  // Any service: request shape, authentication, the framework.
  INVALID_REQUEST: {
    status: 400,
    meaning: 'a body, query or path field is invalid; `field` names the first one (`issues` lists up to 10)',
  },
  UNAUTHENTICATED: {
    status: 401,
    meaning: 'no bearer token, or one that does not verify (signature, expiry, issuer, audience, claims)',
  },
  ROLE_NOT_ALLOWED: { status: 403, meaning: "the token's roles do not include one this route or action needs" },
  TENANT_NOT_ALLOWED: { status: 403, meaning: "the token's `tenants` claim does not cover the job's tenant" },
  FORBIDDEN: { status: 403, meaning: 'refused by the framework (a guard answered no)' },
  NOT_FOUND: { status: 404, meaning: 'no such route, approval, recorded decision or policy snapshot' },
  CONFLICT: { status: 409, meaning: 'a conflict raised by the framework' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'the request body is over `MAX_BODY_BYTES`' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the request body has an unsupported charset or encoding' },
  HTTP_ERROR: { status: null, meaning: 'any other status raised by the framework, passed through' },
  INTERNAL: { status: 500, meaning: 'an unexpected error; the details are in the service log, never in the answer' },

  // approval-queue: reviewing a job.
  SELF_APPROVAL: { status: 403, meaning: 'the reviewer requested the job, so cannot approve it' },
  ALREADY_RESOLVED: {
    status: 409,
    meaning: 'the approval is already resolved (APPROVED, REJECTED or EXPIRED); `resolution` says how and by whom',
  },
  ALREADY_DECIDED_BY_ACTOR: { status: 409, meaning: 'this reviewer has already acted on this approval' },
  PROPOSAL_PENDING: {
    status: 409,
    meaning: 'the decision arrived before its proposal: the job cannot be reviewed until the proposal is stored',
  },

  // audit and execution-binding: reading a job or a snapshot.
  JOB_NOT_FOUND: { status: 404, meaning: 'no job (execution-binding) or no audit record (audit) under that id' },
  SNAPSHOT_NOT_FOUND: { status: 404, meaning: 'audit holds no `policy.activated` record for that snapshot' },

  // execution-binding: an agent reporting the outcome of a released job.
  INVALID_GRANT: {
    status: 403,
    meaning: 'the grant sent back does not carry our signature, or is not the grant issued for this job',
  },
  GRANT_MALFORMED: {
    status: 400,
    sentAs: 'INVALID_GRANT',
    meaning: 'the grant sent back is not a `job.released` event (answered 400, unlike the other `INVALID_GRANT`)',
  },
  GRANT_MISMATCH: { status: 403, meaning: 'the grant is for another job than the one in the path' },
  NOT_RELEASED: { status: 409, meaning: 'the job was not released to an agent, so there is no outcome to report' },
  ALREADY_REPORTED: {
    status: 409,
    meaning: 'another outcome is already recorded for the job; `recorded_status` says which',
  },
} as const satisfies Record<string, ApiErrorSpec>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** The HTTP status of a code (`null`: the framework's own status passes through). */
export function httpStatusOf(code: ApiErrorCode): number | null {
  return (API_ERRORS[code] as ApiErrorSpec).status;
}

/** The code a client sees for a catalogue code. */
export function wireCodeOf(code: ApiErrorCode): string {
  return (API_ERRORS[code] as ApiErrorSpec).sentAs ?? code;
}

/** Every `job.blocked` reason code (the `reason_code` field), with what it means. */
export const BLOCK_REASONS = {
  DENIED: { meaning: "the policy decided DENY; `reason_text` is the policy's reason" },
  REJECTED: { meaning: "a reviewer rejected the job; `reason_text` is the reviewer's reason" },
  EXPIRED: { meaning: 'the approval SLA ran out before enough approvals' },
  HASH_MISMATCH: {
    meaning: 'the decision or the resolution is for another job body than the stored proposal',
  },
  SNAPSHOT_MISMATCH: { meaning: "the resolution names another policy snapshot than the gating decision's" },
  BAD_SIGNATURE: { meaning: 'a decision, resolution or duplicate fact does not carry a trusted signature' },
  DUPLICATE: { meaning: 'a second fact of one kind (another `event_id`) arrived for the job' },
  UNEXPECTED_RESOLUTION: { meaning: 'a resolution arrived for a job whose decision did not require approval' },
  INCOMPLETE: {
    meaning: 'the proposal, decision or resolution was still missing past its deadline (`INCOMPLETE_AFTER_MS`)',
  },
  CONSTRAINT_VIOLATION: {
    meaning: "the executor's target is outside the decision's constraints (`network_allowlist`)",
  },
  NO_EXECUTOR: { meaning: "no executor's `match` globs cover the job's topic" },
  EVENT_ID_CONFLICT: {
    meaning: 'a second event under a known topic and `event_id` with another body: a forgery attempt, never applied',
  },
  UNSAFE_PAYLOAD: {
    meaning: 'the payload carries a `__proto__`, `constructor` or `prototype` key that a decision let through',
  },
} as const satisfies Record<BlockReason, { meaning: string }>;
