import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Topics } from '@countersign/contracts';
import { mintToken, waitUntil } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import { KafkaProbe, closePublisher } from '../../../test/support/kafka-probe';
import { outboxPublished, type ServiceHandle, type TestKeys } from '../../../test/support/stack';
import {
  Api,
  createRunDatabase,
  dropDatabase,
  expectedEventId,
  policyKey,
  publishDecision,
  publishProposal,
  requirement,
  signedDecision,
  sql,
  makeTestKeys,
  startQueue,
} from './approval-queue.fixtures';

/**
 * Crashes, restarts and replicas: pending state and deadlines live in Postgres, an approval
 * committed before a crash still leaves as exactly one `approval.resolved`, and two sweepers on one
 * database never resolve an item twice.
 */
describe('approval-queue across restarts and replicas', () => {
  let keys: TestKeys;
  let db: string;
  const started: ServiceHandle[] = [];
  const probe = new KafkaProbe();
  const run = randomUUID().slice(0, 8);

  const start = async () => {
    const s = await startQueue(keys, db, { SWEEP_INTERVAL_MS: '200' });
    started.push(s);
    return s;
  };
  const token = (sub: string) => mintToken(keys.jwtSecret, { sub, roles: ['service-owner'] });

  /** Barrier: the jobs' outbox rows are all published and the probe has read everything sent. */
  async function published(...ids: string[]) {
    await outboxPublished(db, 'approval_queue', ids);
    await probe.caughtUp([Topics.ApprovalResolved]);
  }

  async function openItem(svc: ServiceHandle, approvalsRequired: number, slaSeconds: number) {
    const p = proposal({ job_id: `job-${run}-${randomUUID().slice(0, 8)}` });
    await publishProposal(p);
    await publishDecision(
      signedDecision(policyKey(keys), p, {
        policy_rule_id: `rule-${run}`,
        approval: requirement({ approvals_required: approvalsRequired, sla_seconds: slaSeconds }),
      }),
    );
    const api = new Api(svc.url);
    await waitUntil(
      async () => {
        const r = await api.list(token('seer'), { rule_id: `rule-${run}` });
        return r.body.items?.some((i) => i.job.id === p.data.job_id && i.proposal_received);
      },
      { what: 'item with its proposal' },
    );
    return p.data.job_id;
  }

  beforeAll(async () => {
    db = await createRunDatabase('approval_queue_restart');
    keys = makeTestKeys();
    await probe.start([Topics.ApprovalResolved]);
  }, 60000);

  afterAll(async () => {
    await Promise.all(started.map((s) => s.kill()));
    await probe.stop();
    await closePublisher();
    await dropDatabase(db);
  });

  it('keeps a pending item across a restart and still expires it, once', async () => {
    const first = await start();
    const id = await openItem(first, 2, 25);
    expect((await new Api(first.url).approve(id, token(`bob-${run}`))).status).toBe(200);
    await first.stop();

    const second = await start();
    const list = await new Api(second.url).list(token('seer'), { rule_id: `rule-${run}` });
    expect(list.body.items.find((i) => i.job.id === id)).toMatchObject({
      job: { state: 'PENDING' },
      approvals: [{ actor: `bob-${run}` }],
    });

    const ev = await probe.waitForJob(Topics.ApprovalResolved, id, 40000);
    expect(ev.json?.['data']).toMatchObject({
      resolution: 'EXPIRED',
      resolved_by: 'system:sla',
      approvals: [{ actor: `bob-${run}` }],
    });
    await published(id);
    expect(probe.forJob(Topics.ApprovalResolved, id)).toHaveLength(1);
    await second.stop();
  });

  it('delivers an approval committed just before a SIGKILL, exactly once, after the restart', async () => {
    const svc = await start();
    const id = await openItem(svc, 1, 3600);
    // Hold the outbox relay's lock so the crash lands after the commit but before the publish.
    const blocker = new Client({ connectionString: db });
    await blocker.connect();
    await blocker.query(`SELECT pg_advisory_lock(hashtext('countersign:outbox:approval_queue'))`);
    try {
      const ok = await new Api(svc.url).approve(id, token(`bob-${run}`));
      expect(ok).toMatchObject({ status: 200, body: { resolution: 'APPROVED' } });
      await svc.kill();
      const rows = await sql(db, `SELECT published_at FROM approval_queue.outbox WHERE key = $1`, [id]);
      expect(rows).toEqual([{ published_at: null }]);
      expect(probe.forJob(Topics.ApprovalResolved, id)).toHaveLength(0);
    } finally {
      await blocker.end();
    }

    await start();
    const ev = await probe.waitForJob(Topics.ApprovalResolved, id, 20000);
    expect(ev.json?.['event_id']).toBe(expectedEventId(Topics.ApprovalResolved, id));
    expect(ev.json?.['data']).toMatchObject({ resolution: 'APPROVED', resolved_by: `bob-${run}` });
    await published(id);
    expect(probe.forJob(Topics.ApprovalResolved, id)).toHaveLength(1);
    const rows = await sql(db, `SELECT published_at FROM approval_queue.outbox WHERE key = $1`, [id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.['published_at']).not.toBeNull();
  });

  it('delivers an approval when the process is killed right after answering 200', async () => {
    const svc = await start();
    const id = await openItem(svc, 1, 3600);
    expect((await new Api(svc.url).approve(id, token(`bob-${run}`))).status).toBe(200);
    await svc.kill();
    await start();
    await probe.waitForJob(Topics.ApprovalResolved, id, 20000);
    await published(id);
    // At-least-once on the wire: if the kill fell between the broker's ack and marking the row
    // published, the restarted relay sends it again with the same event id, which consumers dedupe.
    const copies = probe.forJob(Topics.ApprovalResolved, id);
    expect(new Set(copies.map((c) => c.json?.['event_id']))).toEqual(
      new Set([expectedEventId(Topics.ApprovalResolved, id)]),
    );
    expect(copies.length).toBeLessThanOrEqual(2);
    expect(await sql(db, `SELECT count(*)::int AS n FROM approval_queue.outbox WHERE key = $1`, [id])).toEqual([
      { n: 1 },
    ]);
  });

  it('expires each item once when two replicas sweep the same database', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(started.filter((s) => s.process.exitCode === null).length).toBeGreaterThanOrEqual(2);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const p = proposal({ job_id: `job-${run}-rep-${i}` });
      await publishDecision(
        signedDecision(policyKey(keys), p, {
          policy_rule_id: `rule-${run}`,
          approval: requirement({ sla_seconds: 2 }),
        }),
      );
      ids.push(p.data.job_id);
    }
    await Promise.all(ids.map((id) => probe.waitForJob(Topics.ApprovalResolved, id, 30000)));
    await published(...ids);
    for (const id of ids) expect(probe.forJob(Topics.ApprovalResolved, id)).toHaveLength(1);
    // Every replica still running on this database (the two new ones and those restarted above) sweeps it.
    expect(a.process.exitCode).toBeNull();
    expect(b.process.exitCode).toBeNull();
    const rows = await sql<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM approval_queue.outbox WHERE key = ANY($1::text[])`,
      [ids],
    );
    expect(rows).toEqual([{ n: 20 }]);
    const states = await sql<{ state: string; n: number }>(
      db,
      `SELECT state, count(*)::int AS n FROM approval_queue.approval_items WHERE job_id = ANY($1::text[]) GROUP BY state`,
      [ids],
    );
    expect(states).toEqual([{ state: 'EXPIRED', n: 20 }]);
  });
});
