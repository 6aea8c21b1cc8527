/**
 * The waits of a test consumer that keeps what it reads: `waitFor` resolves once `find` returns at
 * least `count` hits (looked at at once and after every `seen()`), or fails after `timeoutMs` with
 * `failure()` as its message.
 */
export class MessageWaits {
  private readonly waiters = new Set<() => void>();

  /** Call after keeping each message, so every pending wait looks again. */
  seen(): void {
    for (const w of this.waiters) w();
  }

  waitFor<T>(find: () => T[], count: number, timeoutMs: number, failure: () => string): Promise<T[]> {
    return new Promise((res, rej) => {
      const check = () => {
        const hits = find();
        if (hits.length < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        res(hits);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        rej(new Error(failure()));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}
