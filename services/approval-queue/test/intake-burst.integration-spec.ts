import { randomUUID } from 'node:crypto';
import { Topics, type DecisionMadeV1, type JobProposedV1 } from '@countersign/contracts';
import { elapse, mintToken, waitUntil } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import { pgStatementCounter } from '../../../test/support/pg-statements';
import { kafka, type ServiceHandle, type TestKeys } from '../../../test/support/stack';
import {
  Api,
  createRunDatabase,
  dropDatabase,
  policyKey,
  signedDecision,
  sql,
  makeTestKeys,
  startQueue,
} from './approval-queue.fixtures';

const JOBS = 300;
const GATED_EVERY = 20;

/**
 * Issue 16: intake pays per batch, not per event. A burst of proposals and decisions produced at
 * once (mostly ALLOW, every 20th REQUIRE_APPROVAL) ends with exactly the gated jobs in the queue,
 * their payloads as proposed (redacted), no payload kept for the others, and far fewer
 * transactions and statements than events: the bounds below fail for a transaction per event.
 */
describe('approval-queue intake under a burst', () => {
  let svc: ServiceHandle;
  let keys: TestKeys;
  let db: string;
  let api: Api;
  const counter = pgStatementCounter();
  const run = randomUUID().slice(0, 8);
  const seer = () => mintToken(keys.jwtSecret, { sub: `seer-${run}`, roles: ['service-owner'] });

  const statements = counter.read;
  /** Transactions the service sent, counted in the process (pg_stat_database lags up to 10 s). */
  const commits = (): number => statements().transactions;
  const settled = () => counter.settled();

  beforeAll(async () => {
    db = await createRunDatabase('approval_queue_burst');
    keys = makeTestKeys();
    svc = await startQueue(keys, db, {
      // Nothing but intake touches the database during the burst.
      SWEEP_INTERVAL_MS: '60000',
      OUTBOX_POLL_MS: '60000',
      ...counter.env,
    });
    api = new Api(svc.url);
  }, 120000);

  afterAll(async () => {
    await svc?.stop();
    await dropDatabase(db);
  });

  it('queues exactly the gated jobs, with their payloads, in far fewer transactions than events', async () => {
    const jobs: { p: JobProposedV1; d: DecisionMadeV1; gated: boolean }[] = [];
    for (let i = 0; i < JOBS; i++) {
      const gated = i % GATED_EVERY === 0;
      const p = proposal({
        job_id: `job-${run}-${String(i).padStart(4, '0')}`,
        payload: { key: `feature.${i}`, value: i, credentials: { password: `pw-${i}`, user: 'svc' } },
      });
      const d = signedDecision(
        policyKey(keys),
        p,
        gated
          ? { policy_rule_id: `rule-${run}` }
          : { decision: i % 7 === 0 ? 'DENY' : 'ALLOW', approval: null, policy_rule_id: `allow-${run}` },
      );
      jobs.push({ p, d, gated });
    }
    await settled();
    const commitsBefore = commits();
    const statementsBefore = statements();

    // Raw bytes, all at once; half the decisions are produced ahead of their proposals.
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const message = (e: JobProposedV1 | DecisionMadeV1) => ({
      key: e.data.job_id,
      value: Buffer.from(JSON.stringify(e)),
    });
    await producer.sendBatch({
      topicMessages: [
        { topic: Topics.DecisionMade, messages: jobs.filter((_, i) => i % 2 === 0).map((j) => message(j.d)) },
        { topic: Topics.JobProposed, messages: jobs.map((j) => message(j.p)) },
        { topic: Topics.DecisionMade, messages: jobs.filter((_, i) => i % 2 === 1).map((j) => message(j.d)) },
      ],
    });
    await producer.disconnect();

    const gated = jobs.filter((j) => j.gated);
    await waitUntil(
      async () => {
        const [r] = await sql<{ decided: string; proposed: string }>(
          db,
          `SELECT count(*) FILTER (WHERE decision_event_id IS NOT NULL) AS decided,
                  count(*) FILTER (WHERE state = 'PENDING' AND proposal_event_id IS NOT NULL) AS proposed
             FROM approval_queue.approval_items WHERE job_id LIKE $1`,
          [`job-${run}-%`],
        );
        return Number(r!.decided) === JOBS && Number(r!.proposed) === gated.length;
      },
      { what: 'every decision and every gated proposal stored', timeout: 60000, every: 200 },
    );
    await settled();
    const transactions = commits() - commitsBefore;
    const used = statements();
    const total = used.total - statementsBefore.total;
    const events = 2 * JOBS;
    const byVerb = Object.fromEntries(
      Object.entries(used.byVerb)
        .map(([verb, n]) => [verb, n - (statementsBefore.byVerb[verb] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
    process.stdout.write(
      `intake burst: ${events} events, ${transactions} transactions, ${total} statements ` +
        `(${(total / JOBS).toFixed(2)} per proposal) ${JSON.stringify(byVerb)}\n`,
    );

    const listed = await api.list(seer(), { rule_id: `rule-${run}`, limit: 200 });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((i) => i.job.id).sort()).toEqual(gated.map((j) => j.p.data.job_id).sort());
    for (const item of listed.body.items) {
      const { p } = gated.find((j) => j.p.data.job_id === item.job.id)!;
      expect(item).toMatchObject({
        job: { state: 'PENDING' },
        proposal_received: true,
        requested_by: p.data.requested_by,
        payload: { ...p.data.payload, credentials: { password: '[REDACTED]', user: 'svc' } },
        redacted_fields: ['credentials.password'],
      });
    }
    const kept = await sql(
      db,
      `SELECT job_id FROM approval_queue.approval_items WHERE job_id LIKE $1 AND state <> 'PENDING' AND payload IS NOT NULL`,
      [`job-${run}-%`],
    );
    expect(kept).toEqual([]);
    const allowed = jobs.find((j) => !j.gated)!;
    const decisions = await api.get(`/api/v1/jobs/${allowed.p.data.job_id}/decisions`, seer());
    expect(decisions).toMatchObject({
      status: 200,
      body: { state: 'NOT_REQUIRED', decision: { decision: allowed.d.data.decision } },
    });

    // A transaction per event would be 600 and ~5 statements per event 3,000.
    expect(transactions).toBeLessThanOrEqual(events / 4);
    expect(total).toBeLessThanOrEqual(events);
  }, 120000);
  it('pays well under one statement per proposal at a steady 500 proposals/s', async () => {
    const RATE = 500;
    const SECONDS = 4;
    const TICK_MS = 20;
    const perTick = (RATE * TICK_MS) / 1000;
    const ticks = (SECONDS * 1000) / TICK_MS;
    const jobs = Array.from({ length: perTick * ticks }, (_, i) => {
      const p = proposal({ job_id: `steady-${run}-${String(i).padStart(5, '0')}` });
      const gated = i % GATED_EVERY === 0;
      const d = signedDecision(
        policyKey(keys),
        p,
        gated ? { policy_rule_id: `steady-${run}` } : { decision: 'ALLOW', approval: null },
      );
      return { p, d };
    });
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const message = (e: JobProposedV1 | DecisionMadeV1) => ({
      key: e.data.job_id,
      value: Buffer.from(JSON.stringify(e)),
    });
    await settled();
    const before = statements().total;
    const commitsBefore = commits();
    const started = Date.now();
    // Each tick: this tick's proposals and the previous tick's decisions, as policy-decision would follow.
    for (let t = 0; t <= ticks; t++) {
      const now = jobs.slice(t * perTick, (t + 1) * perTick);
      const prev = t > 0 ? jobs.slice((t - 1) * perTick, t * perTick) : [];
      void producer.sendBatch({
        topicMessages: [
          { topic: Topics.JobProposed, messages: now.map((j) => message(j.p)) },
          { topic: Topics.DecisionMade, messages: prev.map((j) => message(j.d)) },
        ],
      });
      const wait = started + (t + 1) * TICK_MS - Date.now();
      if (wait > 0) await elapse(wait, 'a steady rate: each tick of messages leaves on its own 20 ms slot');
    }
    await waitUntil(
      async () => {
        const [r] = await sql<{ n: string }>(
          db,
          `SELECT count(*) AS n FROM approval_queue.approval_items WHERE job_id LIKE $1 AND decision_event_id IS NOT NULL`,
          [`steady-${run}-%`],
        );
        return Number(r!.n) === jobs.length;
      },
      { what: 'every steady decision stored', timeout: 60000, every: 200 },
    );
    await producer.disconnect();
    await settled();
    const total = statements().total - before;
    const transactions = commits() - commitsBefore;
    process.stdout.write(
      `intake steady ${RATE}/s for ${SECONDS} s: ${jobs.length} proposals, ${transactions} transactions, ` +
        `${total} statements (${(total / jobs.length).toFixed(2)} per proposal)\n`,
    );
    expect(total / jobs.length).toBeLessThanOrEqual(1);
  }, 180000);
});
