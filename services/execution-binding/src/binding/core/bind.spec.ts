import {
  exampleEvents,
  type ApprovalResolvedData,
  type DecisionMadeData,
  type JobProposedData,
} from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { bind, lateFactReport, reviewerReason } from './bind';
import type { JobFacts } from './job-facts';

const t0 = new Date('2026-11-24T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const opts = { incompleteAfterMs: 60_000 };
const snapshot = `cfg:system:policy#sha256:${'a'.repeat(64)}`;
const otherSnapshot = `cfg:tenant:acme:policy#sha256:${'c'.repeat(64)}`;

/** The shared fixture job, with a summary that names no effect. */
const proposalData: JobProposedData = {
  ...(exampleEvents['job.proposed'].data as JobProposedData),
  summary: { title: 'Roll out api v2' },
  proposed_at: t0.toISOString(),
};
const hash = jobHash(proposalData);

function decisionData(over: Partial<DecisionMadeData> = {}): DecisionMadeData {
  return {
    ...(exampleEvents['decision.made'].data as DecisionMadeData),
    job_hash: hash,
    constraints: { max_runtime_sec: 60 },
    approval: {
      approvals_required: 1,
      approver_roles: ['owner'],
      sla_seconds: 1800,
      escalate_after_seconds: null,
      escalation_roles: [],
    },
    decision_summary: { title: 't', why: 'w', next_effect: 'n' },
    decided_at: t0.toISOString(),
    ...over,
  };
}

function resolutionData(over: Partial<ApprovalResolvedData> = {}): ApprovalResolvedData {
  return {
    job_id: 'job-1',
    tenant: 'acme',
    resolution: 'APPROVED',
    job_hash: hash,
    policy_snapshot: snapshot,
    approvals: [{ actor: 'bob', role: 'owner', action: 'approve', reason: null, note: null, at: t0.toISOString() }],
    resolved_by: 'bob',
    resolved_comment: null,
    resolved_at: t0.toISOString(),
    ...over,
  };
}

const proposal = (data: JobProposedData = proposalData) => ({ eventId: 'p1', data, receivedAt: t0 });
const decision = (over: Partial<DecisionMadeData> = {}, signatureError: string | null = null, receivedAt = t0) => ({
  eventId: 'd1',
  data: decisionData(over),
  signatureError,
  receivedAt,
});
const resolution = (over: Partial<ApprovalResolvedData> = {}, signatureError: string | null = null) => ({
  eventId: 'r1',
  data: resolutionData(over),
  signatureError,
  receivedAt: t0,
});

function facts(over: Partial<JobFacts> = {}): JobFacts {
  return {
    jobId: 'job-1',
    firstSeenAt: t0,
    proposal: null,
    decision: null,
    resolution: null,
    duplicate: null,
    ...over,
  };
}

describe('bind', () => {
  describe('executes only when every check holds', () => {
    it.each(['ALLOW', 'ALLOW_WITH_CONSTRAINTS'] as const)(
      '%s executes with the decision constraints, its own hash and the snapshot',
      (d) => {
        const sut = bind(
          facts({ proposal: proposal(), decision: decision({ decision: d, approval: null }) }),
          t0,
          opts,
        );
        expect(sut).toEqual({
          action: 'execute',
          constraints: { max_runtime_sec: 60 },
          jobHash: hash,
          policySnapshot: snapshot,
        });
      },
    );

    it('REQUIRE_APPROVAL + APPROVED with matching hash and snapshot executes', () => {
      const sut = bind(facts({ proposal: proposal(), decision: decision(), resolution: resolution() }), t0, opts);
      expect(sut).toMatchObject({ action: 'execute', jobHash: hash, policySnapshot: snapshot });
    });

    it('hashes the stored proposal itself (tag order and key order do not matter)', () => {
      const reordered = {
        ...proposalData,
        risk_tags: ['write', 'prod'],
        payload: { version: '2.0.0', service: 'api' },
      };
      const sut = bind(facts({ proposal: proposal(reordered), decision: decision({ decision: 'ALLOW' }) }), t0, opts);
      expect(sut.action).toBe('execute');
    });
  });

  describe('waits for missing facts', () => {
    it.each([
      ['only a proposal', { proposal: proposal() }, ['decision']],
      ['only a decision', { decision: decision() }, ['proposal']],
      ['only a resolution', { resolution: resolution() }, ['proposal', 'decision']],
      ['a decision and a resolution', { decision: decision(), resolution: resolution() }, ['proposal']],
      ['a proposal and a resolution', { proposal: proposal(), resolution: resolution() }, ['decision']],
    ] as const)('with %s', (_name, partial, waitingFor) => {
      expect(bind(facts(partial), at(1000), opts)).toEqual({ action: 'wait', waitingFor, until: at(60_000) });
    });

    it('waits for the resolution of a gated job until its SLA plus the grace has passed since the decision arrived', () => {
      const f = facts({ proposal: proposal(), decision: decision({}, null, at(5000)) });
      expect(bind(f, at(10_000), opts)).toEqual({
        action: 'wait',
        waitingFor: ['resolution'],
        until: at(5000 + 1800_000 + 60_000),
      });
    });

    it('does not block a gated job INCOMPLETE at the ordinary timeout', () => {
      const f = facts({ proposal: proposal(), decision: decision() });
      expect(bind(f, at(60_000), opts).action).toBe('wait');
    });
  });

  describe('INCOMPLETE', () => {
    it('blocks a job still missing its decision once the timeout has passed since the first fact', () => {
      const sut = bind(facts({ proposal: proposal() }), at(60_000), opts);
      expect(sut).toMatchObject({
        action: 'block',
        reason: 'INCOMPLETE',
        detail: expect.stringContaining('decision.made'),
      });
    });

    it('blocks a job whose proposal never came', () => {
      const sut = bind(facts({ decision: decision(), resolution: resolution() }), at(61_000), opts);
      expect(sut).toMatchObject({ reason: 'INCOMPLETE', detail: expect.stringContaining('job.proposed') });
    });

    it('blocks a gated job whose resolution never came once SLA + grace has passed', () => {
      const sut = bind(facts({ proposal: proposal(), decision: decision() }), at(1800_000 + 60_000), opts);
      expect(sut).toMatchObject({ reason: 'INCOMPLETE', detail: expect.stringContaining('approval.resolved') });
    });

    it('treats a gated decision without an approval requirement as SLA 0', () => {
      const sut = bind(facts({ proposal: proposal(), decision: decision({ approval: null }) }), at(60_000), opts);
      expect(sut).toMatchObject({ reason: 'INCOMPLETE' });
    });
  });

  describe('block reasons', () => {
    it('DENY -> DENIED with the policy reason', () => {
      const sut = bind(
        facts({ proposal: proposal(), decision: decision({ decision: 'DENY', policy_reason: 'no prod deletes' }) }),
        t0,
        opts,
      );
      expect(sut).toEqual({
        action: 'block',
        reason: 'DENIED',
        detail: expect.stringContaining('prod-write-gate'),
        reasonText: 'no prod deletes',
      });
    });

    it('REJECTED carries the reviewer reason', () => {
      const approvals = [
        {
          actor: 'carol',
          role: 'owner',
          action: 'reject' as const,
          reason: 'wrong window',
          note: null,
          at: t0.toISOString(),
        },
      ];
      const sut = bind(
        facts({
          proposal: proposal(),
          decision: decision(),
          resolution: resolution({ resolution: 'REJECTED', approvals, resolved_by: 'carol' }),
        }),
        t0,
        opts,
      );
      expect(sut).toEqual({
        action: 'block',
        reason: 'REJECTED',
        detail: 'rejected by carol',
        reasonText: 'wrong window',
      });
    });

    it('EXPIRED', () => {
      const sut = bind(
        facts({
          proposal: proposal(),
          decision: decision(),
          resolution: resolution({ resolution: 'EXPIRED', approvals: [] }),
        }),
        t0,
        opts,
      );
      expect(sut).toMatchObject({ action: 'block', reason: 'EXPIRED' });
    });

    it.each<[string, Partial<JobFacts>, Record<string, unknown>]>([
      [
        'BAD_SIGNATURE on the decision, even before the proposal arrived',
        { decision: decision({}, 'unknown signing key abc') },
        { reason: 'BAD_SIGNATURE', detail: expect.stringContaining('unknown signing key abc') },
      ],
      [
        'BAD_SIGNATURE on the resolution, even for an otherwise perfect approval',
        { proposal: proposal(), decision: decision(), resolution: resolution({}, 'signature does not verify') },
        { reason: 'BAD_SIGNATURE', detail: expect.stringContaining('approval.resolved r1') },
      ],
      [
        'BAD_SIGNATURE on a forged duplicate',
        {
          proposal: proposal(),
          decision: decision(),
          duplicate: { kind: 'resolution', eventId: 'r9', signatureError: 'no signature' },
        },
        { reason: 'BAD_SIGNATURE', detail: expect.stringContaining('r9') },
      ],
      [
        'HASH_MISMATCH when the decision hashed another job',
        { proposal: proposal(), decision: decision({ decision: 'ALLOW', job_hash: 'f'.repeat(64) }) },
        { reason: 'HASH_MISMATCH', detail: expect.stringContaining('decision.made') },
      ],
      [
        'HASH_MISMATCH when the stored payload is not the one that was decided (payload changed)',
        {
          proposal: proposal({ ...proposalData, payload: { service: 'api', version: '3.0.0' } }),
          decision: decision(),
          resolution: resolution(),
        },
        { reason: 'HASH_MISMATCH' },
      ],
      [
        'HASH_MISMATCH when the stored proposal names another requester than the one decided and approved',
        {
          proposal: proposal({ ...proposalData, requested_by: 'mallory' }),
          decision: decision(),
          resolution: resolution(),
        },
        { reason: 'HASH_MISMATCH', detail: expect.stringContaining('decision.made') },
      ],
      [
        'HASH_MISMATCH when the approval was for another job hash',
        { proposal: proposal(), decision: decision(), resolution: resolution({ job_hash: 'e'.repeat(64) }) },
        { reason: 'HASH_MISMATCH', detail: expect.stringContaining('approval.resolved') },
      ],
      [
        'SNAPSHOT_MISMATCH when the approval names another policy snapshot',
        { proposal: proposal(), decision: decision(), resolution: resolution({ policy_snapshot: otherSnapshot }) },
        { reason: 'SNAPSHOT_MISMATCH' },
      ],
    ])('%s', (_what, over, expected) => {
      expect(bind(facts(over), t0, opts)).toMatchObject(expected);
    });

    it.each(['ALLOW', 'ALLOW_WITH_CONSTRAINTS', 'DENY'] as const)('UNEXPECTED_RESOLUTION for a %s decision', (d) => {
      const sut = bind(
        facts({ proposal: proposal(), decision: decision({ decision: d }), resolution: resolution() }),
        t0,
        opts,
      );
      expect(sut).toMatchObject({ reason: 'UNEXPECTED_RESOLUTION' });
    });

    it.each(['proposal', 'decision', 'resolution'] as const)('DUPLICATE for a second %s before binding', (kind) => {
      const sut = bind(
        facts({ proposal: proposal(), decision: decision(), duplicate: { kind, eventId: 'x2', signatureError: null } }),
        t0,
        opts,
      );
      expect(sut).toMatchObject({ reason: 'DUPLICATE', detail: expect.stringContaining('x2') });
    });
  });

  describe('UNSAFE_PAYLOAD (a reserved key the decision let through)', () => {
    // Raw JSON text: JSON.parse keeps "__proto__" as an own key, as the stored proposal has it.
    const unsafe = (payloadJson: string): JobProposedData => ({
      ...proposalData,
      payload: JSON.parse(payloadJson) as Record<string, unknown>,
    });
    const gated = (data: JobProposedData, over: Partial<DecisionMadeData> = {}) =>
      facts({
        proposal: proposal(data),
        decision: decision({ job_hash: jobHash(data), ...over }),
        resolution: resolution({ job_hash: jobHash(data) }),
      });

    it.each([
      ['{"service":"api","opts":{"__proto__":{"admin":true}}}', 'payload.opts.__proto__'],
      ['{"steps":[{"constructor":{"x":1}}]}', 'payload.steps[0].constructor'],
      ['{"prototype":1}', 'payload.prototype'],
    ])('refuses %s even when approved, naming %s', (text, path) => {
      const sut = bind(gated(unsafe(text)), t0, opts);
      expect(sut).toMatchObject({ action: 'block', reason: 'UNSAFE_PAYLOAD', reasonText: null });
      expect(sut.action === 'block' && sut.detail).toContain(`reserved key ${path} (`);
      expect(sut.action === 'block' && sut.detail).toContain(
        'decision.made d1 (REQUIRE_APPROVAL by prod-write-gate) is not acted on',
      );
    });

    it.each(['ALLOW', 'ALLOW_WITH_CONSTRAINTS'] as const)('refuses it under %s without waiting for anything', (d) => {
      const data = unsafe('{"a":[{"b":{"__proto__":null}}]}');
      const f = facts({
        proposal: proposal(data),
        decision: decision({ decision: d, approval: null, job_hash: jobHash(data) }),
      });
      expect(bind(f, t0, opts)).toMatchObject({ action: 'block', reason: 'UNSAFE_PAYLOAD' });
    });

    it('refuses a gated job at once, before its resolution', () => {
      const data = unsafe('{"a":{"__proto__":1}}');
      const f = facts({ proposal: proposal(data), decision: decision({ job_hash: jobHash(data) }) });
      expect(bind(f, t0, opts)).toMatchObject({ action: 'block', reason: 'UNSAFE_PAYLOAD' });
    });

    it('leaves a DENY as DENIED, the outcome the agent gets from policy', () => {
      const data = unsafe('{"a":{"__proto__":1}}');
      const f = facts({
        proposal: proposal(data),
        decision: decision({
          decision: 'DENY',
          approval: null,
          policy_rule_id: 'countersign:reserved-key',
          job_hash: jobHash(data),
        }),
      });
      expect(bind(f, t0, opts)).toMatchObject({ action: 'block', reason: 'DENIED' });
    });

    it('reports a hash mismatch first (integrity before meaning)', () => {
      const f = gated(unsafe('{"a":{"__proto__":1}}'), { job_hash: 'f'.repeat(64) });
      expect(bind(f, t0, opts)).toMatchObject({ reason: 'HASH_MISMATCH' });
    });

    it('executes look-alike keys and reserved words in values', () => {
      const data = unsafe('{"Constructor":1,"__proto":2,"v":"__proto__"}');
      expect(bind(gated(data), t0, opts)).toMatchObject({ action: 'execute', jobHash: jobHash(data) });
    });
  });

  describe('reports the first failing check', () => {
    it('signature before duplicate, hash, denial and completeness', () => {
      const f = facts({
        decision: decision({ decision: 'DENY', job_hash: 'f'.repeat(64) }, 'bad'),
        duplicate: { kind: 'proposal', eventId: 'p2', signatureError: null },
      });
      expect(bind(f, at(999_999), opts)).toMatchObject({ reason: 'BAD_SIGNATURE' });
    });

    it('duplicate before completeness', () => {
      expect(
        bind(
          facts({ proposal: proposal(), duplicate: { kind: 'proposal', eventId: 'p2', signatureError: null } }),
          t0,
          opts,
        ),
      ).toMatchObject({
        reason: 'DUPLICATE',
      });
    });

    it('decision hash before an unexpected resolution and before the denial', () => {
      const f = facts({
        proposal: proposal(),
        decision: decision({ decision: 'DENY', job_hash: 'f'.repeat(64) }),
        resolution: resolution(),
      });
      expect(bind(f, t0, opts)).toMatchObject({ reason: 'HASH_MISMATCH' });
    });

    it('an unexpected resolution before the denial', () => {
      const f = facts({
        proposal: proposal(),
        decision: decision({ decision: 'DENY' }),
        resolution: resolution({ resolution: 'REJECTED' }),
      });
      expect(bind(f, t0, opts)).toMatchObject({ reason: 'UNEXPECTED_RESOLUTION' });
    });

    it('resolution hash before snapshot before verdict', () => {
      const bad = resolution({ resolution: 'REJECTED', job_hash: 'e'.repeat(64), policy_snapshot: otherSnapshot });
      expect(bind(facts({ proposal: proposal(), decision: decision(), resolution: bad }), t0, opts)).toMatchObject({
        reason: 'HASH_MISMATCH',
      });
      const bad2 = resolution({ resolution: 'REJECTED', policy_snapshot: otherSnapshot });
      expect(bind(facts({ proposal: proposal(), decision: decision(), resolution: bad2 }), t0, opts)).toMatchObject({
        reason: 'SNAPSHOT_MISMATCH',
      });
    });
  });
});

describe('reviewerReason', () => {
  const reject = (reason: string | null, note: string | null) => ({
    actor: 'c',
    role: 'r',
    action: 'reject' as const,
    reason,
    note,
    at: t0.toISOString(),
  });
  it('prefers the reason on the reject, then its note, then the resolution comment', () => {
    expect(reviewerReason(resolutionData({ approvals: [reject('r', 'n')], resolved_comment: 'c' }))).toBe('r');
    expect(reviewerReason(resolutionData({ approvals: [reject(null, 'n')], resolved_comment: 'c' }))).toBe('n');
    expect(reviewerReason(resolutionData({ approvals: [reject(null, null)], resolved_comment: 'c' }))).toBe('c');
    expect(reviewerReason(resolutionData({ approvals: [], resolved_comment: null }))).toBeNull();
  });
});

describe('lateFactReport', () => {
  it('reports a late fact as DUPLICATE, the outcome standing', () => {
    expect(lateFactReport('decision', 'd2', null, 'executed')).toEqual({
      reason: 'DUPLICATE',
      detail: 'decision.made d2 arrived after the job was executed; ignored, the outcome stands',
    });
  });

  it('reports a forged late fact as BAD_SIGNATURE', () => {
    expect(lateFactReport('resolution', 'r2', 'no signature', 'released').reason).toBe('BAD_SIGNATURE');
  });
});
