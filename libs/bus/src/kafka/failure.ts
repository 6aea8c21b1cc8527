import { QueryFailedError, TypeORMError } from 'typeorm';

/**
 * Thrown by a use case for input that can never succeed: the message goes to the DLQ, not retried.
 * Any error that is not an I/O failure does the same (see classifyFailure); this one says so explicitly.
 */
export class PoisonMessageError extends Error {
  readonly code = 'POISON_MESSAGE';
}

/**
 * Thrown (or used as a `cause`) for a failure that a later attempt can get past: the inbox retries
 * the message with backoff, holding its partition. For I/O the classifier does not recognise itself.
 */
export class TransientError extends Error {
  readonly code = 'TRANSIENT';
}

export interface FailureClass {
  kind: 'transient' | 'permanent';
  /** Why, for the log and the DLQ record: `pg SQLSTATE 08006`, `system error ECONNREFUSED`, `TypeError`. */
  why: string;
}

/** SQLSTATE classes that fail the same way for the same input: data exceptions and syntax/undefined objects (bugs). */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '42']);
/**
 * Except insufficient_privilege (42501): a grant is configuration, fixed by an operator (or by a
 * migration still running at startup, as seen in audit), after which the same message succeeds.
 */
const TRANSIENT_SQLSTATES = new Set(['42501']);
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The errors node-postgres and pg-pool raise when the connection (not the query) fails carry no code
 * of their own; these are their fixed texts, so they are recognised by them.
 */
const PG_CONNECTION_FAILURE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout)/;

/** kafkajs refusals of the record itself: sending the same record again fails the same way. */
const KAFKA_RECORD_REFUSALS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
]);

type ErrorLike = Error & {
  code?: unknown;
  syscall?: unknown;
  errno?: unknown;
  driverError?: unknown;
  type?: unknown;
  errors?: unknown;
  cause?: unknown;
};

/** Duck-typed: errors from another realm (Node internals under a test runner's VM) fail `instanceof Error`. */
function isErrorLike(e: unknown): e is ErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string';
}

function classifyOne(e: ErrorLike): FailureClass | null {
  if (e instanceof TransientError) return { kind: 'transient', why: 'TransientError' };
  if (e instanceof PoisonMessageError) return { kind: 'permanent', why: 'PoisonMessageError' };
  // PostgreSQL's own errors (pg DatabaseError, or TypeORM's QueryFailedError, which copies the code).
  if (typeof e.code === 'string' && SQLSTATE.test(e.code) && ('severity' in e || 'driverError' in e)) {
    const cls = e.code.slice(0, 2);
    return {
      kind: PERMANENT_SQLSTATE_CLASSES.has(cls) && !TRANSIENT_SQLSTATES.has(e.code) ? 'permanent' : 'transient',
      why: `PostgreSQL SQLSTATE ${e.code}`,
    };
  }
  // Node system errors (ECONNREFUSED, ETIMEDOUT, EPIPE, ECONNRESET, ENOTFOUND...) are I/O by definition.
  if (typeof e.code === 'string' && (typeof e.syscall === 'string' || typeof e.errno === 'number'))
    return { kind: 'transient', why: `system error ${e.code}` };
  // undici (Node's fetch) network failures: connect/headers/body timeouts, closed sockets.
  if (typeof e.code === 'string' && e.code.startsWith('UND_ERR_')) return { kind: 'transient', why: `fetch ${e.code}` };
  if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) {
    // kafkajs wraps a non-retriable protocol error (KafkaJSNonRetriableError, cause = the refusal).
    for (let c: unknown = e, i = 0; isErrorLike(c) && i < 8; c = c.cause, i++)
      if (typeof c.type === 'string' && KAFKA_RECORD_REFUSALS.has(c.type))
        return { kind: 'permanent', why: `${e.name} ${c.type}` };
    return { kind: 'transient', why: e.name };
  }
  if (typeof e.message === 'string' && PG_CONNECTION_FAILURE.test(e.message))
    return { kind: 'transient', why: 'PostgreSQL connection failure' };
  // TypeORM wraps whatever the driver threw; without a SQLSTATE it was the connection, not the query.
  if ('driverError' in e && isErrorLike(e.driverError)) {
    const inner = classifyOne(e.driverError as ErrorLike);
    return inner ?? { kind: 'transient', why: `${e.name}: driver error without SQLSTATE` };
  }
  // The ORM's own errors ("Driver not Connected" while PostgreSQL restarts, a released query runner,
  // a lost pool) concern the connection or the mapping, never the bytes of one message: holding the
  // partition loses nothing, where sending every message to the DLQ during an outage would lose them
  // all (found by the fault suite). QueryFailedError was classified above by its SQLSTATE.
  if (e instanceof TypeORMError && !(e instanceof QueryFailedError))
    return { kind: 'transient', why: `${e.name} (ORM)` };
  // AbortSignal.timeout() and friends: an I/O call that did not answer in time.
  if (e.name === 'TimeoutError') return { kind: 'transient', why: 'TimeoutError' };
  return null;
}

/**
 * Whether a handler's failure can pass on a later attempt. Only I/O failures can: database errors
 * other than data exceptions (class 22) and syntax/undefined-object errors (class 42, but 42501),
 * lost connections, TypeORM's own errors, broker errors, Node system and fetch network errors, and
 * an explicit TransientError, also when they are the `cause` of another error. Everything else
 * (TypeError, RangeError, zod and domain errors, PoisonMessageError, a thrown non-Error) comes from
 * code that will do the same with the same input: permanent.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (!isErrorLike(error)) return { kind: 'permanent', why: `thrown ${typeof error}` };
  const name = typeof error.name === 'string' ? error.name : 'Error';
  const own = classifyOne(error);
  if (own) return own;
  // `fetch failed` (a TypeError) caused by ECONNREFUSED is I/O: look through causes, bounded.
  const seen = new Set<unknown>([error]);
  const queue: unknown[] = [error.cause, ...(Array.isArray(error.errors) ? (error.errors as unknown[]) : [])];
  while (queue.length && seen.size < 16) {
    const e = queue.shift();
    if (!isErrorLike(e) || seen.has(e)) continue;
    seen.add(e);
    const c = classifyOne(e);
    if (c?.kind === 'transient') return { kind: 'transient', why: `${name} caused by ${c.why}` };
    queue.push(e.cause);
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return { kind: 'permanent', why: name };
}
