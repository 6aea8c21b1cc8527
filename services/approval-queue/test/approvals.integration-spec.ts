import { randomUUID } from 'node:crypto';
import { Topics, dlqTopic } from '@countersign/contracts';
import { generateSigningKeyPair, publicKeyFromPem, verifyEvent } from '@countersign/crypto';
import { elapse, mintToken, waitUntil } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import { KafkaProbe, closePublisher, consumerPassed } from '../../../test/support/kafka-probe';
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
  WebhookSink,
  type QueueItemJson,
  makeTestKeys,
  startQueue,
} from './approval-queue.fixtures';

/**
 * The approval queue as one real process on the real broker and Postgres: intake from both topics
 * in either order, the REST API with every error it answers, the resolution rules, the sweeper, and
 * the signed `approval.resolved` that leaves through the outbox.
 */
describe('approval-queue', () => {
  let svc: ServiceHandle;
  let keys: TestKeys;
  let db: string;
  let api: Api;
  const probe = new KafkaProbe();
  const webhook = new WebhookSink();
  const run = randomUUID().slice(0, 8);

  const token = (sub: string, roles: string[] = ['service-owner'], extra: Record<string, unknown> = {}) =>
    mintToken(keys.jwtSecret, { sub, roles, ...extra });
  const owner = () => token(`owner-${run}@acme.test`);
  /** Sees every item the specs make (all their roles, every tenant); never acts. */
  const seer = () => token(`seer-${run}`, ['service-owner', 'finance', 'approver']);

  /** A proposal and its decision, published in the given order, waited for until listable. */
  async function openItem(
    opts: {
      order?: 'proposal-first' | 'decision-first' | 'decision-only';
      data?: Parameters<typeof proposal>[0];
      decision?: Parameters<typeof signedDecision>[2];
    } = {},
  ) {
    const p = proposal({ job_id: `job-${run}-${randomUUID().slice(0, 8)}`, ...opts.data });
    const d = signedDecision(policyKey(keys), p, { policy_rule_id: `rule-${run}`, ...opts.decision });
    const order = opts.order ?? 'proposal-first';
    if (order === 'proposal-first') {
      await publishProposal(p);
      await svc.waitForLog((l) => l['msg'] === 'job.proposed stored' && l['job_id'] === p.data.job_id);
      await publishDecision(d);
    } else {
      await publishDecision(d);
      if (order === 'decision-first') {
        await waitForDecision(p.data.job_id);
        await publishProposal(p);
      }
    }
    const item = await waitForItem(p.data.job_id, order !== 'decision-only', d.data.policy_rule_id);
    return { p, d, item };
  }

  /** Barrier: every outbox row of the job is published (nothing more will be sent) and the probe has read it all. */
  async function allPublished(jobId: string) {
    await outboxPublished(db, 'approval_queue', [jobId]);
    await probe.caughtUp([Topics.ApprovalResolved, Topics.ApprovalEscalated]);
  }

  async function waitForDecision(jobId: string) {
    return waitUntil(
      async () => {
        const r = await api.get(`/api/v1/jobs/${jobId}/decisions`, owner());
        return r.status === 200 ? r.body : undefined;
      },
      { what: `decision of ${jobId}` },
    );
  }

  async function waitForItem(jobId: string, withProposal = true, rule = `rule-${run}`): Promise<QueueItemJson> {
    return waitUntil(
      async () => {
        const r = await api.list(seer(), { rule_id: rule, include_resolved: true, limit: 200 });
        const it = r.body.items?.find((i) => i.job.id === jobId);
        return it && (!withProposal || it.proposal_received) ? it : undefined;
      },
      { what: `item ${jobId}` },
    );
  }

  beforeAll(async () => {
    db = await createRunDatabase('approval_queue');
    keys = makeTestKeys();
    const hook = await webhook.start();
    await probe.start([
      Topics.ApprovalResolved,
      Topics.ApprovalEscalated,
      dlqTopic(Topics.DecisionMade),
      dlqTopic(Topics.JobProposed),
    ]);
    svc = await startQueue(keys, db, {
      SWEEP_INTERVAL_MS: '200',
      ESCALATION_WEBHOOK_URL: hook,
      ESCALATION_WEBHOOK_TIMEOUT_MS: '2000',
    });
    api = new Api(svc.url);
  }, 120000);

  afterAll(async () => {
    await svc?.stop();
    await probe.stop();
    await closePublisher();
    await webhook.stop();
    await dropDatabase(db);
  });

  describe('intake', () => {
    it('turns a proposal then its REQUIRE_APPROVAL decision into one pending item, payload redacted', async () => {
      const { p, d, item } = await openItem({
        data: {
          payload: { key: 'db.url', credentials: { Password: 'hunter2', user: 'svc' }, items: [{ api_key: 'k' }] },
          risk_tags: ['prod', 'write'],
        },
      });
      expect(item).toMatchObject({
        job: { id: p.data.job_id, state: 'PENDING' },
        tenant: 'acme',
        topic: p.data.topic,
        agent_id: p.data.agent_id,
        risk_tags: ['prod', 'write'],
        requested_by: p.data.requested_by,
        proposal_received: true,
        payload: {
          key: 'db.url',
          credentials: { Password: '[REDACTED]', user: 'svc' },
          items: [{ api_key: '[REDACTED]' }],
        },
        redacted_fields: ['credentials.Password', 'items[0].api_key'],
        decision: 'REQUIRE_APPROVAL',
        policy_snapshot: d.data.policy_snapshot,
        policy_rule_id: `rule-${run}`,
        policy_reason: d.data.policy_reason,
        job_hash: d.data.job_hash,
        approval_required: true,
        decision_summary: d.data.decision_summary,
        approvals: [],
        approvals_required: 1,
        approver_roles: ['service-owner'],
        resolution: null,
        resolved_by: null,
        history: [],
      });
      expect(Date.parse(item.due_at) - Date.parse(d.data.decided_at)).toBe(3600 * 1000);
      const stored = await sql(db, `SELECT payload::text AS p FROM approval_queue.approval_items WHERE job_id = $1`, [
        p.data.job_id,
      ]);
      expect(stored[0]?.['p']).not.toContain('hunter2');
    });

    it('takes the decision first and refuses approval (PROPOSAL_PENDING) until the proposal arrives', async () => {
      const { p, d } = await openItem({ order: 'decision-only' });
      const early = await waitForItem(p.data.job_id, false);
      expect(early).toMatchObject({ proposal_received: false, requested_by: null, payload: null, tenant: 'acme' });
      const refused = await api.approve(p.data.job_id, token(`bob-${run}`));
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'PROPOSAL_PENDING' } } });

      await publishProposal(p);
      const ready = await waitForItem(p.data.job_id, true);
      expect(ready).toMatchObject({ requested_by: p.data.requested_by, job_hash: d.data.job_hash });
      const ok = await api.approve(p.data.job_id, token(`bob-${run}`));
      expect(ok).toMatchObject({
        status: 200,
        body: { job: { state: 'APPROVED' }, resolution: 'APPROVED', resolved_by: `bob-${run}` },
      });
    });

    it('opens one item however often the decision is delivered, and keeps the first decision', async () => {
      const { p, d } = await openItem();
      await publishDecision(d);
      await publishDecision(
        signedDecision(policyKey(keys), p, {
          policy_rule_id: `rule-${run}`,
          approval: requirement({ sla_seconds: 5 }),
        }),
      );
      await publishProposal(p);
      await consumerPassed(svc.groupId, [Topics.DecisionMade, Topics.JobProposed]);
      const rows = await sql(
        db,
        `SELECT due_at, decision_event_id FROM approval_queue.approval_items WHERE job_id = $1`,
        [p.data.job_id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.['decision_event_id']).toBe(d.event_id);
      const r = await api.list(owner(), { rule_id: `rule-${run}`, limit: 200 });
      expect(r.body.items.filter((i) => i.job.id === p.data.job_id)).toHaveLength(1);
    });

    it('never lists a forged or unsigned decision: it goes to the DLQ', async () => {
      const forger = generateSigningKeyPair();
      const p = proposal({ job_id: `job-${run}-forged` });
      const q = proposal({ job_id: `job-${run}-unsigned` });
      await publishDecision(signedDecision(forger.privateKeyPem, p, { policy_rule_id: `rule-${run}` }));
      await publishDecision(signedDecision('', q, { policy_rule_id: `rule-${run}` }, { unsigned: true }));
      const dlq = await probe.waitFor(
        dlqTopic(Topics.DecisionMade),
        (m) =>
          (m.json?.['key'] === p.data.job_id || m.json?.['key'] === q.data.job_id) &&
          m.json?.['consumer'] === 'approval-queue',
        30000,
        2,
      );
      expect(dlq.map((m) => m.json?.['error']).join(' ')).toMatch(/signature refused/);
      await svc.waitForLog((l) => l['msg'] === 'decision.made refused: bad signature' && l['job_id'] === p.data.job_id);
      for (const job of [p.data.job_id, q.data.job_id]) {
        expect((await api.get(`/api/v1/jobs/${job}/decisions`, owner())).status).toBe(404);
        expect((await api.approve(job, token(`bob-${run}`))).status).toBe(404);
      }
    });

    it('refuses a proposal that does not match the decided job hash, and keeps waiting for the right one', async () => {
      const { p } = await openItem({ order: 'decision-only' });
      const tampered = {
        ...p,
        event_id: randomUUID(),
        data: { ...p.data, payload: { key: 'something-else' }, requested_by: 'mallory' },
      };
      await publishProposal(tampered);
      await probe.waitFor(
        dlqTopic(Topics.JobProposed),
        (m) => m.json?.['key'] === p.data.job_id && m.json?.['consumer'] === 'approval-queue',
      );
      expect((await api.approve(p.data.job_id, token(`bob-${run}`))).body).toMatchObject({
        error: { code: 'PROPOSAL_PENDING' },
      });
    });

    it('records decisions that need no approval for the decisions endpoint, but does not list them', async () => {
      const p = proposal({ job_id: `job-${run}-allow` });
      await publishProposal(p);
      await publishDecision(
        signedDecision(policyKey(keys), p, { decision: 'ALLOW', approval: null, policy_rule_id: `rule-${run}` }),
      );
      const decisions = await waitForDecision(p.data.job_id);
      expect(decisions).toMatchObject({
        state: 'NOT_REQUIRED',
        decision: { decision: 'ALLOW' },
        approvals: [],
        resolution: null,
      });
      const r = await api.list(owner(), { rule_id: `rule-${run}`, include_resolved: true, limit: 200 });
      expect(r.body.items.some((i) => i.job.id === p.data.job_id)).toBe(false);
      expect((await api.approve(p.data.job_id, token(`bob-${run}`))).status).toBe(404);
    });
  });

  describe('authentication and request validation', () => {
    it('answers 401 without a token, with a bad, foreign or expired token, or without roles', async () => {
      const foreign = mintToken('another-secret-that-is-long-enough-123456', { sub: 'x', roles: ['service-owner'] });
      const expired = mintToken(keys.jwtSecret, { sub: 'x', roles: ['service-owner'] }, { ttlSeconds: -60 });
      const roleless = mintToken(keys.jwtSecret, { sub: 'x' });
      for (const t of [null, 'garbage', foreign, expired, roleless]) {
        for (const r of [
          await api.list(t as string),
          await api.approve('job-x', t as string),
          await api.get('/api/v1/jobs/job-x/decisions', t),
        ]) {
          expect(r).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
        }
      }
      expect((await api.get('/api/v1/approvals/stats', null)).status).toBe(401);
    });

    it('has no GET /api/v1/approvals/{job_id}', async () => {
      const { p } = await openItem();
      const r = await api.get(`/api/v1/approvals/${p.data.job_id}`, owner());
      expect(r).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    });

    it('answers 404 NOT_FOUND for an unknown job', async () => {
      expect(await api.approve(`nope-${run}`, owner())).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND' } },
      });
      expect(await api.reject(`nope-${run}`, owner(), { reason: 'x' })).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND' } },
      });
      expect(await api.get(`/api/v1/jobs/nope-${run}/decisions`, owner())).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND' } },
      });
    });

    it('answers 400 INVALID_REQUEST naming the field', async () => {
      const { p } = await openItem();
      const id = p.data.job_id;
      const cases: [Promise<{ status: number; body: Record<string, unknown> }>, string][] = [
        [api.reject(id, owner()), 'reason'],
        [api.reject(id, owner(), { reason: '   ' }), 'reason'],
        [api.reject(id, owner(), { reason: 'x'.repeat(513) }), 'reason'],
        [api.approve(id, owner(), { reason: 'é'.repeat(257) }), 'reason'],
        [api.approve(id, owner(), { note: 'x'.repeat(513) }), 'note'],
        [api.approve(id, owner(), { actor: 'someone-else' }), 'actor'],
        [api.approve(id, owner(), { reason: 42 }), 'reason'],
        [api.list(owner(), { limit: 500 }) as never, 'limit'],
        [api.list(owner(), { limit: 0 }) as never, 'limit'],
        [api.list(owner(), { include_resolved: 'yes' }) as never, 'include_resolved'],
        [api.list(owner(), { cursor: 'not-a-cursor' }) as never, 'cursor'],
        [api.approve('bad id!', owner()), 'job_id'],
        [api.get('/api/v1/approvals/stats?window=forever', owner()), 'window'],
      ];
      for (const [req, field] of cases) {
        const r = await req;
        expect({ field, status: r.status, code: (r.body['error'] as { code?: string })?.code }).toEqual({
          field,
          status: 400,
          code: 'INVALID_REQUEST',
        });
        expect((r.body['error'] as { field?: string }).field).toBe(field);
      }
      // Nothing was recorded by the refused requests.
      expect((await waitForItem(id)).approvals).toEqual([]);
    });

    it('redacts secrets in reason and note before storing and emitting them', async () => {
      const { p } = await openItem();
      const jwt = mintToken('whatever-secret-whatever-secret-1234', { sub: 'x', roles: [] });
      const r = await api.reject(p.data.job_id, owner(), {
        reason: `token leaked: Bearer ${jwt}`,
        note: 'db password=hunter2 and AKIAIOSFODNN7EXAMPLE',
      });
      expect(r.status).toBe(200);
      expect(r.body['action']).toMatchObject({
        reason: 'token leaked: Bearer [REDACTED]',
        note: 'db password=[REDACTED] and [REDACTED]',
      });
      const ev = await probe.waitForJob(Topics.ApprovalResolved, p.data.job_id);
      expect(ev.value).not.toContain('hunter2');
      expect(ev.value).not.toContain(jwt);
      expect(ev.value).not.toContain('AKIAIOSFODNN7EXAMPLE');
    });
  });

  describe('who may act', () => {
    it('refuses a reviewer without an approver role (ROLE_NOT_ALLOWED)', async () => {
      const { p } = await openItem({ decision: { approval: requirement({ approver_roles: ['finance'] }) } });
      const r = await api.approve(p.data.job_id, token(`bob-${run}`, ['service-owner', 'sre']));
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'ROLE_NOT_ALLOWED' } } });
    });

    it('refuses a reviewer whose token does not cover the tenant (TENANT_NOT_ALLOWED)', async () => {
      const { p } = await openItem();
      const r = await api.approve(p.data.job_id, token(`bob-${run}`, ['service-owner'], { tenants: ['globex'] }));
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'TENANT_NOT_ALLOWED' } } });
      const d = await api.get(
        `/api/v1/jobs/${p.data.job_id}/decisions`,
        token(`bob-${run}`, ['service-owner'], { tenants: ['globex'] }),
      );
      expect(d).toMatchObject({ status: 403, body: { error: { code: 'TENANT_NOT_ALLOWED' } } });
    });

    it('refuses self-approval (SELF_APPROVAL), whatever the case of the id', async () => {
      const { p } = await openItem({ data: { requested_by: `alice-${run}@acme.test` } });
      const r = await api.approve(p.data.job_id, token(`Alice-${run}@ACME.test`));
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'SELF_APPROVAL' } } });
    });

    it('records the first of the actor roles that the item accepts, and the token subject as actor', async () => {
      const { p } = await openItem({
        decision: { approval: requirement({ approver_roles: ['finance', 'service-owner'] }) },
      });
      const r = await api.approve(p.data.job_id, token(`carol-${run}`, ['sre', 'service-owner', 'finance']));
      expect(r.status).toBe(200);
      expect(r.body['action']).toMatchObject({ actor: `carol-${run}`, role: 'service-owner', action: 'approve' });
    });

    it('routes the queue by role and tenant, and filters by tenant, topic, risk tag, role and rule', async () => {
      const rule = `rule-${run}`;
      const topic = `job.route.${run}`;
      const fin = await openItem({
        data: { tenant: 'acme', topic, risk_tags: ['money'] },
        decision: { approval: requirement({ approver_roles: ['finance'] }) },
      });
      const ops = await openItem({
        data: { tenant: 'globex', topic, risk_tags: ['prod'] },
        decision: { tenant: 'globex', approval: requirement({ approver_roles: ['service-owner'] }) },
      });
      const any = await openItem({
        data: { tenant: 'acme', topic, risk_tags: ['prod', 'money'] },
        decision: { approval: requirement({ approver_roles: [] }) },
      });
      const ids = async (t: string, q: Record<string, string> = {}) =>
        (await api.list(t, { rule_id: rule, topic, ...q })).body.items.map((i) => i.job.id).sort();
      const sorted = (...xs: { p: { data: { job_id: string } } }[]) => xs.map((x) => x.p.data.job_id).sort();

      // An item naming no role is for the default role `approver` only, never for any role.
      expect(await ids(token('f', ['finance']))).toEqual(sorted(fin));
      expect(await ids(token('o', ['service-owner']))).toEqual(sorted(ops));
      expect(await ids(token('a', ['approver']))).toEqual(sorted(any));
      expect(await ids(token('u', ['auditor']))).toEqual([]);
      expect(await ids(token('o', ['service-owner', 'approver'], { tenants: ['acme'] }))).toEqual(sorted(any));
      expect(await ids(token('x', ['finance', 'service-owner', 'approver'], { tenants: ['acme', 'globex'] }))).toEqual(
        sorted(fin, ops, any),
      );
      expect(await ids(token('n', []))).toEqual([]);
      // No tenants claim: no tenant.
      expect(await ids(token('t', ['finance', 'service-owner', 'approver'], { tenants: undefined }))).toEqual([]);
      const all = token('x', ['finance', 'service-owner', 'approver']);
      expect(await ids(all, { tenant: 'globex' })).toEqual(sorted(ops));
      expect(await ids(all, { risk_tag: 'money' })).toEqual(sorted(fin, any));
      expect(await ids(all, { role: 'finance' })).toEqual(sorted(fin));
      expect(await ids(all, { role: 'approver' })).toEqual(sorted(any));
      expect(await ids(all, { rule_id: `other-${run}` })).toEqual([]);
    });
  });

  describe('resolution', () => {
    it('approves after N approvals by N distinct actors, refusing a second approval by the same actor', async () => {
      const { p, d } = await openItem({ decision: { approval: requirement({ approvals_required: 2 }) } });
      const id = p.data.job_id;
      const first = await api.approve(id, token(`bob-${run}`), { reason: 'checked the diff', note: 'CHG-1' });
      expect(first).toMatchObject({
        status: 200,
        body: { job: { state: 'PENDING' }, resolution: null, approvals_required: 2 },
      });
      expect(await api.approve(id, token(`BOB-${run}`))).toMatchObject({
        status: 409,
        body: { error: { code: 'ALREADY_DECIDED_BY_ACTOR' } },
      });
      expect((await waitForItem(id)).approvals).toHaveLength(1);
      const second = await api.approve(id, token(`carol-${run}`), { reason: 'ok by me' });
      expect(second).toMatchObject({
        status: 200,
        body: { job: { state: 'APPROVED' }, resolution: 'APPROVED', resolved_by: `carol-${run}` },
      });

      const ev = await probe.waitForJob(Topics.ApprovalResolved, id);
      const event = ev.json as { event_id: string; producer: string; data: Record<string, unknown> };
      expect(event.event_id).toBe(expectedEventId(Topics.ApprovalResolved, id));
      expect(verifyEvent(event, [publicKeyFromPem(keys.pems['approval-queue'].publicKeyPem)])).toEqual({ ok: true });
      expect(event.data).toMatchObject({
        job_id: id,
        tenant: 'acme',
        resolution: 'APPROVED',
        job_hash: d.data.job_hash,
        policy_snapshot: d.data.policy_snapshot,
        resolved_by: `carol-${run}`,
        resolved_comment: 'ok by me',
        approvals: [
          {
            actor: `bob-${run}`,
            role: 'service-owner',
            action: 'approve',
            reason: 'checked the diff',
            note: 'CHG-1',
            at: expect.any(String),
          },
          {
            actor: `carol-${run}`,
            role: 'service-owner',
            action: 'approve',
            reason: 'ok by me',
            note: null,
            at: expect.any(String),
          },
        ],
      });
      expect(ev.key).toBe(id);

      const decisions = await api.get(`/api/v1/jobs/${id}/decisions`, owner());
      expect(decisions.body).toMatchObject({
        job_id: id,
        state: 'APPROVED',
        decision: { decision: 'REQUIRE_APPROVAL', job_hash: d.data.job_hash, approval: { approvals_required: 2 } },
        approvals: [{ actor: `bob-${run}` }, { actor: `carol-${run}` }],
        resolution: { resolution: 'APPROVED', resolved_by: `carol-${run}` },
      });
    });

    it('rejects on one rejection, and answers ALREADY_RESOLVED with the resolution afterwards', async () => {
      const { p } = await openItem({ decision: { approval: requirement({ approvals_required: 2 }) } });
      const id = p.data.job_id;
      expect((await api.approve(id, token(`bob-${run}`))).status).toBe(200);
      const rej = await api.reject(id, token(`dave-${run}`), { reason: 'Too risky on a Friday' });
      expect(rej).toMatchObject({
        status: 200,
        body: { resolution: 'REJECTED', resolved_by: `dave-${run}`, resolved_comment: 'Too risky on a Friday' },
      });
      const late = await api.approve(id, token(`erin-${run}`));
      expect(late).toMatchObject({
        status: 409,
        body: {
          error: {
            code: 'ALREADY_RESOLVED',
            resolution: {
              resolution: 'REJECTED',
              resolved_by: `dave-${run}`,
              resolved_comment: 'Too risky on a Friday',
            },
          },
        },
      });
      const ev = await probe.waitForJob(Topics.ApprovalResolved, id);
      expect((ev.json?.['data'] as { resolution: string }).resolution).toBe('REJECTED');
    });

    it('lets exactly two of ten racing approvals through on a two-approval item, with one approval.resolved', async () => {
      const { p } = await openItem({ decision: { approval: requirement({ approvals_required: 2 }) } });
      const id = p.data.job_id;
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api.approve(id, token(`racer-${i}-${run}`))),
      );
      const ok = replies.filter((r) => r.status === 200);
      expect(ok).toHaveLength(2);
      expect(replies.filter((r) => r.status === 409).map((r) => (r.body['error'] as { code: string }).code)).toEqual(
        Array(8).fill('ALREADY_RESOLVED'),
      );
      expect(ok.filter((r) => r.body['resolution'] === 'APPROVED')).toHaveLength(1);
      await probe.waitForJob(Topics.ApprovalResolved, id);
      await allPublished(id);
      const events = probe.forJob(Topics.ApprovalResolved, id);
      expect(events).toHaveLength(1);
      expect((events[0]?.json?.['data'] as { approvals: unknown[] }).approvals).toHaveLength(2);
      const outbox = await sql(db, `SELECT published_at FROM approval_queue.outbox WHERE topic = $1 AND key = $2`, [
        Topics.ApprovalResolved,
        id,
      ]);
      expect(outbox).toHaveLength(1);
      expect(outbox[0]?.['published_at']).not.toBeNull();
    });

    it('escalates once at escalate_after (event and webhook) and expires at the SLA, failing closed', async () => {
      const { p } = await openItem({
        decision: {
          approval: requirement({
            approvals_required: 2,
            sla_seconds: 3,
            escalate_after_seconds: 1,
            escalation_roles: ['oncall'],
          }),
        },
      });
      const id = p.data.job_id;
      expect((await api.approve(id, token(`bob-${run}`))).status).toBe(200);
      const esc = await probe.waitForJob(Topics.ApprovalEscalated, id, 10000);
      expect(esc.json?.['data']).toMatchObject({
        job_id: id,
        tenant: 'acme',
        escalation_roles: ['oncall'],
        approvals_so_far: 1,
        approvals_required: 2,
      });
      const expired = await probe.waitForJob(Topics.ApprovalResolved, id, 10000);
      expect(expired.json?.['data']).toMatchObject({
        resolution: 'EXPIRED',
        resolved_by: 'system:sla',
        approvals: [{ actor: `bob-${run}` }],
      });
      expect(await api.approve(id, token(`carol-${run}`))).toMatchObject({
        status: 409,
        body: { error: { code: 'ALREADY_RESOLVED', resolution: { resolution: 'EXPIRED', resolved_by: 'system:sla' } } },
      });
      await elapse(1000, 'five sweeps (one per 200 ms) pass the expired item: none may escalate or expire it again');
      await allPublished(id);
      expect(probe.forJob(Topics.ApprovalEscalated, id)).toHaveLength(1);
      expect(probe.forJob(Topics.ApprovalResolved, id)).toHaveLength(1);
      const hooks = webhook.received.filter((h) => JSON.stringify(h.body).includes(id));
      expect(hooks).toHaveLength(1);
      expect(hooks[0]?.body).toEqual({ text: expect.stringContaining('1 of 2 approvals') });
      expect((await api.list(owner(), { rule_id: `rule-${run}` })).body.items.some((i) => i.job.id === id)).toBe(false);
    });

    it('publishes each resolution exactly once through the outbox', async () => {
      const { p } = await openItem();
      expect((await api.approve(p.data.job_id, token(`bob-${run}`))).status).toBe(200);
      await probe.waitForJob(Topics.ApprovalResolved, p.data.job_id);
      await allPublished(p.data.job_id);
      const rows = await sql(db, `SELECT published_at FROM approval_queue.outbox WHERE key = $1`, [p.data.job_id]);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.['published_at']).not.toBeNull();
      expect(probe.forJob(Topics.ApprovalResolved, p.data.job_id)).toHaveLength(1);
    });
  });

  describe('queue views', () => {
    it('pages through the queue in due order with an opaque cursor', async () => {
      const topic = `job.page.${run}`;
      const made = [];
      for (const sla of [500, 100, 400, 200, 300])
        made.push(await openItem({ data: { topic }, decision: { approval: requirement({ sla_seconds: sla }) } }));
      const seen: QueueItemJson[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: Awaited<ReturnType<Api['list']>> = await api.list(owner(), {
          topic,
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(r.status).toBe(200);
        seen.push(...r.body.items);
        cursor = r.body.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen.map((i) => i.due_at)).toEqual([...seen.map((i) => i.due_at)].sort());
      expect(seen.map((i) => i.job.id).sort()).toEqual(made.map((m) => m.p.data.job_id).sort());
    });

    it('shows up to 5 earlier resolutions of the same topic for the same agent', async () => {
      const data = { agent_id: `agent-${run}`, topic: `job.hist.${run}` };
      const done = [];
      for (let i = 0; i < 6; i++) {
        const { p } = await openItem({ data });
        if (i % 2 === 0) expect((await api.approve(p.data.job_id, token(`bob-${run}`))).status).toBe(200);
        else expect((await api.reject(p.data.job_id, token(`dave-${run}`), { reason: `no ${i}` })).status).toBe(200);
        done.push(p.data.job_id);
        await elapse(5, 'the next resolution gets a later time, so the history has one order');
      }
      const { p } = await openItem({ data });
      const other = await openItem({ data: { ...data, agent_id: `other-${run}` } });
      const item = await waitForItem(p.data.job_id);
      expect(item.history).toHaveLength(5);
      expect(item.history.map((h) => h.job_id)).toEqual(done.slice(1).reverse());
      expect(item.history[0]).toMatchObject({
        resolution: 'REJECTED',
        actor: `dave-${run}`,
        reason: 'no 5',
        at: expect.any(String),
      });
      expect(item.history[1]).toMatchObject({ resolution: 'APPROVED', actor: `bob-${run}` });
      expect((await waitForItem(other.p.data.job_id)).history).toEqual([]);
    });

    it('reports time to decision, resolutions, rejection reasons and breaches per rule and tier', async () => {
      const rule = `stats-${run}`;
      const data = { risk_tags: ['stats', run.replace(/[^a-z0-9]/g, 'x')] };
      const a = await openItem({ data, decision: { policy_rule_id: rule } });
      const b = await openItem({ data, decision: { policy_rule_id: rule } });
      const c = await openItem({ data, decision: { policy_rule_id: rule } });
      const e = await openItem({ data, decision: { policy_rule_id: rule, approval: requirement({ sla_seconds: 1 }) } });
      await api.approve(a.p.data.job_id, token(`bob-${run}`));
      await api.reject(b.p.data.job_id, token(`bob-${run}`), { reason: 'Missing rollback plan' });
      await api.reject(c.p.data.job_id, token(`bob-${run}`), { reason: 'missing rollback plan ' });
      await probe.waitForJob(Topics.ApprovalResolved, e.p.data.job_id, 10000);

      const r = await api.get<Record<string, unknown>>('/api/v1/approvals/stats?window=1h', owner());
      expect(r.status).toBe(200);
      const byRule = (r.body['by_rule'] as { policy_rule_id: string }[]).find((g) => g.policy_rule_id === rule);
      expect(byRule).toMatchObject({
        resolutions: { APPROVED: 1, REJECTED: 2, EXPIRED: 1 },
        sla_breaches: 1,
        time_to_decision_seconds: { median: expect.any(Number), p90: expect.any(Number) },
      });
      const tier = [...data.risk_tags].sort().join('+');
      expect((r.body['by_tier'] as { tier: string }[]).find((g) => g.tier === tier)).toMatchObject({
        resolutions: { APPROVED: 1, REJECTED: 2, EXPIRED: 1 },
      });
      expect(r.body['top_rejection_reasons']).toEqual(
        expect.arrayContaining([{ reason: 'missing rollback plan', count: 2 }]),
      );
      expect(r.body['overall']).toMatchObject({
        resolutions: { APPROVED: expect.any(Number) },
        time_to_decision_seconds: { median: expect.any(Number) },
      });
      expect(r.body['pending']).toMatchObject({ count: expect.any(Number), overdue: expect.any(Number) });
    });

    it('serves the OpenAPI document', async () => {
      const doc = await api.get<{ paths: Record<string, unknown> }>('/api/docs/openapi.json');
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/approvals',
          '/api/v1/approvals/{job_id}/approve',
          '/api/v1/approvals/{job_id}/reject',
          '/api/v1/jobs/{job_id}/decisions',
          '/api/v1/approvals/stats',
        ]),
      );
      expect(doc.body.paths['/api/v1/approvals/{job_id}']).toBeUndefined();
    });
  });
});
