import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@countersign/testkit';

/** What a service under test has sent to PostgreSQL so far (see pg-statement-counter.cjs). */
export interface StatementCounts {
  /** Statements, each one round trip. */
  total: number;
  /** Transactions the server ran: each BEGIN, and each statement sent outside one. */
  transactions: number;
  /** COMMIT statements. */
  commits: number;
  byVerb: Record<string, number>;
}

export interface PgStatementCounter {
  /** Environment for `startService`: preloads the counter into the service. */
  env: Record<string, string>;
  /** The totals the service last wrote (all zero before it first wrote). */
  read(): StatementCounts;
  /**
   * Barrier: resolves once the service has sent nothing to PostgreSQL for `quietMs` (the file is
   * rewritten every 20 ms while counts move), so counts read then hold all the work before it.
   */
  settled(quietMs?: number, timeoutMs?: number): Promise<StatementCounts>;
}

/** A statement counter for one service under test, written to a fresh temporary file. */
export function pgStatementCounter(): PgStatementCounter {
  const file = join(mkdtempSync(join(tmpdir(), 'pg-statements-')), 'counts.json');
  const read = (): StatementCounts =>
    existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as StatementCounts)
      : { total: 0, transactions: 0, commits: 0, byVerb: {} };
  return {
    env: {
      NODE_OPTIONS: `--require ${join(__dirname, 'pg-statement-counter.cjs')}`,
      PG_STATEMENT_COUNT_FILE: file,
    },
    read,
    async settled(quietMs = 500, timeoutMs = 30_000) {
      let last = read();
      let since = Date.now();
      // Quiet means no statement for quietMs: the counter is polled, not slept on.
      return waitUntil(
        () => {
          const now = read();
          if (now.total !== last.total) [last, since] = [now, Date.now()];
          else if (Date.now() - since >= quietMs) return now;
          return undefined;
        },
        { what: `the service to send no statement for ${quietMs} ms`, timeout: timeoutMs, every: 25 },
      );
    },
  };
}
