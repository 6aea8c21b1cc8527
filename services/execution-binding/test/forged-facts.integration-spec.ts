import { Topics, type JobProposedV1 } from '@countersign/contracts';
import { generateSigningKeyPair, jobHash, signerFromPem } from '@countersign/crypto';
import { proposal } from '../../../test/support/fixtures';
import { publishRaw } from '../../../test/support/kafka-probe';
import type { ServiceHandle } from '../../../test/support/stack';
import {
  BindingRig,
  deliver,
  editText,
  movedOntoText,
  publish,
  resignText,
  waitForState,
  writeExecutorsFile,
} from './binding-support';

/** The JSON text a producer would send for an event (the outbox writes JSON.stringify of it). */
const textOf = (event: object) => JSON.stringify(event);

/**
 * Forged and replayed event ids against the real service on Kafka and Postgres (issue 15): facts
 * are deduplicated per (topic, event_id) after their signature, and a known id with another body
 * is reported EVENT_ID_CONFLICT, never applied and never silently dropped. Forged messages are
 * raw bytes, edited from a genuine event's text.
 */
describe('execution-binding: forged event ids', () => {
  const rig = new BindingRig();
  const { facts, probe } = rig;
  let svc: ServiceHandle;
  const attacker = signerFromPem(generateSigningKeyPair().privateKeyPem);

  beforeAll(async () => {
    const executors = writeExecutorsFile(`
executors:
  - name: agent
    kind: release
    match: ["job.**"]
`);
    svc = await rig.start('eb_forged_facts', [Topics.JobReleased, Topics.JobBlocked, Topics.JobExecuted], {
      EXECUTORS_FILE: executors,
      SWEEP_INTERVAL_MS: '200',
    });
  }, 120_000);

  afterAll(() => rig.stop());

  const released = (jobId: string) => probe.forJob(Topics.JobReleased, jobId);
  const blocks = (jobId: string, reason: string) =>
    probe
      .forJob(Topics.JobBlocked, jobId)
      .map((e) => e['data'] as { reason_code: string; detail: string; report_only?: boolean })
      .filter((d) => d.reason_code === reason);

  /** A gated job whose genuine approval is released: returns it with the text of that approval. */
  async function approvedJob(): Promise<{ p: JobProposedV1; approvalText: string; approvalId: string }> {
    const p = proposal();
    const approval = facts.resolution(p);
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await deliver(svc.url, 'resolution', approval);
    await publish(p);
    await probe.waitForJob(Topics.JobReleased, p.data.job_id);
    return { p, approvalText: textOf(approval), approvalId: approval.event_id };
  }

  /** A gated job waiting for its approval. */
  async function waitingJob(): Promise<JobProposedV1> {
    const p = proposal();
    await deliver(svc.url, 'decision', facts.decision(p, { decision: 'REQUIRE_APPROVAL' }));
    await publish(p);
    await waitForState(svc.url, p.data.job_id, (s) => s.state === 'awaiting_approval');
    return p;
  }

  /**
   * The barrier after a message that must change nothing: a new late decision for the same job (same
   * key, same partition, so consumed after it) and its report; whatever the first would have caused
   * has happened by then.
   */
  async function afterEverythingBefore(p: JobProposedV1): Promise<void> {
    const marker = facts.decision(p, { decision: 'DENY' });
    await publish(marker);
    await probe.waitForJob(Topics.JobBlocked, p.data.job_id, (d) => String(d['detail']).includes(marker.event_id));
  }

  it('a copy of a genuine approval under its event_id, edited onto a waiting job: BAD_SIGNATURE naming the taken id', async () => {
    const a = await approvedJob();
    const victim = await waitingJob();
    const forged = movedOntoText(a.approvalText, a.p, victim);
    await publishRaw(Topics.ApprovalResolved, victim.data.job_id, forged);

    const block = await probe.outcomeBlock(victim.data.job_id);
    expect(block).toMatchObject({ reason_code: 'BAD_SIGNATURE' });
    expect(block['detail']).toContain(`approval.resolved ${a.approvalId} does not carry a valid signature`);
    expect(block['detail']).toMatch(/its event_id is that of a processed approval\.resolved with another body/);
    expect(released(victim.data.job_id)).toHaveLength(0);
    expect(released(a.p.data.job_id)).toHaveLength(1);
  });

  it('a validly signed approval under a processed event_id with another body blocks a waiting job EVENT_ID_CONFLICT, once', async () => {
    const a = await approvedJob();
    const victim = await waitingJob();
    const conflicting = resignText(movedOntoText(a.approvalText, a.p, victim), facts.approvalQueue);
    await publishRaw(Topics.ApprovalResolved, victim.data.job_id, conflicting);

    const block = await probe.outcomeBlock(victim.data.job_id);
    expect(block).toMatchObject({ reason_code: 'EVENT_ID_CONFLICT', job_hash: jobHash(victim.data) });
    expect(block['detail']).toMatch(
      new RegExp(
        `^approval\\.resolved ${a.approvalId} arrived with another body .*sha256 [0-9a-f]{12}…, processed [0-9a-f]{12}…`,
      ),
    );
    expect((await waitForState(svc.url, victim.data.job_id, (s) => s.state === 'blocked')).facts.resolution).toBeNull();

    // The same bytes again: already reported, nothing new.
    await publishRaw(Topics.ApprovalResolved, victim.data.job_id, conflicting);
    await afterEverythingBefore(victim);
    expect(blocks(victim.data.job_id, 'EVENT_ID_CONFLICT')).toHaveLength(1);
    expect(released(victim.data.job_id)).toHaveLength(0);
  });

  it('another body under the id of a job that already has its outcome is reported (report_only), the outcome stands', async () => {
    const a = await approvedJob();
    const altered = resignText(editText(a.approvalText, 'resolved_by', 'bob', 'mallory'), facts.approvalQueue);
    await publishRaw(Topics.ApprovalResolved, a.p.data.job_id, altered);

    const report = await probe.waitForJob(
      Topics.JobBlocked,
      a.p.data.job_id,
      (d) => d['reason_code'] === 'EVENT_ID_CONFLICT',
    );
    expect(report['data']).toMatchObject({ report_only: true, detail: expect.stringContaining(a.approvalId) });
    await publishRaw(Topics.ApprovalResolved, a.p.data.job_id, altered);
    await afterEverythingBefore(a.p);
    expect(blocks(a.p.data.job_id, 'EVENT_ID_CONFLICT')).toHaveLength(1);
    const state = await waitForState(svc.url, a.p.data.job_id, (s) => s.late_facts >= 2);
    expect(state.state).toBe('released');
    expect(released(a.p.data.job_id)).toHaveLength(1);
  });

  it('the exact bytes of a genuine approval again are a redelivery: no report, no second grant', async () => {
    const a = await approvedJob();
    await publishRaw(Topics.ApprovalResolved, a.p.data.job_id, a.approvalText);
    await afterEverythingBefore(a.p);
    const reports = probe.forJob(Topics.JobBlocked, a.p.data.job_id).map((e) => e['data'] as { detail: string });
    expect(reports.filter((d) => d.detail.includes(a.approvalId))).toEqual([]);
    expect(released(a.p.data.job_id)).toHaveLength(1);
  });

  it('a proposal published first under the id a genuine approval will carry pre-empts nothing', async () => {
    const g = proposal();
    const approval = facts.resolution(g);
    // The attacker's proposal: another job, under the approval's (predictable) event id.
    const decoy = proposal();
    const decoyText = editText(textOf(decoy), 'event_id', decoy.event_id, approval.event_id);
    await publishRaw(Topics.JobProposed, decoy.data.job_id, decoyText);
    const decoyState = await waitForState(svc.url, decoy.data.job_id, (s) => s.state === 'proposed');
    expect(decoyState.facts.proposal?.event_id).toBe(approval.event_id);

    await deliver(svc.url, 'decision', facts.decision(g, { decision: 'REQUIRE_APPROVAL' }));
    await publish(g);
    await publish(approval);
    await probe.waitForJob(Topics.JobReleased, g.data.job_id);
    expect((await waitForState(svc.url, g.data.job_id, (s) => s.state === 'released')).facts.resolution?.event_id).toBe(
      approval.event_id,
    );
    expect(released(g.data.job_id)).toHaveLength(1);
  });

  it('a second proposal under a known proposal id, for another job, blocks that job EVENT_ID_CONFLICT (fail-closed)', async () => {
    const first = proposal();
    await deliver(svc.url, 'proposal', first);
    const second = proposal();
    const secondText = editText(textOf(second), 'event_id', second.event_id, first.event_id);
    await deliver(svc.url, 'decision', facts.decision(second));
    await publishRaw(Topics.JobProposed, second.data.job_id, secondText);
    const block = await probe.outcomeBlock(second.data.job_id);
    expect(block).toMatchObject({ reason_code: 'EVENT_ID_CONFLICT' });
    expect(block['detail']).toContain(`job.proposed ${first.event_id}`);
    expect(released(second.data.job_id)).toHaveLength(0);
  });

  it('an approval whose signature fails does not consume its event_id: the genuine one under it still runs', async () => {
    const g = proposal();
    const approval = facts.resolution(g);
    const victim = await waitingJob();
    // Forged first, for another waiting job, under the id the genuine approval will carry.
    const forgedText = resignText(movedOntoText(textOf(approval), g, victim), attacker);
    await publishRaw(Topics.ApprovalResolved, victim.data.job_id, forgedText);
    expect(await probe.outcomeBlock(victim.data.job_id)).toMatchObject({ reason_code: 'BAD_SIGNATURE' });
    // Its redelivery reports nothing new.
    await publishRaw(Topics.ApprovalResolved, victim.data.job_id, forgedText);
    await afterEverythingBefore(victim);
    expect(blocks(victim.data.job_id, 'BAD_SIGNATURE')).toHaveLength(1);

    await deliver(svc.url, 'decision', facts.decision(g, { decision: 'REQUIRE_APPROVAL' }));
    await publish(g);
    await publish(approval);
    await probe.waitForJob(Topics.JobReleased, g.data.job_id);
    expect(released(g.data.job_id)).toHaveLength(1);
    expect(released(victim.data.job_id)).toHaveLength(0);
    expect(probe.forJob(Topics.JobBlocked, g.data.job_id)).toEqual([]);
  });

  it('the same event id on two topics is two events', async () => {
    const p = proposal();
    const decision = facts.decision(p);
    const proposalText = editText(textOf(p), 'event_id', p.event_id, decision.event_id);
    await publish(decision);
    await publishRaw(Topics.JobProposed, p.data.job_id, proposalText);
    await probe.waitForJob(Topics.JobReleased, p.data.job_id);
    expect(probe.forJob(Topics.JobBlocked, p.data.job_id)).toEqual([]);
  });
});
