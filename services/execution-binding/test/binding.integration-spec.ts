import { randomUUID } from 'node:crypto';
import { Topics, type JobProposedV1 } from '@countersign/contracts';
import { generateSigningKeyPair, jobHash, publicKeyFromPem, signerFromPem, verifyEvent } from '@countersign/crypto';
import { bearer, mintToken } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import type { ServiceHandle } from '../../../test/support/stack';
import {
  BindingRig,
  HOOK_SECRET,
  failOnForeignDecision,
  hookAndAgentExecutors,
  OTHER_SNAPSHOT,
  deliver,
  getState,
  publish,
  waitForState,
} from './binding-support';

const INCOMPLETE_AFTER_MS = 10_000;

/**
 * The binding checks against the real service on Kafka and Postgres: each block reason by a case
 * that would execute without its check, facts in every order, duplicates and redeliveries.
 * Jobs default to the `release` executor (a signed grant on job.released is the execution).
 */
describe('execution-binding: binding', () => {
  const rig = new BindingRig();
  const { keys, facts, probe, hook } = rig;
  let svc: ServiceHandle;

  beforeAll(async () => {
    await hook.start();
    svc = await rig.start('eb_binding', [Topics.JobReleased, Topics.JobBlocked, Topics.JobExecuted], {
      EXECUTORS_FILE: hookAndAgentExecutors(hook.port),
      TEST_HOOK_SECRET: HOOK_SECRET,
      INCOMPLETE_AFTER_MS: String(INCOMPLETE_AFTER_MS),
      SWEEP_INTERVAL_MS: '200',
    });
  }, 120_000);

  afterAll(() => rig.stop());

  const released = (jobId: string) => probe.forJob(Topics.JobReleased, jobId);
  const outcomeBlock = (jobId: string) => probe.outcomeBlock(jobId);

  /** `p` is blocked BAD_SIGNATURE naming `forged`, and its own proposal arriving afterwards releases nothing. */
  async function expectForgeryBlocks(p: JobProposedV1, forged: { event_id: string }): Promise<void> {
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'BAD_SIGNATURE',
      detail: expect.stringContaining(forged.event_id),
    });
    await publish(p);
    await rig.settled();
    expect(released(p.data.job_id)).toHaveLength(0);
  }

  it('releases an ALLOW job with a grant signed by execution-binding over its own hash of the proposal', async () => {
    const p = proposal();
    await deliver(svc.url, 'decision', facts.decision(p, { constraints: { max_runtime_sec: 30 } }));
    await publish(p);
    const grant = await probe.waitForJob(Topics.JobReleased, p.data.job_id);
    expect(grant['data']).toMatchObject({
      job_id: p.data.job_id,
      agent_id: p.data.agent_id,
      job_hash: jobHash(p.data),
      constraints: { max_runtime_sec: 30 },
    });
    const data = grant['data'] as { released_at: string; expires_at: string };
    expect(new Date(data.expires_at).getTime()).toBeGreaterThan(new Date(data.released_at).getTime());
    expect(verifyEvent(grant, [publicKeyFromPem(keys.pems['execution-binding'].publicKeyPem)])).toEqual({ ok: true });
    const state = await waitForState(svc.url, p.data.job_id, (s) => s.state === 'released');
    expect(state).toMatchObject({ job_hash: jobHash(p.data), execution: { kind: 'release', state: 'released' } });
  });

  it('binds a gated job whatever order its three facts arrive in (all 6 orders)', async () => {
    const orders = [
      ['proposal', 'decision', 'resolution'],
      ['proposal', 'resolution', 'decision'],
      ['decision', 'proposal', 'resolution'],
      ['decision', 'resolution', 'proposal'],
      ['resolution', 'proposal', 'decision'],
      ['resolution', 'decision', 'proposal'],
    ] as const;
    const jobs = await Promise.all(
      orders.map(async (order) => {
        const p = proposal();
        const events = {
          proposal: p,
          decision: facts.decision(p, { decision: 'REQUIRE_APPROVAL' }),
          resolution: facts.resolution(p),
        };
        const ours = Object.values(events).map((e) => e.event_id);
        for (const [i, kind] of order.entries()) {
          const state = await deliver(svc.url, kind, events[kind]);
          failOnForeignDecision(state, ours);
          if (i < 2) expect(state.state).toMatch(/pending|proposed|decided|awaiting_approval/);
        }
        failOnForeignDecision(
          await waitForState(svc.url, p.data.job_id, (s) => s.state === 'released' || s.state === 'blocked'),
          ours,
        );
        return p.data.job_id;
      }),
    );
    for (const jobId of jobs) await probe.waitForJob(Topics.JobReleased, jobId);
    await rig.settled();
    for (const jobId of jobs) {
      expect(released(jobId)).toHaveLength(1);
      expect(
        probe.forJob(Topics.JobBlocked, jobId).filter((b) => !(b['data'] as { report_only?: boolean }).report_only),
      ).toHaveLength(0);
    }
  });

  it('DENIED, with the policy reason', async () => {
    const p = proposal();
    await deliver(
      svc.url,
      'decision',
      facts.decision(p, { decision: 'DENY', policy_reason: 'no config writes on Fridays' }),
    );
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'DENIED',
      reason_text: 'no config writes on Fridays',
      job_hash: jobHash(p.data),
    });
    expect(released(p.data.job_id)).toHaveLength(0);
  });

  it('REJECTED, carrying the reviewer reason', async () => {
    const p = proposal();
    const at = new Date().toISOString();
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(
      svc.url,
      'resolution',
      facts.resolution(p, {
        resolution: 'REJECTED',
        approvals: [
          { actor: 'carol', role: 'owner', action: 'reject', reason: 'not during the freeze', note: null, at },
        ],
        resolved_by: 'carol',
      }),
    );
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'REJECTED',
      reason_text: 'not during the freeze',
    });
    const state = await waitForState(svc.url, p.data.job_id, (s) => s.state === 'blocked');
    expect(state.block).toMatchObject({ reason_code: 'REJECTED', reason_text: 'not during the freeze' });
  });

  it('EXPIRED', async () => {
    const p = proposal();
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(
      svc.url,
      'resolution',
      facts.resolution(p, { resolution: 'EXPIRED', approvals: [], resolved_by: 'approval-queue' }),
    );
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({ reason_code: 'EXPIRED' });
  });

  it('BAD_SIGNATURE: a forged approval.resolved signed with a random key, published straight to Kafka, blocks the real job', async () => {
    const p = proposal();
    const attacker = signerFromPem(generateSigningKeyPair().privateKeyPem);
    const forged = facts.resolution(p, {}, attacker);
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await publish(forged);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'BAD_SIGNATURE',
      detail: expect.stringContaining(`${forged.event_id} does not carry a valid signature: unknown signing key`),
    });
    // Neither the proposal nor the genuine approval arriving afterwards can revive the job.
    const genuine = facts.resolution(p);
    await publish(p);
    await publish(genuine);
    await probe.waitForJob(Topics.JobBlocked, p.data.job_id, (d) => String(d['detail']).includes(genuine.event_id));
    expect(released(p.data.job_id)).toHaveLength(0);
    expect((await getState(svc.url, p.data.job_id)).body.state).toBe('blocked');
  });

  it('BAD_SIGNATURE: a decision signed by the wrong service', async () => {
    const p = proposal();
    const wrong = facts.decision(p, {}, facts.approvalQueue);
    await publish(wrong);
    await expectForgeryBlocks(p, wrong);
  });

  it('HASH_MISMATCH: the decision was made for another payload', async () => {
    const p = proposal();
    const decidedFor = { ...p, data: { ...p.data, payload: { key: 'feature.x', value: false } } };
    await deliver(svc.url, 'decision', facts.decision(decidedFor));
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'HASH_MISMATCH',
      detail: expect.stringContaining('decision.made'),
    });
  });

  it('HASH_MISMATCH: a genuinely signed approval for another job hash', async () => {
    const p = proposal();
    const other = proposal();
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(svc.url, 'resolution', facts.resolution(p, { job_hash: jobHash(other.data) }));
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'HASH_MISMATCH',
      detail: expect.stringContaining('approval.resolved'),
    });
  });

  it('SNAPSHOT_MISMATCH: the approval names another policy snapshot than the gating decision', async () => {
    const p = proposal();
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(svc.url, 'resolution', facts.resolution(p, { policy_snapshot: OTHER_SNAPSHOT }));
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({ reason_code: 'SNAPSHOT_MISMATCH' });
  });

  it('UNEXPECTED_RESOLUTION: an approval for a job policy allowed outright', async () => {
    const p = proposal();
    await deliver(svc.url, 'resolution', facts.resolution(p));
    await deliver(svc.url, 'decision', facts.decision(p));
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({ reason_code: 'UNEXPECTED_RESOLUTION' });
    expect(released(p.data.job_id)).toHaveLength(0);
  });

  it('a payload changed after approval was requested is never executed: a second proposal before binding blocks DUPLICATE', async () => {
    const p = proposal();
    const changed = proposal({ ...p.data, payload: { key: 'feature.x', value: 'rm -rf' } });
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await publish(p);
    await publish(changed);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({
      reason_code: 'DUPLICATE',
      detail: expect.stringContaining(changed.event_id),
    });
    const approval = facts.resolution(p);
    await publish(approval);
    await probe.waitForJob(
      Topics.JobBlocked,
      p.data.job_id,
      (d) => d['report_only'] === true && String(d['detail']).includes(approval.event_id),
    );
    expect(released(p.data.job_id)).toHaveLength(0);
  });

  it('a payload changed after approval is never executed: when only the changed proposal is stored, HASH_MISMATCH', async () => {
    const approved = proposal();
    const changed = proposal({ ...approved.data, payload: { key: 'feature.x', value: 'other' } });
    await deliver(svc.url, 'decision', facts.decision(approved, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(svc.url, 'resolution', facts.resolution(approved));
    await publish(changed);
    expect(await outcomeBlock(approved.data.job_id)).toMatchObject({ reason_code: 'HASH_MISMATCH' });
    expect(released(approved.data.job_id)).toHaveLength(0);
  });

  it('DUPLICATE after binding is reported, and the original outcome stands', async () => {
    const p = proposal();
    await deliver(svc.url, 'decision', facts.decision(p));
    await publish(p);
    await probe.waitForJob(Topics.JobReleased, p.data.job_id);
    const second = facts.decision(p, { decision: 'DENY' });
    await publish(second);
    const report = await probe.waitForJob(Topics.JobBlocked, p.data.job_id, (d) =>
      String(d['detail']).includes(second.event_id),
    );
    expect(report['data']).toMatchObject({
      reason_code: 'DUPLICATE',
      report_only: true,
      detail: expect.stringContaining('the outcome stands'),
    });
    const state = await waitForState(svc.url, p.data.job_id, (s) => s.late_facts >= 1);
    expect(state.state).toBe('released');
    expect(released(p.data.job_id)).toHaveLength(1);
  });

  it('an approval replayed onto another job is blocked', async () => {
    const a = proposal();
    const b = proposal({ ...a.data, job_id: `${a.data.job_id}-b` });
    const approvalOfA = facts.resolution(a);
    await deliver(svc.url, 'decision', facts.decision(a, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(svc.url, 'resolution', approvalOfA);
    await publish(a);
    await probe.waitForJob(Topics.JobReleased, a.data.job_id);

    await deliver(svc.url, 'decision', facts.decision(b, { decision: 'REQUIRE_APPROVAL' }));
    const replayed = { ...approvalOfA, event_id: randomUUID(), data: { ...approvalOfA.data, job_id: b.data.job_id } };
    await publish(replayed);
    await expectForgeryBlocks(b, replayed);
  });

  it('INCOMPLETE: a job whose proposal never comes is blocked after INCOMPLETE_AFTER_MS', async () => {
    const never = proposal();
    await deliver(svc.url, 'decision', facts.decision(never));
    expect((await getState(svc.url, never.data.job_id)).body.state).toBe('decided');
    expect(await outcomeBlock(never.data.job_id)).toMatchObject({
      reason_code: 'INCOMPLETE',
      detail: expect.stringContaining('job.proposed'),
    });
  }, 60_000);

  it('NO_EXECUTOR for a topic no executor matches', async () => {
    const p = proposal({ topic: 'ops.restart' });
    await deliver(svc.url, 'decision', facts.decision(p));
    await publish(p);
    expect(await outcomeBlock(p.data.job_id)).toMatchObject({ reason_code: 'NO_EXECUTOR' });
  });

  it('delivering every event twice executes once (redelivery is idempotent, not DUPLICATE)', async () => {
    const p = proposal({ topic: 'test.http.apply' });
    const decision = facts.decision(p, { decision: 'REQUIRE_APPROVAL' });
    const resolution = facts.resolution(p);
    const ours = [p.event_id, decision.event_id, resolution.event_id];
    for (const e of [decision, decision, resolution, resolution, p, p]) await publish(e);
    await probe.waitForJob(Topics.JobExecuted, p.data.job_id);
    for (const e of [p, decision, resolution]) await publish(e);
    await rig.settled();
    expect(hook.callsTo(p.data.job_id)).toHaveLength(1);
    expect(probe.forJob(Topics.JobExecuted, p.data.job_id)).toHaveLength(1);
    const reportsOfOurs = probe
      .forJob(Topics.JobBlocked, p.data.job_id)
      .filter((b) => ours.some((id) => String((b['data'] as { detail: string }).detail).includes(id)));
    expect(reportsOfOurs).toHaveLength(0);
    expect(
      probe
        .forJob(Topics.JobBlocked, p.data.job_id)
        .filter((b) => !(b['data'] as { report_only?: boolean }).report_only),
    ).toHaveLength(0);
    expect((await getState(svc.url, p.data.job_id)).body).toMatchObject({
      state: 'executed',
      execution: { status: 'SUCCEEDED' },
    });
  });

  it('answers 404 for an unknown job and 400 for a malformed id', async () => {
    expect((await getState(svc.url, 'never-seen')).status).toBe(404);
    expect((await getState(svc.url, 'never-seen')).body).toMatchObject({ error: { code: 'JOB_NOT_FOUND' } });
    const operator = bearer(mintToken(keys.jwtSecret, { sub: 'olivia', roles: ['operator'] }));
    expect(
      (await fetch(`${svc.url}/api/v1/jobs/${encodeURIComponent('bad id!')}/state`, { headers: operator })).status,
    ).toBe(400);
    // The state shows executor results and reviewers' reasons: operators and auditors only.
    expect((await fetch(`${svc.url}/api/v1/jobs/never-seen/state`)).status).toBe(401);
    const approver = bearer(mintToken(keys.jwtSecret, { sub: 'bob', roles: ['service-owner'] }));
    expect((await fetch(`${svc.url}/api/v1/jobs/never-seen/state`, { headers: approver })).status).toBe(403);
  });
});
