import type { AuditRecord } from '@countersign/contracts';
import { buildJobTimeline, policyUrl } from './job-timeline';

const snapshot = `cfg:system:policy#sha256:${'a'.repeat(64)}`;
let seq = 0;
function record(event_type: string, data: Record<string, unknown>, over: Partial<AuditRecord> = {}): AuditRecord {
  seq += 1;
  return {
    seq,
    prev_hash: '0'.repeat(64),
    record_hash: String(seq).padStart(64, '0'),
    source_topic: event_type,
    source_event_id: `e-${seq}`,
    event_type,
    job_id: 'job-1',
    tenant: 'acme',
    recorded_at: '2026-11-24T10:00:00.000Z',
    body: { event_id: `e-${seq}`, type: event_type, producer: 'p', data },
    ...over,
  };
}

describe('buildJobTimeline', () => {
  beforeEach(() => (seq = 0));

  it('tells the story in chain order with the policy link, approvers and outcome', () => {
    const records = [
      record('job.proposed', {
        job_id: 'job-1',
        agent_id: 'bot',
        topic: 'job.deploy.rollout',
        requested_by: 'alice',
        proposed_at: 't0',
      }),
      record('decision.made', {
        decision: 'REQUIRE_APPROVAL',
        policy_snapshot: snapshot,
        policy_rule_id: 'prod-write-gate',
        policy_reason: 'prod',
      }),
      record('approval.resolved', {
        resolution: 'APPROVED',
        approvals: [
          { actor: 'bob', role: 'service-owner', action: 'approve', reason: 'looks right', note: null, at: 't2' },
        ],
        resolved_by: 'bob',
        policy_snapshot: snapshot,
      }),
      record('job.released', { policy_snapshot: snapshot }),
      record('job.executed', { executor: 'http', status: 'SUCCEEDED', attempts: 1 }),
    ];
    const sut = buildJobTimeline('job-1', [...records].reverse());
    expect(sut.steps.map((s) => s.kind)).toEqual(['proposed', 'decided', 'resolved', 'released', 'executed']);
    expect(sut).toMatchObject({
      job_id: 'job-1',
      tenant: 'acme',
      outcome: 'executed',
      policy_snapshot: snapshot,
      policy_url: policyUrl(snapshot),
    });
    expect(sut.steps[1]).toMatchObject({
      kind: 'decided',
      policy_rule_id: 'prod-write-gate',
      policy_url: `/api/v1/policy/snapshots/${encodeURIComponent(snapshot)}`,
    });
    expect(sut.steps[2]).toMatchObject({ kind: 'resolved', approvals: [{ actor: 'bob', reason: 'looks right' }] });
  });

  it('ends in blocked with the reason', () => {
    const records = [
      record('job.proposed', {}),
      record('decision.made', { decision: 'DENY', policy_snapshot: snapshot }),
      record('job.blocked', { reason_code: 'DENIED', detail: 'policy denies', reason_text: null }, { tenant: null }),
    ];
    const sut = buildJobTimeline('job-1', records);
    expect(sut.outcome).toBe('blocked');
    expect(sut.steps[2]).toMatchObject({ kind: 'blocked', reason_code: 'DENIED' });
  });

  it('keeps the outcome when a block is only reported after it (a late duplicate or forgery)', () => {
    const sut = buildJobTimeline('job-1', [
      record('job.executed', { status: 'SUCCEEDED' }),
      record('job.blocked', { reason_code: 'EVENT_ID_CONFLICT', detail: 'forged', report_only: true }),
    ]);
    expect(sut.outcome).toBe('executed');
    expect(sut.steps[1]).toMatchObject({ kind: 'blocked', reason_code: 'EVENT_ID_CONFLICT', report_only: true });
  });

  it('waits for approval after a gated decision', () => {
    expect(
      buildJobTimeline('job-1', [record('job.proposed', {}), record('decision.made', { decision: 'REQUIRE_APPROVAL' })])
        .outcome,
    ).toBe('awaiting_approval');
  });

  it('shows a failed execution', () => {
    expect(buildJobTimeline('job-1', [record('job.executed', { status: 'FAILED' })]).outcome).toBe('execution_failed');
  });

  it('includes rejected input about the job', () => {
    const rejected = record(
      'rejected_input',
      {},
      {
        body: {
          source_topic: 'approval.resolved',
          consumer: 'execution-binding',
          error: 'bad signature',
          failed_at: 't',
        },
      },
    );
    const sut = buildJobTimeline('job-1', [rejected]);
    expect(sut.steps[0]).toMatchObject({
      kind: 'rejected_input',
      rejected_topic: 'approval.resolved',
      consumer: 'execution-binding',
    });
    expect(sut.outcome).toBe('unknown');
    expect(sut.policy_url).toBeNull();
  });

  it('takes the tenant from any record that has one', () => {
    expect(
      buildJobTimeline('job-1', [record('job.blocked', {}, { tenant: null }), record('job.proposed', {})]).tenant,
    ).toBe('acme');
  });

  describe('signatures', () => {
    const v2 = (signature: AuditRecord['signature'], over: Partial<AuditRecord> = {}): Partial<AuditRecord> => ({
      format: 2,
      kind: 'event',
      digest: 'd'.repeat(64),
      signature,
      signature_reason: signature === 'invalid' ? 'signature does not verify' : null,
      redaction: null,
      conflict: null,
      ...over,
    });

    it('calls a step signed only when audit verified its signature', () => {
      const sut = buildJobTimeline('job-1', [
        record('decision.made', { decision: 'ALLOW' }, v2('verified')),
        record('approval.resolved', { resolution: 'APPROVED' }, v2('invalid')),
        // A record from before audit checked signatures: a signature field proves nothing.
        record('job.released', {}, { body: { producer: 'p', data: {}, signature: { alg: 'Ed25519' } } }),
      ]);
      expect(sut.steps.map((s) => ('signed' in s ? s.signed : undefined))).toEqual([true, false, false]);
      expect(sut.steps.map((s) => s.signature)).toEqual(['verified', 'invalid', null]);
      expect(sut.steps[1]).toMatchObject({ signature_reason: 'signature does not verify' });
    });

    it('does not let a forged event decide the outcome', () => {
      const sut = buildJobTimeline('job-1', [
        record('decision.made', { decision: 'REQUIRE_APPROVAL' }, v2('verified')),
        record('job.executed', { status: 'SUCCEEDED' }, v2('invalid')),
      ]);
      expect(sut.outcome).toBe('awaiting_approval');
      expect(sut.steps[1]).toMatchObject({ kind: 'executed', signature: 'invalid' });
    });

    it('shows a conflicting body as a conflict, naming the first record and both digests', () => {
      const sut = buildJobTimeline('job-1', [
        record('approval.resolved', { resolution: 'APPROVED' }, v2('verified')),
        record(
          'approval.resolved',
          { resolution: 'APPROVED', job_id: 'job-1' },
          v2('invalid', {
            kind: 'conflict',
            digest: 'e'.repeat(64),
            conflict: { first_seq: 1, first_digest: 'd'.repeat(64) },
          }),
        ),
      ]);
      expect(sut.steps[0]!.conflict).toBeNull();
      expect(sut.steps[1]!.conflict).toEqual({ first_seq: 1, first_digest: 'd'.repeat(64), digest: 'e'.repeat(64) });
    });
  });
});
