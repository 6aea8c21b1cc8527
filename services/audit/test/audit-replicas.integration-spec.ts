import { Client } from 'pg';
import { Topics } from '@countersign/contracts';
import { mintToken, waitUntil } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import { closePublisher, publishRaw } from '../../../test/support/kafka-probe';
import {
  dropDatabase,
  createTestStack,
  startService,
  type ServiceHandle,
  type TestKeys,
} from '../../../test/support/stack';

/** Two replicas in one consumer group append to one chain: the chain head lock keeps it gap-free and linked. */
describe('audit: several replicas append to one chain', () => {
  const replicas: ServiceHandle[] = [];
  let keys: TestKeys;
  let db: string;
  let pg: Client;

  beforeAll(async () => {
    ({ databaseUrl: db, keys } = await createTestStack(`audit_replicas_${process.pid}`));
    const first = await startService('audit', { databaseUrl: db, keys });
    replicas.push(first);
    replicas.push(await startService('audit', { databaseUrl: db, keys, groupId: first.groupId, positionAtEnd: false }));
    pg = new Client({ connectionString: db });
    pg.on('error', () => undefined);
    await pg.connect();
  }, 180000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await closePublisher();
    await pg?.end();
    await dropDatabase(db);
  });

  it('records every event once, in one verified chain, with both replicas appending', async () => {
    const events = Array.from({ length: 300 }, () => proposal());
    const send = (e: (typeof events)[number]) => publishRaw(Topics.JobProposed, e.data.job_id, JSON.stringify(e));
    await send(events[0]!); // connects the shared publisher before the concurrent sends
    await Promise.all(events.slice(1).map(send));
    const ids = events.map((e) => e.event_id);
    await waitUntil(
      async () => {
        const r = await pg.query(`SELECT count(*)::int AS n FROM audit.audit_records WHERE source_event_id = ANY($1)`, [
          ids,
        ]);
        return (r.rows[0] as { n: number }).n === events.length;
      },
      { what: `all ${events.length} recorded`, timeout: 90_000, every: 200 },
    );
    const appendedBy = replicas.map(
      (s) => s.lines.filter((l) => l['msg'] === 'event recorded' && ids.includes(l['event_id'] as string)).length,
    );
    expect(appendedBy.every((n) => n > 0)).toBe(true);

    const res = await fetch(`${replicas[1]!.url}/api/v1/audit/verify`, {
      headers: { authorization: `Bearer ${mintToken(keys.jwtSecret, { sub: 'carol', roles: ['auditor'] })}` },
    });
    const verdict = (await res.json()) as { ok: boolean; checked: number; last_seq: number };
    expect(verdict.ok).toBe(true);
    // One statement, one snapshot: appends go on (the shared broker is busy) but the chain is whole at every instant.
    const chain = (
      await pg.query(
        `SELECT (SELECT seq::int FROM audit.chain_head) AS head, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi FROM audit.audit_records`,
      )
    ).rows[0] as { head: number; n: number; lo: number; hi: number };
    expect(chain).toEqual({ head: chain.n, n: chain.n, lo: 1, hi: chain.n });
    expect(verdict.checked).toBeGreaterThanOrEqual(events.length);
  });
});
