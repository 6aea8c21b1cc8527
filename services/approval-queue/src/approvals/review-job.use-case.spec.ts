import { CodedError, Topics, type ApprovalResolvedV1 } from '@countersign/contracts';
import { generateSigningKeyPair, publicKeyFromPem, signerFromPem, verifyEvent } from '@countersign/crypto';
import type { Clock } from '@countersign/clock';
import { ApprovalEvents } from './approval-events';
import type { ApprovalItemEntity } from './approval-item.entity';
import { ApprovalMetrics } from './approval-metrics';
import { approvalItem, FakeApprovalsStore } from './approvals-store.fake';
import { ReviewJobUseCase, type ReviewJobCommand } from './review-job.use-case';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const keys = generateSigningKeyPair();
const trusted = [publicKeyFromPem(keys.publicKeyPem)];

function pending(over: Partial<ApprovalItemEntity> = {}): ApprovalItemEntity {
  return approvalItem({
    jobId: 'job-1',
    state: 'PENDING',
    tenant: 'acme',
    proposalEventId: 'evt-proposal',
    agentId: 'deploy-bot',
    topic: 'prod.db.write',
    requestedBy: 'alice@acme.example',
    jobHash: 'a'.repeat(64),
    policySnapshot: 'cfg:system:policy#sha256:' + 'b'.repeat(64),
    policyRuleId: 'prod-writes',
    decision: 'REQUIRE_APPROVAL',
    approvalsRequired: 1,
    approverRoles: ['sre'],
    pendingSince: new Date(NOW.getTime() - 60_000),
    dueAt: new Date(NOW.getTime() + 3_600_000),
    ...over,
  });
}

function setup(...items: ApprovalItemEntity[]) {
  const store = new FakeApprovalsStore().seed(...items);
  const clock: Clock & { at: Date } = { at: NOW, now: () => clock.at };
  const sut = new ReviewJobUseCase(
    store,
    new ApprovalEvents(signerFromPem(keys.privateKeyPem)),
    new ApprovalMetrics(),
    clock,
  );
  return { sut, store, clock };
}

const bob = { sub: 'bob@acme.example', roles: ['sre'], tenants: ['acme'] };
const carol = { sub: 'carol@acme.example', roles: ['sre'], tenants: ['acme'] };

function cmd(over: Partial<ReviewJobCommand> = {}): ReviewJobCommand {
  return { jobId: 'job-1', action: 'approve', reviewer: bob, reason: null, note: null, ...over };
}

async function refusal(p: Promise<unknown>): Promise<CodedError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CodedError);
  return e as CodedError;
}

describe('ReviewJobUseCase', () => {
  it('resolves a one-approval item and publishes a signed approval.resolved after the commit', async () => {
    const { sut, store } = setup(pending());

    const result = await sut.execute(cmd({ note: 'checked the plan' }));

    expect(result).toMatchObject({ job: { id: 'job-1', state: 'APPROVED' }, approvals_required: 1 });
    expect(store.item('job-1')).toMatchObject({ state: 'APPROVED', resolvedBy: bob.sub, resolvedAt: NOW });
    expect(store.actionsOf('job-1')).toEqual([
      { actor: bob.sub, role: 'sre', action: 'approve', reason: null, note: 'checked the plan', at: NOW },
    ]);
    expect(store.published).toHaveLength(1);
    const [out] = store.published;
    expect(out!.topic).toBe(Topics.ApprovalResolved);
    expect(out!.key).toBe('job-1');
    const event = out!.event as ApprovalResolvedV1;
    expect(event.data).toMatchObject({
      job_id: 'job-1',
      resolution: 'APPROVED',
      job_hash: 'a'.repeat(64),
      resolved_by: bob.sub,
    });
    expect(verifyEvent(event as unknown as Record<string, unknown>, trusted)).toEqual({ ok: true });
  });

  it('records the first of two approvals without resolving or publishing, and the second resolves', async () => {
    const { sut, store } = setup(pending({ approvalsRequired: 2 }));

    const first = await sut.execute(cmd());
    expect(first).toMatchObject({ job: { state: 'PENDING' }, approvals: [{ actor: bob.sub }] });
    expect(store.item('job-1')?.state).toBe('PENDING');
    expect(store.published).toEqual([]);

    await sut.execute(cmd({ reviewer: carol }));
    expect(store.item('job-1')?.state).toBe('APPROVED');
    expect(store.actionsOf('job-1').map((a) => a.actor)).toEqual([bob.sub, carol.sub]);
    expect(store.published.map((p) => (p.event as ApprovalResolvedV1).data.approvals.length)).toEqual([2]);
  });

  it('refuses the requester approving their own job and writes nothing', async () => {
    const { sut, store } = setup(pending({ requestedBy: ' Bob@Acme.Example ' }));

    const e = await refusal(sut.execute(cmd()));

    expect(e.code).toBe('SELF_APPROVAL');
    expect(store.actionsOf('job-1')).toEqual([]);
    expect(store.item('job-1')?.state).toBe('PENDING');
    expect(store.published).toEqual([]);
  });

  it.each([
    ['a reviewer without the role', { ...bob, roles: ['finance'] }, 'ROLE_NOT_ALLOWED'],
    ['a reviewer of another tenant', { ...bob, tenants: ['globex'] }, 'TENANT_NOT_ALLOWED'],
  ])('refuses %s', async (_what, reviewer, code) => {
    const { sut, store } = setup(pending());
    expect((await refusal(sut.execute(cmd({ reviewer })))).code).toBe(code);
    expect(store.actionsOf('job-1')).toEqual([]);
  });

  it('refuses a second decision by the same reviewer', async () => {
    const { sut } = setup(pending({ approvalsRequired: 2 }));
    await sut.execute(cmd());
    expect((await refusal(sut.execute(cmd({ reviewer: { ...bob, sub: 'BOB@acme.example' } })))).code).toBe(
      'ALREADY_DECIDED_BY_ACTOR',
    );
  });

  it('asks for a reason on a rejection, naming the field', async () => {
    const { sut } = setup(pending());
    const e = await refusal(sut.execute(cmd({ action: 'reject', reason: '   ' })));
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.details).toEqual({ field: 'reason' });
  });

  it('rejects with the reason as the resolution comment', async () => {
    const { sut, store } = setup(pending());
    await sut.execute(cmd({ action: 'reject', reason: 'wrong maintenance window' }));
    expect(store.item('job-1')).toMatchObject({ state: 'REJECTED', resolvedComment: 'wrong maintenance window' });
    expect((store.published[0]!.event as ApprovalResolvedV1).data.resolution).toBe('REJECTED');
  });

  it('expires an item reviewed after its SLA, commits the expiry and refuses the action', async () => {
    const { sut, store, clock } = setup(pending());
    clock.at = new Date(NOW.getTime() + 2 * 3_600_000);

    const e = await refusal(sut.execute(cmd()));

    expect(e.code).toBe('ALREADY_RESOLVED');
    expect(e.details).toMatchObject({ resolution: { resolution: 'EXPIRED', resolved_by: 'system:sla' } });
    expect(store.item('job-1')?.state).toBe('EXPIRED');
    expect(store.actionsOf('job-1')).toEqual([]);
    expect((store.published[0]!.event as ApprovalResolvedV1).data.resolution).toBe('EXPIRED');
  });

  it('answers NOT_FOUND for a job the queue has no approval for (also one still awaiting its decision)', async () => {
    const { sut } = setup(approvalItem({ jobId: 'job-2' }));
    expect((await refusal(sut.execute(cmd({ jobId: 'job-404' })))).code).toBe('NOT_FOUND');
    expect((await refusal(sut.execute(cmd({ jobId: 'job-2' })))).code).toBe('NOT_FOUND');
  });

  it('leaves no trace when the outbox write fails: the action and the resolution roll back together', async () => {
    const { sut, store } = setup(pending());
    store.failOn('enqueue', new Error('connection terminated'));

    await expect(sut.execute(cmd())).rejects.toThrow('connection terminated');

    expect(store.item('job-1')?.state).toBe('PENDING');
    expect(store.actionsOf('job-1')).toEqual([]);
    expect(store.published).toEqual([]);
    await sut.execute(cmd());
    expect(store.item('job-1')?.state).toBe('APPROVED');
  });
});
