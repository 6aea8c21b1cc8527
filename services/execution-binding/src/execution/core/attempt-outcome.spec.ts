import { afterAbandoned, afterAttempt, backoffMs, type RetryState } from './attempt-outcome';

const now = new Date('2026-11-24T10:00:00.000Z');
const s = (over: Partial<RetryState> = {}): RetryState => ({
  idempotent: true,
  attempts: 1,
  maxAttempts: 3,
  initialBackoffMs: 100,
  maxBackoffMs: 250,
  ...over,
});

describe('afterAttempt', () => {
  it('records success', () => {
    expect(afterAttempt(s(), { kind: 'succeeded', result: { ok: 1 } }, now)).toEqual({
      state: 'succeeded',
      result: { ok: 1 },
    });
  });

  it('retries an idempotent executor with exponential backoff, capped', () => {
    expect(afterAttempt(s(), { kind: 'failed', error: 'HTTP 503', retryable: true }, now)).toEqual({
      state: 'pending',
      nextAttemptAt: new Date(now.getTime() + 100),
      error: 'HTTP 503',
    });
    expect(backoffMs(2, s())).toBe(200);
    expect(backoffMs(3, s())).toBe(250);
  });

  it('gives up after max attempts: FAILED for a definite failure, UNKNOWN when it may have acted', () => {
    expect(afterAttempt(s({ attempts: 3 }), { kind: 'failed', error: 'HTTP 503', retryable: true }, now)).toEqual({
      state: 'failed',
      error: 'HTTP 503 (after 3 attempts)',
    });
    expect(afterAttempt(s({ attempts: 3 }), { kind: 'indeterminate', error: 'timeout' }, now)).toMatchObject({
      state: 'unknown',
    });
  });

  it('does not retry a failure that is not retryable', () => {
    expect(afterAttempt(s(), { kind: 'failed', error: 'HTTP 400', retryable: false }, now)).toEqual({
      state: 'failed',
      error: 'HTTP 400',
    });
  });

  it('never retries a non-idempotent executor: a failure is FAILED, an interrupted call UNKNOWN', () => {
    const once = s({ idempotent: false, maxAttempts: 1 });
    expect(afterAttempt(once, { kind: 'failed', error: 'could not connect', retryable: true }, now)).toEqual({
      state: 'failed',
      error: 'could not connect',
    });
    expect(afterAttempt(once, { kind: 'indeterminate', error: 'timeout' }, now)).toEqual({
      state: 'unknown',
      error: 'timeout',
    });
  });
});

describe('afterAbandoned', () => {
  it('makes a non-idempotent execution UNKNOWN, never retried', () => {
    expect(afterAbandoned(s({ idempotent: false, maxAttempts: 1 }), now)).toMatchObject({
      state: 'unknown',
      error: expect.stringMatching(/interrupted/),
    });
  });

  it('retries an idempotent one at once while attempts remain', () => {
    expect(afterAbandoned(s(), now)).toMatchObject({ state: 'pending', nextAttemptAt: now });
    expect(afterAbandoned(s({ attempts: 3 }), now)).toMatchObject({ state: 'unknown' });
  });
});
