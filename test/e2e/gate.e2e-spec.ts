import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Topics } from '@countersign/contracts';
import { bearer, mintToken, waitUntil } from '@countersign/testkit';
import { KafkaProbe, consumerPassed, publishRaw } from '../support/kafka-probe';
import { proposal } from '../support/fixtures';
import {
  createTestStack,
  makeTestKeys,
  stackConfig,
  outboxPublished,
  startServices,
  type ServiceHandle,
  type TestKeys,
} from '../support/stack';
import { stopSpecStack } from '../support/teardown';

interface Call {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * The whole gate on the real broker and Postgres: the four services as processes, an http
 * executor target, reviewers over REST with signed tokens, and the audit trail at the end.
 */
describe('the gate, end to end', () => {
  const services = new Map<string, ServiceHandle>();
  const probe = new KafkaProbe();
  const calls = new Map<string, Call[]>();
  const hmacSecret = 'e2e-executor-secret-0123456789abcdef';
  let server: Server;
  let keys: TestKeys;
  let db: string;

  const svc = (name: string) => services.get(name)!;
  const token = (sub: string, roles: string[], tenants?: string[]) =>
    mintToken(keys.jwtSecret, { sub, roles, tenants: tenants ?? ['*'] });
  const review = async (
    jobId: string,
    action: 'approve' | 'reject',
    sub: string,
    roles: string[],
    body: Record<string, string>,
  ) => {
    const res = await fetch(`${svc('approval-queue').url}/api/v1/approvals/${jobId}/${action}`, {
      method: 'POST',
      headers: { ...bearer(token(sub, roles)), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const pending = (jobId: string, sub: string, roles: string[]) =>
    waitUntil(
      async () => {
        const res = await fetch(`${svc('approval-queue').url}/api/v1/approvals?limit=200`, {
          headers: bearer(token(sub, roles)),
        });
        const page = (await res.json()) as { items: { job: { id: string } }[] };
        return page.items?.find((i) => i.job.id === jobId) as Record<string, unknown> | undefined;
      },
      { what: `${jobId} pending for ${sub}`, timeout: 30000, every: 250 },
    );
  const outcome = (jobId: string) =>
    Promise.race([
      probe.waitForJob(Topics.JobExecuted, jobId, 60000),
      probe.waitForJob(Topics.JobBlocked, jobId, 60000),
    ]);

  beforeAll(async () => {
    keys = makeTestKeys();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const jobId = String(req.headers['idempotency-key'] ?? '');
        calls.set(jobId, [...(calls.get(jobId) ?? []), { headers: req.headers, body }]);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ done: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;

    const config = stackConfig('gate', [
      'executors:',
      '  - name: target',
      '    kind: http',
      '    match: ["job.config.**", "job.payment.**", "job.*.read"]',
      `    url: http://127.0.0.1:${port}/execute`,
      '    secret_env: EXECUTOR_HTTP_SECRET',
      '    idempotent: false',
      '    timeout_sec: 10',
      '  - name: agent',
      '    kind: release',
      '    match: ["**"]',
      '    grant_ttl_sec: 300',
    ]);
    // A tenant rule that names workload identities by glob (docs/policy.md: `*` crosses `/`).
    mkdirSync(join(config.dir, 'policies', 'tenants'));
    writeFileSync(
      join(config.dir, 'policies', 'tenants', 'initech.yaml'),
      [
        'version: v1',
        'rules:',
        '  - id: staging-never-deploys',
        '    match:',
        "      agents: ['spiffe://acme.example/ns/staging/*']",
        "      topics: ['job.deploy.**']",
        '    decision: deny',
        "    reason: 'Staging workloads do not deploy'",
        '',
      ].join('\n'),
    );
    const stack = await createTestStack('gate', keys);
    db = stack.databaseUrl;
    await probe.start([
      Topics.DecisionMade,
      Topics.ApprovalResolved,
      Topics.JobReleased,
      Topics.JobExecuted,
      Topics.JobBlocked,
      Topics.AuditRecorded,
    ]);
    const env = {
      ...config.env,
      EXECUTOR_HTTP_SECRET: hmacSecret,
    };
    const started = await startServices(stack, env);
    for (const s of started) services.set(s.name, s);
  }, 240000);

  afterAll(async () => {
    await stopSpecStack(services.values(), probe, server);
  });

  it('runs a read at once, exactly once, signed and keyed by the job id', async () => {
    const event = proposal({ tenant: 'globex', topic: 'job.repo.read', risk_tags: [], payload: { repo: 'api' } });
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    const done = await outcome(event.data.job_id);
    expect(done.topic).toBe(Topics.JobExecuted);
    expect((done.json?.['data'] as { status: string }).status).toBe('SUCCEEDED');
    const got = calls.get(event.data.job_id) ?? [];
    expect(got).toHaveLength(1);
    // Signed over "<t>.<job_id>.<body>" (docs/execution-binding.md), so a captured call cannot be replayed later or for another job.
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(got[0]!.headers['countersign-signature']));
    expect(m).not.toBeNull();
    expect(Math.abs(Date.now() / 1000 - Number(m![1]))).toBeLessThan(300);
    expect(m![2]).toBe(
      createHmac('sha256', hmacSecret).update(`${m![1]}.${event.data.job_id}.${got[0]!.body}`).digest('hex'),
    );
  });

  it('holds a production change until a reviewer approves it, then executes the approved payload once', async () => {
    const event = proposal({
      tenant: 'globex',
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      payload: { flag: 'checkout-v2', on: true },
    });
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    const item = await pending(event.data.job_id, 'bob', ['service-owner']);
    expect(item['decision']).toBe('REQUIRE_APPROVAL');
    expect(item['policy_rule_id']).toBe('prod-write-gate');
    expect(calls.get(event.data.job_id)).toBeUndefined();

    const self = await review(event.data.job_id, 'approve', event.data.requested_by, ['service-owner'], {
      reason: 'mine',
    });
    expect(self.status).toBe(403);
    expect(self.body).toMatchObject({ error: { code: 'SELF_APPROVAL' } });

    const ok = await review(event.data.job_id, 'approve', 'bob', ['service-owner'], {
      reason: 'rollout plan reviewed',
    });
    expect(ok.status).toBe(200);
    const done = await outcome(event.data.job_id);
    expect(done.topic).toBe(Topics.JobExecuted);
    const got = calls.get(event.data.job_id) ?? [];
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ payload: { flag: 'checkout-v2', on: true } });

    const stateUrl = `${svc('execution-binding').url}/api/v1/jobs/${event.data.job_id}/state`;
    expect((await fetch(stateUrl)).status).toBe(401);
    const operator = token('olivia', ['operator']);
    const state = (await (await fetch(stateUrl, { headers: bearer(operator) })).json()) as Record<string, unknown>;
    expect(JSON.stringify(state)).toMatch(/executed/i);
  });

  it('needs two distinct finance approvers for a payment', async () => {
    const event = proposal({
      tenant: 'globex',
      topic: 'job.payment.transfer',
      risk_tags: ['payment'],
      payload: { amount: 1200, currency: 'EUR', to: 'DE02...' },
    });
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    await pending(event.data.job_id, 'carol', ['finance-approver']);
    expect(
      (await review(event.data.job_id, 'approve', 'carol', ['finance-approver'], { reason: 'invoice matches' })).status,
    ).toBe(200);
    const twice = await review(event.data.job_id, 'approve', 'carol', ['finance-approver'], { reason: 'again' });
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ error: { code: 'ALREADY_DECIDED_BY_ACTOR' } });
    // Barrier: the queue has sent all it staged for the job, and execution-binding has read all of it.
    await outboxPublished(db, 'approval_queue', [event.data.job_id]);
    await consumerPassed(svc('execution-binding').groupId, [Topics.ApprovalResolved]);
    expect(probe.forJob(Topics.ApprovalResolved, event.data.job_id)).toHaveLength(0);
    expect(calls.get(event.data.job_id)).toBeUndefined();
    expect(
      (await review(event.data.job_id, 'approve', 'dave', ['finance-approver'], { reason: 'second pair of eyes' }))
        .status,
    ).toBe(200);
    const done = await outcome(event.data.job_id);
    expect(done.topic).toBe(Topics.JobExecuted);
    expect(calls.get(event.data.job_id)).toHaveLength(1);
    const resolved = probe.forJob(Topics.ApprovalResolved, event.data.job_id);
    expect(resolved).toHaveLength(1);
    expect((resolved[0]!.json?.['data'] as { approvals: { actor: string }[] }).approvals.map((a) => a.actor)).toEqual([
      'carol',
      'dave',
    ]);
  });

  it('blocks a rejected payment with the reviewer reason and never calls the target', async () => {
    const event = proposal({
      tenant: 'globex',
      topic: 'job.payment.transfer',
      risk_tags: ['payment'],
      payload: { amount: 99000, currency: 'EUR' },
    });
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    await pending(event.data.job_id, 'carol', ['finance-approver']);
    const missingReason = await review(event.data.job_id, 'reject', 'carol', ['finance-approver'], {});
    expect(missingReason.status).toBe(400);
    expect(
      (
        await review(event.data.job_id, 'reject', 'carol', ['finance-approver'], {
          reason: 'amount exceeds the vendor limit',
        })
      ).status,
    ).toBe(200);
    const done = await outcome(event.data.job_id);
    expect(done.topic).toBe(Topics.JobBlocked);
    expect(done.json?.['data']).toMatchObject({
      reason_code: 'REJECTED',
      reason_text: expect.stringMatching(/vendor limit/),
    });
    expect(calls.get(event.data.job_id)).toBeUndefined();
  });

  it('takes workload identities as agent ids: matched by glob, released, executed and audited intact', async () => {
    const prod = 'spiffe://acme.example/ns/prod/sa/deploy-bot';
    const event = proposal({
      tenant: 'initech',
      agent_id: prod,
      topic: 'job.deploy.rollout',
      risk_tags: ['prod', 'write'],
      payload: { service: 'api', version: '2.1.0' },
    });
    const raw = JSON.stringify(event);
    expect(raw).toContain(`"agent_id":"${prod}"`);
    await publishRaw(Topics.JobProposed, event.data.job_id, raw);
    const item = await pending(event.data.job_id, 'bob', ['service-owner']);
    expect(item).toMatchObject({ decision: 'REQUIRE_APPROVAL', policy_rule_id: 'prod-write-gate', agent_id: prod });
    expect((await review(event.data.job_id, 'approve', 'bob', ['service-owner'], { reason: 'ok' })).status).toBe(200);
    const released = await probe.waitForJob(Topics.JobReleased, event.data.job_id, 60000);
    expect(released.json?.['data']).toMatchObject({ job_id: event.data.job_id, tenant: 'initech', agent_id: prod });

    const auditor = bearer(token('erin', ['auditor']));
    const proposed = await waitUntil(
      async () => {
        const t = (await (
          await fetch(`${svc('audit').url}/api/v1/jobs/${event.data.job_id}/timeline`, { headers: auditor })
        ).json()) as { outcome?: string; steps?: { kind: string; agent_id?: unknown }[] };
        return t.outcome === 'released' && t.steps?.find((s) => s.kind === 'proposed');
      },
      { what: `the audit timeline of ${event.data.job_id} released`, timeout: 30000, every: 300 },
    );
    expect(proposed.agent_id).toBe(prod);

    const staging = proposal({
      tenant: 'initech',
      agent_id: 'spiffe://acme.example/ns/staging/sa/deploy-bot',
      topic: 'job.deploy.rollout',
      risk_tags: ['prod', 'write'],
      payload: { service: 'api' },
    });
    await publishRaw(Topics.JobProposed, staging.data.job_id, JSON.stringify(staging));
    const denied = await outcome(staging.data.job_id);
    expect(denied.topic).toBe(Topics.JobBlocked);
    expect(denied.json?.['data']).toMatchObject({
      reason_code: 'DENIED',
      reason_text: expect.stringContaining('Staging workloads do not deploy'),
    });

    const principal = 'User:CN=bot,OU=fleet';
    const read = proposal({
      tenant: 'initech',
      agent_id: principal,
      topic: 'job.repo.read',
      risk_tags: [],
      payload: {},
    });
    await publishRaw(Topics.JobProposed, read.data.job_id, JSON.stringify(read));
    expect((await outcome(read.data.job_id)).topic).toBe(Topics.JobExecuted);
    expect(JSON.parse(calls.get(read.data.job_id)![0]!.body)).toMatchObject({ agent_id: principal });
  });

  it('keeps the whole story in a verifiable audit trail linked to the policy text', async () => {
    const event = proposal({
      tenant: 'globex',
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      payload: { flag: 'audit-me' },
    });
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    await pending(event.data.job_id, 'bob', ['service-owner']);
    await review(event.data.job_id, 'approve', 'bob', ['service-owner'], { reason: 'fine' });
    await probe.waitForJob(Topics.JobExecuted, event.data.job_id, 60000);
    const auditor = bearer(token('erin', ['auditor']));
    type Timeline = { entries?: { event_type?: string; type?: string }[] } & Record<string, unknown>;
    const timeline = await waitUntil(
      async () => {
        const t = (await (
          await fetch(`${svc('audit').url}/api/v1/jobs/${event.data.job_id}/timeline`, { headers: auditor })
        ).json()) as Timeline;
        return t['outcome'] === 'executed' && t;
      },
      { what: `the audit timeline of ${event.data.job_id} executed`, timeout: 30000, every: 300 },
    );
    const steps = (timeline['steps'] ?? []) as { kind: string; seq: number; policy_url?: string; actor?: string }[];
    expect(steps.map((s) => s.kind).sort()).toEqual(['decided', 'executed', 'proposed', 'resolved']);
    expect(timeline['outcome']).toBe('executed');
    const resolved = steps.find((s) => s.kind === 'resolved') as unknown as {
      approvals: { actor: string; reason: string }[];
    };
    expect(resolved.approvals).toEqual([expect.objectContaining({ actor: 'bob', reason: 'fine' })]);
    const decision = probe.forJob(Topics.DecisionMade, event.data.job_id)[0]!.json?.['data'] as {
      policy_snapshot: string;
    };
    expect(timeline['policy_snapshot']).toBe(decision.policy_snapshot);
    const policy = await fetch(`${svc('audit').url}${String(timeline['policy_url'])}`, { headers: auditor });
    expect(policy.status).toBe(200);
    expect(JSON.stringify(await policy.json())).toContain('prod-write-gate');
    const verify = (await (await fetch(`${svc('audit').url}/api/v1/audit/verify`, { headers: auditor })).json()) as {
      ok: boolean;
    };
    expect(verify.ok).toBe(true);
  });
});
