import { Topics, type ApprovalEscalatedData, type ApprovalResolvedV1 } from '@countersign/contracts';
import { generateSigningKeyPair, signerFromPem } from '@countersign/crypto';
import type { Logger } from 'pino';
import { ApprovalEvents } from '../approvals/approval-events';
import type { ApprovalItemEntity } from '../approvals/approval-item.entity';
import { ApprovalMetrics } from '../approvals/approval-metrics';
import { approvalItem, FakeApprovalsStore } from '../approvals/approvals-store.fake';
import type { Clock } from '@countersign/clock';
import { EscalationWebhook } from './escalation-webhook';
import { SweepApprovalsUseCase } from './sweep-approvals.use-case';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);
const signer = signerFromPem(generateSigningKeyPair().privateKeyPem);

function pending(jobId: string, over: Partial<ApprovalItemEntity> = {}): ApprovalItemEntity {
  return approvalItem({
    jobId,
    state: 'PENDING',
    tenant: 'acme',
    proposalEventId: `evt-${jobId}`,
    requestedBy: 'alice@acme.example',
    jobHash: 'a'.repeat(64),
    policySnapshot: 'cfg:system:policy#sha256:' + 'b'.repeat(64),
    approvalsRequired: 1,
    approverRoles: ['sre'],
    approvalRequirement: {
      approvals_required: 1,
      approver_roles: ['sre'],
      sla_seconds: 3600,
      escalate_after_seconds: 600,
      escalation_roles: ['sre-lead'],
    },
    decisionSummary: { title: 'write to prod', why: 'rule prod-writes', next_effect: 'runs the migration' },
    pendingSince: minutes(-30),
    dueAt: minutes(30),
    ...over,
  });
}

/** Records what the webhook would have sent instead of calling the network. */
class RecordingWebhook extends EscalationWebhook {
  readonly sent: ApprovalEscalatedData[] = [];
  constructor() {
    super(undefined, 1000, {} as Logger);
  }
  override async notify(e: ApprovalEscalatedData): Promise<void> {
    this.sent.push(e);
  }
}

function setup(...items: ApprovalItemEntity[]) {
  const store = new FakeApprovalsStore().seed(...items);
  const webhook = new RecordingWebhook();
  const clock: Clock = { now: () => NOW };
  const sut = new SweepApprovalsUseCase(store, new ApprovalEvents(signer), new ApprovalMetrics(), webhook, clock);
  return { sut, store, webhook };
}

describe('SweepApprovalsUseCase', () => {
  it('expires only the overdue pending items, up to the batch size, each with its approval.resolved', async () => {
    const { sut, store } = setup(
      pending('late-1', { dueAt: minutes(-10) }),
      pending('late-2', { dueAt: minutes(-5) }),
      pending('late-3', { dueAt: minutes(-1) }),
      pending('on-time', { dueAt: minutes(5) }),
      pending('done', { dueAt: minutes(-20), state: 'APPROVED', resolvedAt: minutes(-25), resolvedBy: 'bob' }),
    );

    expect(await sut.expireDue(2)).toBe(2);
    expect(await sut.expireDue(2)).toBe(1);
    expect(await sut.expireDue(2)).toBe(0);

    expect(['late-1', 'late-2', 'late-3', 'on-time', 'done'].map((id) => store.item(id)?.state)).toEqual([
      'EXPIRED',
      'EXPIRED',
      'EXPIRED',
      'PENDING',
      'APPROVED',
    ]);
    expect(store.published.map((p) => [p.topic, p.key])).toEqual([
      [Topics.ApprovalResolved, 'late-1'],
      [Topics.ApprovalResolved, 'late-2'],
      [Topics.ApprovalResolved, 'late-3'],
    ]);
    expect((store.published[0]!.event as ApprovalResolvedV1).data).toMatchObject({
      resolution: 'EXPIRED',
      resolved_by: 'system:sla',
      resolved_at: NOW.toISOString(),
    });
  });

  it('escalates an item once, counting the approvals so far, and notifies after the commit', async () => {
    const { sut, store, webhook } = setup(
      pending('slow', { escalateAt: minutes(-1), approvalsRequired: 2 }),
      pending('not-yet', { escalateAt: minutes(1) }),
    );
    store.seedActions('slow', [
      { actor: 'bob', role: 'sre', action: 'approve', reason: null, note: null, at: minutes(-2) },
    ]);

    expect(await sut.escalateDue(10)).toBe(1);
    expect(await sut.escalateDue(10)).toBe(0);

    expect(store.item('slow')?.escalatedAt).toEqual(NOW);
    expect(store.item('not-yet')?.escalatedAt).toBeNull();
    expect(store.published.map((p) => [p.topic, p.key])).toEqual([[Topics.ApprovalEscalated, 'slow']]);
    expect(webhook.sent).toEqual([
      expect.objectContaining({
        job_id: 'slow',
        approvals_so_far: 1,
        approvals_required: 2,
        escalation_roles: ['sre-lead'],
      }),
    ]);
  });

  it('sends no notification for an escalation whose transaction failed, and escalates on the next sweep', async () => {
    const { sut, store, webhook } = setup(pending('slow', { escalateAt: minutes(-1) }));
    store.failOn('enqueue', new Error('connection terminated'));

    await expect(sut.escalateDue(10)).rejects.toThrow('connection terminated');
    expect(store.item('slow')?.escalatedAt).toBeNull();
    expect(webhook.sent).toEqual([]);

    expect(await sut.escalateDue(10)).toBe(1);
    expect(webhook.sent).toHaveLength(1);
  });
});
