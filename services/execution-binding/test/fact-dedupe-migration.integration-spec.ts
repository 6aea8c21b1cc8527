import { claimEvent, markProcessed } from '@countersign/bus';
import { waitUntil } from '@countersign/testkit';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../../../test/support/stack';
import { BusTables1732406400000 } from '../migrations/1732406400000-bus-tables';
import { BindingTables1764000000000 } from '../migrations/1764000000000-binding-tables';
import { FactDedupePerTopic1765000000000 } from '../migrations/1765000000000-fact-dedupe-per-topic';

const S = 'execution_binding';
const CONSUMER = 'execution-binding';

/**
 * The per-(topic, event_id) dedupe migration on the real PostgreSQL, over rows written before it:
 * old facts stay redeliveries, markProcessed keeps working, and claimEvent tells a new event, a
 * redelivery and a conflicting body apart in one statement.
 */
describe('fact dedupe per (topic, event_id): migration and claimEvent', () => {
  let ds: DataSource;

  beforeAll(async () => {
    const url = await createTestDatabase('eb_fact_dedupe_migration');
    ds = new DataSource({
      type: 'postgres',
      url,
      schema: S,
      migrations: [BusTables1732406400000, BindingTables1764000000000],
      migrationsTableName: 'migrations',
      synchronize: false,
    });
    await ds.initialize();
    await ds.query(`CREATE SCHEMA IF NOT EXISTS "${S}"`);
    await ds.runMigrations({ transaction: 'all' });
    // Rows as the service wrote them before the upgrade: one id per fact, no topic, no digest.
    await ds.query(
      `INSERT INTO "${S}".jobs (job_id, state, first_seen_at, updated_at, proposal_event_id, resolution_event_id)
       VALUES ('old-job', 'awaiting_approval', now(), now(), 'old-proposal', 'old-resolution')`,
    );
    await ds.transaction(async (m) => {
      for (const id of ['old-proposal', 'old-resolution', 'old-late-duplicate'])
        expect(await markProcessed(m, S, CONSUMER, id)).toBe(true);
    });
    await ds.destroy();
    ds = new DataSource({
      type: 'postgres',
      url,
      schema: S,
      migrations: [BusTables1732406400000, BindingTables1764000000000, FactDedupePerTopic1765000000000],
      migrationsTableName: 'migrations',
      synchronize: false,
    });
    await ds.initialize();
    expect((await ds.runMigrations({ transaction: 'all' })).map((m) => m.name)).toEqual([
      'FactDedupePerTopic1765000000000',
    ]);
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  /** The barrier: another session is waiting for a row lock (the second claim on the first's row). */
  async function waitUntilBlockedOnALock(): Promise<void> {
    await waitUntil(
      async () => {
        const [row] = (await ds.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )) as { n: number }[];
        return row!.n > 0;
      },
      { what: 'the second claim waiting for the first', timeout: 10_000, every: 20 },
    );
  }

  const claim = (topic: string, id: string, digest: string) =>
    ds.transaction((m) => claimEvent(m, S, CONSUMER, topic, id, digest));

  it('keeps a fact processed before the upgrade a redelivery under the topic the job stored it for', async () => {
    expect(await claim('job.proposed', 'old-proposal', 'd1')).toEqual({ status: 'redelivery' });
    expect(await claim('approval.resolved', 'old-resolution', 'd2')).toEqual({ status: 'redelivery' });
    // The same id on another topic is another event.
    expect(await claim('decision.made', 'old-resolution', 'd3')).toEqual({ status: 'new' });
  });

  it('tells a new event, a redelivery of its body and another body under its id apart', async () => {
    expect(await claim('approval.resolved', 'e-1', 'a'.repeat(64))).toEqual({ status: 'new' });
    expect(await claim('approval.resolved', 'e-1', 'a'.repeat(64))).toEqual({ status: 'redelivery' });
    expect(await claim('approval.resolved', 'e-1', 'b'.repeat(64))).toEqual({
      status: 'conflict',
      knownDigest: 'a'.repeat(64),
    });
    expect(await claim('job.proposed', 'e-1', 'b'.repeat(64))).toEqual({ status: 'new' });
  });

  it('rolls a claim back with its transaction: a failed attempt does not consume the id', async () => {
    await expect(
      ds.transaction(async (m) => {
        expect(await claimEvent(m, S, CONSUMER, 'decision.made', 'e-rolled-back', 'c')).toEqual({ status: 'new' });
        throw new Error('the action failed');
      }),
    ).rejects.toThrow('the action failed');
    expect(await claim('decision.made', 'e-rolled-back', 'c')).toEqual({ status: 'new' });
  });

  it('sees a claim committed by a concurrent transaction while it waited for it', async () => {
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      expect(await claimEvent(runner.manager, S, CONSUMER, 'decision.made', 'e-race', 'first')).toEqual({
        status: 'new',
      });
      // The second claim blocks on the first's row until it commits, then sees its body.
      const second = claim('decision.made', 'e-race', 'second');
      await waitUntilBlockedOnALock();
      await runner.commitTransaction();
      expect(await second).toEqual({ status: 'conflict', knownDigest: 'first' });
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('still serves markProcessed (other services, old callers) on the upgraded table', async () => {
    await ds.transaction(async (m) => {
      expect(await markProcessed(m, S, CONSUMER, 'plain-1')).toBe(true);
      expect(await markProcessed(m, S, CONSUMER, 'plain-1')).toBe(false);
    });
  });

  it('reverts: down keeps one row per (consumer, event_id) and markProcessed works as before', async () => {
    await ds.undoLastMigration({ transaction: 'all' });
    const cols = (await ds.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'processed_events'`,
      [S],
    )) as { column_name: string }[];
    expect(cols.map((c) => c.column_name).sort()).toEqual(['consumer', 'event_id', 'processed_at']);
    await ds.transaction(async (m) => {
      expect(await markProcessed(m, S, CONSUMER, 'e-1')).toBe(false);
      expect(await markProcessed(m, S, CONSUMER, 'plain-2')).toBe(true);
    });
  });
});
