import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, in words: it names the failure. */
  what: string;
  /** Milliseconds until giving up. Default 20 s. */
  timeout?: number;
  /** Milliseconds between probes. Default 100. */
  every?: number;
}

/**
 * Probes until `probe` returns something truthy and returns that. Fails after `timeout` naming
 * `what` and the last value seen. A probe that throws fails the wait at once (wrap it if an error
 * is one of the states to wait through).
 */
export async function waitUntil<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitOptions,
): Promise<T> {
  const timeout = opts.timeout ?? 20_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what} (last: ${describe(value)})`);
    }
    await delay(opts.every ?? 100);
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 300) ?? String(value);
  } catch {
    return String(value);
  }
}

export interface BarrierOptions<M> {
  /** Sends the marker: on the same key (so the same partition) as the messages it must follow. */
  mark: () => Promise<M>;
  /** True once the consumer has handled the marker, so it has passed everything before it too. */
  passed: (marker: M) => unknown;
  what: string;
  timeout?: number;
}

/**
 * Waits until a consumer has passed everything sent so far on one key: sends a marker behind it on
 * the same key and waits for the marker's effect. A partition is consumed in order, so once the
 * marker is handled, every earlier message was too: "nothing happened" can be asserted without a
 * fixed sleep.
 */
export async function barrier<M>(opts: BarrierOptions<M>): Promise<M> {
  const marker = await opts.mark();
  await waitUntil(async () => Boolean(await opts.passed(marker)), {
    what: `the barrier: ${opts.what}`,
    timeout: opts.timeout ?? 30_000,
  });
  return marker;
}

/**
 * Lets wall-clock time pass on purpose: an SLA running out, a token expiring, a timer that must
 * fire. The only sanctioned fixed wait in tests; `why` says what the time is for, so a reader can
 * tell it from a sleep that hides a race (those wait on the effect or a barrier instead).
 */
export async function elapse(ms: number, why: string): Promise<void> {
  if (!why.trim()) throw new Error('elapse: say why the wall clock must move');
  await delay(ms);
}
