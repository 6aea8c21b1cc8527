/** What one attempt of an executor found out. */
export type AttemptOutcome =
  | { kind: 'succeeded'; result: unknown }
  /** The target answered with a failure, or the call never left (nothing happened). */
  | { kind: 'failed'; error: string; retryable: boolean }
  /** The call may or may not have had its effect (no answer in time, connection lost mid-call). */
  | { kind: 'indeterminate'; error: string };

export type AttemptVerdict =
  | { state: 'succeeded'; result: unknown }
  | { state: 'failed'; error: string }
  | { state: 'unknown'; error: string }
  | { state: 'pending'; nextAttemptAt: Date; error: string };

export interface RetryState {
  idempotent: boolean;
  attempts: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** Exponential backoff before attempt `attempts + 1`. */
export function backoffMs(attempts: number, s: Pick<RetryState, 'initialBackoffMs' | 'maxBackoffMs'>): number {
  return Math.min(s.initialBackoffMs * 2 ** Math.max(0, attempts - 1), s.maxBackoffMs);
}

const canRetry = (s: RetryState) => s.idempotent && s.attempts < s.maxAttempts;

/**
 * The state an execution moves to after an attempt. Only idempotent executors are ever retried.
 * A non-idempotent one that may have acted is `unknown`, never tried again by itself: a person or
 * the target's own records must say whether it happened.
 */
export function afterAttempt(s: RetryState, outcome: AttemptOutcome, now: Date): AttemptVerdict {
  switch (outcome.kind) {
    case 'succeeded':
      return { state: 'succeeded', result: outcome.result };
    case 'failed':
      if (outcome.retryable && canRetry(s)) return retry(s, outcome.error, now);
      return { state: 'failed', error: attemptsNote(s, outcome.error) };
    case 'indeterminate':
      if (canRetry(s)) return retry(s, outcome.error, now);
      return { state: 'unknown', error: attemptsNote(s, outcome.error) };
  }
}

/**
 * An execution left `started` past its lease: the process running it died (the attempt's own timeout
 * is inside the lease). Idempotent executors try again; any other may have acted and becomes `unknown`.
 */
export function afterAbandoned(s: RetryState, now: Date): AttemptVerdict {
  const error = 'interrupted: the process running the attempt stopped before recording its outcome';
  if (canRetry(s)) return { state: 'pending', nextAttemptAt: now, error };
  return { state: 'unknown', error: attemptsNote(s, error) };
}

function retry(s: RetryState, error: string, now: Date): AttemptVerdict {
  return { state: 'pending', nextAttemptAt: new Date(now.getTime() + backoffMs(s.attempts, s)), error };
}

function attemptsNote(s: RetryState, error: string): string {
  return s.idempotent && s.attempts > 1 ? `${error} (after ${s.attempts} attempts)` : error;
}
