import { randomUUID } from 'node:crypto';
import { deterministicEventId } from '@countersign/bus';
import { generateSigningKeyPair, keyIdOf, publicKeyFromPem, signerFromPem } from '@countersign/crypto';
import {
  Topics,
  dlqTopic,
  type ApprovalResolvedV1,
  type DecisionMadeV1,
  type JobProposedV1,
} from '@countersign/contracts';
import { publishRaw } from '../support/kafka-probe';
import { proposal } from '../support/fixtures';
import { editText, movedOntoText, resignText } from '../../services/execution-binding/test/binding-support';
import {
  ALL_READY,
  TopicTail,
  eventually,
  startSecurityStack,
  type SecurityStack,
  type TailedMessage,
} from './support/security-stack';

/**
 * Forgeries and replays published straight to Kafka, against the four services on the real broker
 * and Postgres. Each must end in a job.blocked with its reason (or a DLQ record with one), and the
 * executor target must never be called for any of them.
 */
describe('forged, replayed and altered events on Kafka', () => {
  let stack: SecurityStack;
  const dlq = new TopicTail();
  const attacker = generateSigningKeyPair();
  /** The only jobs the executor target may ever see: the controls. */
  const allowed = new Set<string>();

  const publish = (topic: string, event: { data: { job_id: string } } | Record<string, unknown>) =>
    publishRaw(topic, (event as { data: { job_id: string } }).data.job_id, JSON.stringify(event));
  const readJob = () =>
    proposal({ tenant: 'globex', topic: 'job.repo.read', risk_tags: [], payload: { repo: 'api', branch: 'main' } });
  const gatedJob = () =>
    proposal({
      tenant: 'globex',
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      payload: { flag: 'checkout-v2', on: true },
    });
  const blockOf = (m: TailedMessage) =>
    m.json?.['data'] as { reason_code: string; detail: string; report_only: boolean };
  const realKeyId = () => keyIdOf(publicKeyFromPem(stack.keys.pems['policy-decision'].publicKeyPem));
  const realQueueKeyId = () => keyIdOf(publicKeyFromPem(stack.keys.pems['approval-queue'].publicKeyPem));
  const review = async (jobId: string, sub: string, roles: string[]) =>
    fetch(`${stack.url('approval-queue')}/api/v1/approvals/${jobId}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token(sub, roles)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'looks fine' }),
    });

  /** Proposes a gated job and waits until execution-binding and the queue both hold it for approval. */
  async function awaitingApproval(p: JobProposedV1): Promise<DecisionMadeV1> {
    await publish(Topics.JobProposed, p);
    await eventually(`${p.data.job_id} awaiting approval`, async () =>
      (await stack.state(p.data.job_id)).state === 'awaiting_approval' ? true : undefined,
    );
    const decision = await stack.events.waitFor(
      Topics.DecisionMade,
      (m) => m.key === p.data.job_id && m.json?.['producer'] === 'policy-decision',
    );
    // The queue consumes decision.made on its own: until it holds the item a review answers 404.
    await eventually(`${p.data.job_id} pending in the queue`, async () => {
      const res = await fetch(`${stack.url('approval-queue')}/api/v1/jobs/${p.data.job_id}/decisions`, {
        headers: { authorization: `Bearer ${await stack.token('watcher', ['auditor'])}` },
      });
      return res.status === 200 && ((await res.json()) as { state: string }).state === 'PENDING' ? true : undefined;
    });
    return decision.json as unknown as DecisionMadeV1;
  }

  /** A gated job the real reviewer approved and that then executed: the genuine flow forgeries are measured against. */
  async function approvedAndExecuted(): Promise<JobProposedV1> {
    const p = gatedJob();
    await awaitingApproval(p);
    allowed.add(p.data.job_id);
    expect((await review(p.data.job_id, 'bob', ['service-owner'])).status).toBe(200);
    expect((await stack.outcome(p.data.job_id)).topic).toBe(Topics.JobExecuted);
    return p;
  }

  beforeAll(async () => {
    stack = await startSecurityStack('sec_forged', { env: { LOG_LEVEL: 'debug' } });
    await dlq.start([dlqTopic(Topics.DecisionMade), dlqTopic(Topics.ApprovalResolved), dlqTopic(Topics.JobProposed)]);
  }, 240000);

  afterAll(async () => {
    await dlq.stop();
    await stack?.stop();
  });

  it('control: a decision signed with the real key over the real hash does execute, once', async () => {
    // Shows the events these tests craft are well-formed, so each refusal below is due to its forgery alone.
    const p = readJob();
    await publish(Topics.DecisionMade, stack.decision(p));
    await eventually('decided', async () =>
      (await stack.state(p.data.job_id)).state === 'decided' ? true : undefined,
    );
    allowed.add(p.data.job_id);
    await publish(Topics.JobProposed, p);
    expect((await stack.outcome(p.data.job_id)).topic).toBe(Topics.JobExecuted);
    expect(stack.callsFor(p.data.job_id)).toHaveLength(1);
  });

  const forgedDecisions: [string, (s: SecurityStack, p: JobProposedV1) => Record<string, unknown>][] = [
    ['signed with an attacker key', (s, p) => s.decision(p, {}, attacker.privateKeyPem)],
    ['without a signature', (s, p) => withoutSignature(s.decision(p))],
    [
      "signed with an attacker key under the real key's id",
      (s, p) => withKeyId(s.decision(p, {}, attacker.privateKeyPem), realKeyId()),
    ],
    [
      'validly signed as REQUIRE_APPROVAL, then altered to ALLOW',
      (s, p) =>
        alter(s.decision(p, { decision: 'REQUIRE_APPROVAL', approval: requirement }), {
          decision: 'ALLOW',
          approval: null,
        }),
    ],
    [
      'validly signed for another job, replayed onto this one',
      (s, p) =>
        alter(s.decision({ ...p, data: { ...p.data, job_id: `${p.data.job_id}-other` } }), {
          job_id: p.data.job_id,
          job_hash: s.decision(p).data.job_hash,
        }),
    ],
  ];

  it.each(forgedDecisions)(
    'a decision.made %s blocks the job BAD_SIGNATURE, is refused by the queue, and nothing runs',
    async (_what, forge) => {
      const p = readJob();
      const forged = forge(stack, p);
      // The forgery arrives first: had it been accepted, the proposal below would execute at once.
      await publish(Topics.DecisionMade, forged);
      const blocked = await stack.outcome(p.data.job_id);
      expect(blocked.topic).toBe(Topics.JobBlocked);
      expectBlocked(blocked, 'BAD_SIGNATURE');
      expect(blockOf(blocked).detail).toMatch(/signature/);

      const refused = await eventually('approval-queue DLQ record', async () =>
        dlq.messages.find(
          (m) =>
            m.topic === dlqTopic(Topics.DecisionMade) &&
            m.headers['dlq-consumer'] === 'approval-queue' &&
            m.key === p.data.job_id,
        ),
      );
      expect(String(refused.json?.['error'])).toMatch(/signature/);

      // The genuine proposal and decision come afterwards: the block stands, nothing is executed.
      await publish(Topics.JobProposed, p);
      await stack.events.waitFor(
        Topics.DecisionMade,
        (m) => m.key === p.data.job_id && m.json?.['event_id'] !== forged['event_id'],
        30000,
      );
      await eventually(
        'late facts recorded',
        async () => ((await stack.state(p.data.job_id))['late_facts'] as number) >= 2 || undefined,
      );
      const state = await stack.state(p.data.job_id);
      expect(state).toMatchObject({ state: 'blocked', block: { reason_code: 'BAD_SIGNATURE' } });
      expect(stack.callsFor(p.data.job_id)).toEqual([]);
    },
  );

  const forgedApprovals: [string, (s: SecurityStack, p: JobProposedV1, snapshot: string) => Record<string, unknown>][] =
    [
      ['signed with an attacker key', (s, p, snap) => s.resolution(p, snap, {}, attacker.privateKeyPem)],
      ['without a signature', (s, p, snap) => withoutSignature(s.resolution(p, snap))],
      [
        "signed with an attacker key under the real key's id",
        (s, p, snap) => withKeyId(s.resolution(p, snap, {}, attacker.privateKeyPem), realQueueKeyId()),
      ],
      [
        'validly signed as REJECTED, then altered to APPROVED',
        (s, p, snap) => alter(s.resolution(p, snap, { resolution: 'REJECTED' }), { resolution: 'APPROVED' }),
      ],
      [
        'validly signed for another job, replayed onto this one',
        (s, p, snap) => {
          const other = { ...p, data: { ...p.data, job_id: `${p.data.job_id}-other` } };
          return alter(s.resolution(other, snap), {
            job_id: p.data.job_id,
            job_hash: s.resolution(p, snap).data.job_hash,
          });
        },
      ],
    ];

  it.each(forgedApprovals)(
    'an approval.resolved %s blocks the waiting job BAD_SIGNATURE; a later real approval runs nothing',
    async (_what, forge) => {
      const p = gatedJob();
      const decision = await awaitingApproval(p);
      await publish(Topics.ApprovalResolved, forge(stack, p, decision.data.policy_snapshot));
      const blocked = await stack.outcome(p.data.job_id);
      expect(blocked.topic).toBe(Topics.JobBlocked);
      expectBlocked(blocked, 'BAD_SIGNATURE');

      // A reviewer's genuine approval afterwards is only a late fact: the outcome stands.
      expect((await review(p.data.job_id, 'bob', ['service-owner'])).status).toBe(200);
      await stack.events.waitFor(Topics.JobBlocked, (m) => m.key === p.data.job_id && blockOf(m).report_only, 30000);
      expect(stack.callsFor(p.data.job_id)).toEqual([]);
    },
  );

  it.each([
    [
      "another job's hash (the approval of other content)",
      'HASH_MISMATCH',
      (p: JobProposedV1) => ({ job_hash: 'f'.repeat(64), job_id: p.data.job_id }),
    ],
    [
      'another policy snapshot than the one that gated the job',
      'SNAPSHOT_MISMATCH',
      () => ({ policy_snapshot: `cfg:system:policy#sha256:${'0'.repeat(64)}` }),
    ],
  ])('a validly signed approval bound to %s is blocked %s', async (_what, reason, override) => {
    const p = gatedJob();
    const decision = await awaitingApproval(p);
    await publish(Topics.ApprovalResolved, stack.resolution(p, decision.data.policy_snapshot, override(p)));
    const blocked = await stack.outcome(p.data.job_id);
    expectBlocked(blocked, reason);
    expect(stack.callsFor(p.data.job_id)).toEqual([]);
  });

  it('a real approval replayed (again on its job, or onto another job) runs nothing more', async () => {
    const a = await approvedAndExecuted();
    expect(stack.callsFor(a.data.job_id)).toHaveLength(1);
    const real = await stack.events.waitFor(Topics.ApprovalResolved, (m) => m.key === a.data.job_id);

    // The same bytes again: a redelivery of the same event_id, nothing happens.
    await publishRaw(Topics.ApprovalResolved, a.data.job_id, real.value);
    // Re-sent as a new event: a late fact, reported, the outcome stands.
    const resent = { ...(real.json as Record<string, unknown>), event_id: randomUUID() };
    await publish(Topics.ApprovalResolved, resent);
    await stack.events.waitFor(Topics.JobBlocked, (m) => m.key === a.data.job_id && blockOf(m).report_only, 30000);
    expect(stack.callsFor(a.data.job_id)).toHaveLength(1);

    // Onto another job that waits for its own approval, as a new event: the signature covers the job id and event id.
    const b = gatedJob();
    await awaitingApproval(b);
    const replayed = real.json as unknown as ApprovalResolvedV1;
    await publish(Topics.ApprovalResolved, {
      ...replayed,
      event_id: randomUUID(),
      data: { ...replayed.data, job_id: b.data.job_id },
    });
    expectBlocked(await stack.outcome(b.data.job_id), 'BAD_SIGNATURE');
    expect(stack.callsFor(b.data.job_id)).toEqual([]);

    // Onto another job under its original event_id, by editing the real bytes: the signature no longer
    // verifies, so the copy claims nothing and the job is blocked BAD_SIGNATURE, the report naming the taken id.
    const c = gatedJob();
    await awaitingApproval(c);
    await publishRaw(Topics.ApprovalResolved, c.data.job_id, movedOntoText(real.value!, a, c));
    const blockedC = await stack.outcome(c.data.job_id);
    expectBlocked(blockedC, 'BAD_SIGNATURE');
    expect(blockOf(blockedC).detail).toContain(
      `approval.resolved ${replayed.event_id} does not carry a valid signature`,
    );
    expect(blockOf(blockedC).detail).toMatch(
      /its event_id is that of a processed approval\.resolved with another body/,
    );
    expect(stack.callsFor(c.data.job_id)).toEqual([]);
    // None of it left the exact redelivery a trace of its own: the only report on the executed job is the re-sent one's.
    const reportsOnA = stack.events.find(Topics.JobBlocked, (m) => m.key === a.data.job_id).map(blockOf);
    expect(reportsOnA).toEqual([expect.objectContaining({ reason_code: 'BAD_SIGNATURE', report_only: true })]);
    expect(reportsOnA[0]!.detail).toContain(String(resent['event_id']));
  });

  it('another validly signed body under a real approval id: EVENT_ID_CONFLICT, report-only on an executed job, fail-closed on a waiting one', async () => {
    // A compromised or buggy approval-queue (its real key) re-using an id: execution-binding cannot
    // tell which body is genuine, so it applies neither and says so.
    const queueKey = signerFromPem(stack.keys.pems['approval-queue'].privateKeyPem);
    const a = await approvedAndExecuted();
    const real = await stack.events.waitFor(Topics.ApprovalResolved, (m) => m.key === a.data.job_id);
    const realId = String(real.json?.['event_id']);

    const done = await approvedAndExecuted();
    await publishRaw(
      Topics.ApprovalResolved,
      done.data.job_id,
      resignText(movedOntoText(real.value!, a, done), queueKey),
    );
    const report = await stack.events.waitFor(
      Topics.JobBlocked,
      (m) => m.key === done.data.job_id && blockOf(m).reason_code === 'EVENT_ID_CONFLICT',
    );
    expect(blockOf(report)).toMatchObject({ report_only: true, detail: expect.stringContaining(realId) });
    expect(stack.callsFor(done.data.job_id)).toHaveLength(1);

    const waiting = gatedJob();
    await awaitingApproval(waiting);
    const conflicting = resignText(movedOntoText(real.value!, a, waiting), queueKey);
    await publishRaw(Topics.ApprovalResolved, waiting.data.job_id, conflicting);
    const blocked = await stack.outcome(waiting.data.job_id);
    expectBlocked(blocked, 'EVENT_ID_CONFLICT');
    expect(blockOf(blocked).detail).toMatch(
      new RegExp(
        `^approval\\.resolved ${realId} arrived with another body .*sha256 [0-9a-f]{12}…, processed [0-9a-f]{12}…`,
      ),
    );
    // The same conflicting bytes again report nothing new; a fresh late fact on the same key is the barrier.
    await publishRaw(Topics.ApprovalResolved, waiting.data.job_id, conflicting);
    const marker = stack.decision(waiting, { decision: 'DENY' });
    await publish(Topics.DecisionMade, marker);
    await stack.events.waitFor(
      Topics.JobBlocked,
      (m) => m.key === waiting.data.job_id && blockOf(m).detail.includes(marker.event_id),
    );
    const conflicts = stack.events.find(
      Topics.JobBlocked,
      (m) => m.key === waiting.data.job_id && blockOf(m).reason_code === 'EVENT_ID_CONFLICT',
    );
    expect(conflicts).toHaveLength(1);
    expect(stack.callsFor(waiting.data.job_id)).toEqual([]);
  });

  it("a proposal published under the event_id a job's approval will carry pre-empts nothing: the approval executes", async () => {
    const p = gatedJob();
    await awaitingApproval(p);
    allowed.add(p.data.job_id);
    // approval.resolved ids are derived from the job id, so an attacker can compute this one.
    const futureId = deterministicEventId(Topics.ApprovalResolved, p.data.job_id);
    const decoy = gatedJob();
    await publishRaw(
      Topics.JobProposed,
      decoy.data.job_id,
      editText(JSON.stringify(decoy), 'event_id', decoy.event_id, futureId),
    );
    await eventually('the decoy accepted under its own topic', async () => {
      const s = (await stack.state(decoy.data.job_id)) as { facts?: { proposal?: { event_id?: string } } };
      return s.facts?.proposal?.event_id === futureId ? true : undefined;
    });

    expect((await review(p.data.job_id, 'bob', ['service-owner'])).status).toBe(200);
    expect((await stack.outcome(p.data.job_id)).topic).toBe(Topics.JobExecuted);
    const approval = await stack.events.waitFor(Topics.ApprovalResolved, (m) => m.key === p.data.job_id);
    expect(approval.json?.['event_id']).toBe(futureId);
    expect(stack.callsFor(p.data.job_id)).toHaveLength(1);
    expect(stack.callsFor(decoy.data.job_id)).toEqual([]);
  });

  it("an approval with a bad signature under another job's future approval id does not consume it", async () => {
    const p = gatedJob();
    const decision = await awaitingApproval(p);
    allowed.add(p.data.job_id);
    const futureId = deterministicEventId(Topics.ApprovalResolved, p.data.job_id);
    const victim = gatedJob();
    await awaitingApproval(victim);
    const forged = stack.resolution(victim, decision.data.policy_snapshot, {}, attacker.privateKeyPem);
    await publishRaw(
      Topics.ApprovalResolved,
      victim.data.job_id,
      editText(JSON.stringify(forged), 'event_id', forged.event_id, futureId),
    );
    const blocked = await stack.outcome(victim.data.job_id);
    expectBlocked(blocked, 'BAD_SIGNATURE');
    expect(blockOf(blocked).detail).toContain(futureId);

    expect((await review(p.data.job_id, 'bob', ['service-owner'])).status).toBe(200);
    expect((await stack.outcome(p.data.job_id)).topic).toBe(Topics.JobExecuted);
    expect(stack.callsFor(p.data.job_id)).toHaveLength(1);
    expect(stack.callsFor(victim.data.job_id)).toEqual([]);
  });

  it('a payload swapped while the job waits for approval is never executed (DUPLICATE)', async () => {
    const p = gatedJob();
    await awaitingApproval(p);
    const swapped: JobProposedV1 = {
      ...p,
      event_id: randomUUID(),
      data: { ...p.data, payload: { flag: 'checkout-v2', on: true, drop_tables: true } },
    };
    await publish(Topics.JobProposed, swapped);
    const blocked = await stack.outcome(p.data.job_id);
    expectBlocked(blocked, 'DUPLICATE');
    expect((await review(p.data.job_id, 'bob', ['service-owner'])).status).toBe(200);
    await stack.events.waitFor(Topics.JobBlocked, (m) => m.key === p.data.job_id && blockOf(m).report_only, 30000);
    expect(stack.callsFor(p.data.job_id)).toEqual([]);
  });

  it('a proposal re-sent for another requester is never executed (DUPLICATE); the queue keeps the first requester', async () => {
    // The job hash covers requested_by, so the re-sent proposal is another job under the same id:
    // it must neither run nor let its requester stand in for the one the reviewers see.
    const p = proposal({ ...gatedJob().data, requested_by: 'alice' });
    await awaitingApproval(p);
    const resent: JobProposedV1 = { ...p, event_id: randomUUID(), data: { ...p.data, requested_by: 'bob' } };
    await publish(Topics.JobProposed, resent);
    const blocked = await stack.outcome(p.data.job_id);
    expectBlocked(blocked, 'DUPLICATE');
    expect(blockOf(blocked).detail).toContain(resent.event_id);

    const listed = await fetch(`${stack.url('approval-queue')}/api/v1/approvals?tenant=globex&limit=200`, {
      headers: { authorization: `Bearer ${await stack.token('watcher', ['service-owner'])}` },
    });
    const items = ((await listed.json()) as { items: { job: { id: string }; requested_by: string | null }[] }).items;
    expect(items.find((i) => i.job.id === p.data.job_id)).toMatchObject({ requested_by: 'alice' });
    // Alice is still the requester of the job the queue holds, so she may not approve it; bob's
    // approval is not self-approval, yet it runs nothing: the job is already blocked.
    const self = await review(p.data.job_id, 'alice', ['service-owner']);
    expect(self.status).toBe(403);
    expect(await self.json()).toMatchObject({ error: { code: 'SELF_APPROVAL' } });
    expect((await review(p.data.job_id, 'bob', ['service-owner'])).status).toBe(200);
    const approvalId = deterministicEventId(Topics.ApprovalResolved, p.data.job_id);
    const late = await stack.events.waitFor(
      Topics.JobBlocked,
      (m) => m.key === p.data.job_id && blockOf(m).report_only && blockOf(m).detail.includes(approvalId),
      30000,
    );
    expect(blockOf(late).reason_code).toBe('DUPLICATE');
    expect(stack.callsFor(p.data.job_id)).toEqual([]);
  });

  it('a proposal re-sent for another requester after approval runs nothing more: the approved job ran once', async () => {
    const p = await approvedAndExecuted();
    const resent: JobProposedV1 = { ...p, event_id: randomUUID(), data: { ...p.data, requested_by: 'carol' } };
    await publish(Topics.JobProposed, resent);
    const report = await stack.events.waitFor(
      Topics.JobBlocked,
      (m) => m.key === p.data.job_id && blockOf(m).report_only && blockOf(m).detail.includes(resent.event_id),
      30000,
    );
    expect(blockOf(report).reason_code).toBe('DUPLICATE');
    const calls = stack.callsFor(p.data.job_id);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ requested_by: p.data.requested_by });
  });

  it('a payload swapped after approval changes nothing: the approved payload ran, once', async () => {
    const p = await approvedAndExecuted();
    const swapped: JobProposedV1 = {
      ...p,
      event_id: randomUUID(),
      data: { ...p.data, payload: { flag: 'checkout-v2', on: false } },
    };
    await publish(Topics.JobProposed, swapped);
    await stack.events.waitFor(Topics.JobBlocked, (m) => m.key === p.data.job_id && blockOf(m).report_only, 30000);
    const calls = stack.callsFor(p.data.job_id);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ payload: { flag: 'checkout-v2', on: true } });
  });

  it('after all of it: every service is up and the executor saw only the control jobs', async () => {
    expect(await stack.allReady()).toEqual(ALL_READY);
    expect(stack.calls.filter((c) => !allowed.has(c.jobId))).toEqual([]);
    expect(stack.calls).toHaveLength(allowed.size);
  });
});

const requirement = {
  approvals_required: 1,
  approver_roles: ['service-owner'],
  sla_seconds: 1800,
  escalate_after_seconds: null,
  escalation_roles: [],
};

/** The job's own outcome, blocked for `reason` (not a report-only note about a late fact). */
function expectBlocked(m: TailedMessage, reason: string): void {
  expect(m.topic).toBe(Topics.JobBlocked);
  const data = m.json?.['data'] as { reason_code: string; report_only?: boolean };
  expect(data.reason_code).toBe(reason);
  expect(data.report_only ?? false).toBe(false);
}

function withoutSignature<T extends Record<string, unknown>>(e: T): Record<string, unknown> {
  const { signature: _dropped, ...rest } = e;
  return rest;
}

function withKeyId(e: DecisionMadeV1 | ApprovalResolvedV1, keyId: string): Record<string, unknown> {
  return { ...e, signature: { ...e.signature!, key_id: keyId } };
}

/** Changes data fields after signing, keeping the original signature. */
function alter(e: DecisionMadeV1 | ApprovalResolvedV1, data: Record<string, unknown>): Record<string, unknown> {
  return { ...e, data: { ...e.data, ...data } };
}
