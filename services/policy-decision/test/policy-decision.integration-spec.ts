import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics } from '@countersign/contracts';
import { jobHash, publicKeyFromPem, verifyEvent } from '@countersign/crypto';
import { bearer, mintToken } from '@countersign/testkit';
import { KafkaProbe, closePublisher, publishRaw } from '../../../test/support/kafka-probe';
import { proposal } from '../../../test/support/fixtures';
import { ROOT, createTestStack, startService, type ServiceHandle, type TestKeys } from '../../../test/support/stack';

/**
 * Replaces a policy file as an editor or a deploy would (write beside it, then rename), so the
 * service's reload poll never reads it half-written.
 */
function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.next`, text);
  renameSync(`${path}.next`, path);
}

const decisionOf = (m: { json?: Record<string, unknown> }) => m.json?.['data'] as Record<string, unknown>;

describe('policy-decision service', () => {
  let svc: ServiceHandle;
  let keys: TestKeys;
  let policyDir: string;
  const operator = () => bearer(mintToken(keys.jwtSecret, { sub: 'olivia', roles: ['operator'] }));
  const probe = new KafkaProbe();

  beforeAll(async () => {
    const stack = await createTestStack('policy_decision');
    keys = stack.keys;
    policyDir = mkdtempSync(join(tmpdir(), 'cs-policy-'));
    cpSync(join(ROOT, 'policies', 'system.yaml'), join(policyDir, 'system.yaml'));
    cpSync(join(ROOT, 'policies', 'tenants'), join(policyDir, 'tenants'), { recursive: true });
    await probe.start([Topics.DecisionMade, Topics.PolicyActivated]);
    svc = await startService('policy-decision', { ...stack, env: { POLICY_DIR: policyDir, POLICY_RELOAD_MS: '200' } });
  });

  afterAll(async () => {
    await svc?.stop();
    await probe.stop();
    await closePublisher();
  });

  async function decisionFor(event: ReturnType<typeof proposal>) {
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    return probe.waitForJob(Topics.DecisionMade, event.data.job_id);
  }

  it('emits one signed decision.made whose fields match the CLI for the same job', async () => {
    const event = proposal({
      tenant: 'globex',
      topic: 'job.payment.transfer',
      risk_tags: ['payment'],
      payload: { amount: 1200, currency: 'EUR' },
    });
    const msg = await decisionFor(event);
    expect(msg.key).toBe(event.data.job_id);
    expect(verifyEvent(msg.json!, [publicKeyFromPem(keys.pems['policy-decision'].publicKeyPem)])).toEqual({ ok: true });

    const jobFile = join(policyDir, 'job.json');
    writeFileSync(jobFile, JSON.stringify(event.data));
    const cli = JSON.parse(
      execFileSync(
        process.execPath,
        [join(ROOT, 'libs/cli/dist/main.js'), 'policy', 'eval', '--policy-dir', policyDir, '--job', jobFile],
        { encoding: 'utf8' },
      ),
    ) as Record<string, unknown>;
    const data = decisionOf(msg);
    // Every field the CLI prints (its spec pins the list) but the approval, compared below.
    const fields = Object.keys(cli).filter((field) => field !== 'approval');
    expect(fields).toHaveLength(8);
    for (const field of fields) {
      expect({ field, value: data[field] }).toEqual({ field, value: cli[field] });
    }
    expect(data['decision']).toBe('REQUIRE_APPROVAL');
    expect((data['approval'] as { approvals_required: number }).approvals_required).toBe(
      (cli['approval'] as { approvals_required: number }).approvals_required,
    );
  });

  it('decides the same redelivered proposal into the same event', async () => {
    const event = proposal({ topic: 'job.repo.read', risk_tags: [] });
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event));
    const both = await probe.waitFor(
      Topics.DecisionMade,
      (m) => decisionOf(m)?.['job_id'] === event.data.job_id,
      30000,
      2,
    );
    expect(new Set(both.map((m) => m.json?.['event_id'])).size).toBe(1);
    expect(decisionOf(both[0]!)['decision']).toBe('ALLOW');
  });

  it('announces the active snapshots on policy.activated with their documents', async () => {
    const snapshots = (await (await fetch(`${svc.url}/api/v1/policy/snapshots`, { headers: operator() })).json()) as {
      snapshots: { scope: string; snapshot_id: string }[];
    };
    const system = snapshots.snapshots.find((s) => s.scope === 'system')!;
    const announced = await probe.waitFor(
      Topics.PolicyActivated,
      (m) => decisionOf(m)?.['snapshot_id'] === system.snapshot_id,
    );
    const doc = (await (
      await fetch(`${svc.url}/api/v1/policy/snapshots/${encodeURIComponent(system.snapshot_id)}`, {
        headers: operator(),
      })
    ).json()) as { document: unknown };
    expect(decisionOf(announced[0]!)['document']).toEqual(doc.document);
  });

  it('swaps in an edited policy for the next decision, and keeps it when a later edit is broken', async () => {
    const before = decisionOf(
      await decisionFor(proposal({ tenant: 'initech', topic: 'job.repo.read', risk_tags: [] })),
    );
    const systemFile = join(policyDir, 'system.yaml');
    const original = readFileSync(systemFile, 'utf8');
    const editedAt = new Date().toISOString();
    replaceFile(
      systemFile,
      `${original}\n# edited by the test\n  - id: test-added-deny\n    match:\n      topics: ["job.test.forbidden"]\n    decision: deny\n    reason: "added by the test"\n`,
    );
    const activated = await probe.waitFor(
      Topics.PolicyActivated,
      // This run's activation: the probe also reads earlier runs' activations of the same policy.
      (m) =>
        decisionOf(m)?.['previous_snapshot_id'] === before['policy_snapshot'] &&
        String(decisionOf(m)?.['activated_at']) >= editedAt,
    );
    const newSnapshot = decisionOf(activated[0]!)['snapshot_id'];
    const after = decisionOf(
      await decisionFor(proposal({ tenant: 'initech', topic: 'job.test.forbidden', risk_tags: [] })),
    );
    expect(after['policy_snapshot']).toBe(newSnapshot);
    expect(after['policy_snapshot']).not.toBe(before['policy_snapshot']);
    expect(after['decision']).toBe('DENY');

    replaceFile(systemFile, 'version: v1\nrules:\n  - id: broken\n    decision: maybe\n');
    await svc.waitForLog((l) => l['msg'] === 'policy change rejected; the previous snapshot stays active');
    const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as {
      checks: { policy: { detail: { last_reload_error?: { message: string } } } };
    };
    expect(ready.checks.policy.detail.last_reload_error?.message).toMatch(/broken/);
    const still = decisionOf(
      await decisionFor(proposal({ tenant: 'initech', topic: 'job.test.forbidden', risk_tags: [] })),
    );
    expect(still['policy_snapshot']).toBe(newSnapshot);
    expect(still['decision']).toBe('DENY');
  });

  it('answers a dry run without emitting anything, and a bad body with the field named', async () => {
    const job = proposal({ topic: 'job.deploy.rollout', risk_tags: ['prod', 'write'] }).data;
    const res = await fetch(`${svc.url}/api/v1/policy/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operator() },
      body: JSON.stringify(job),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      decision: 'REQUIRE_APPROVAL',
      policy_rule_id: expect.any(String),
      // The hash the proposal would get, requester included.
      job_hash: jobHash(job),
    });
    const { topic: _t, ...missing } = job;
    const bad = await fetch(`${svc.url}/api/v1/policy/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operator() },
      body: JSON.stringify(missing),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_REQUEST', field: 'topic' } });
    // An evaluation only answers: nothing is published (the probe has read all that was).
    await probe.caughtUp([Topics.DecisionMade]);
    expect(probe.forJob(Topics.DecisionMade, job.job_id)).toHaveLength(0);
  });
});
