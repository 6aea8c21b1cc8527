import { exampleEvents, type DecisionMadeData } from '@countersign/contracts';
import { planDecision, planProposal, screenProposal, type IntakeRow } from './intake-plan';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const NOW = new Date('2026-01-01T10:00:10.000Z');

const fresh: IntakeRow = {
  state: 'AWAITING_DECISION',
  proposalEventId: null,
  proposalHash: null,
  requestedBy: null,
  decisionEventId: null,
  jobHash: null,
};

function decision(over: Partial<DecisionMadeData> = {}): DecisionMadeData {
  return {
    ...(exampleEvents['decision.made'].data as DecisionMadeData),
    job_id: 'j1',
    job_hash: H1,
    approval: {
      approvals_required: 2,
      approver_roles: ['service-owner'],
      sla_seconds: 600,
      escalate_after_seconds: 300,
      escalation_roles: ['oncall'],
    },
    decided_at: '2026-01-01T10:00:00.000Z',
    ...over,
  };
}

describe('screenProposal', () => {
  // Raw JSON text: JSON.parse keeps "__proto__" as an own key, as every consumer receives it.
  const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;
  const nested = (depth: number) => parse(`${'{"d":'.repeat(depth - 1)}{"leaf":1}${'}'.repeat(depth - 1)}`);

  it('stores an ordinary payload, 64 levels deep included', () => {
    expect(screenProposal(parse('{"a":[1,{"b":"c"}],"clé":-0.5}'))).toEqual({ kind: 'store' });
    expect(screenProposal(nested(64))).toEqual({ kind: 'store' });
  });

  it.each([
    ['{"a":{"__proto__":{"admin":true}}}', 'payload.a.__proto__'],
    ['{"items":[{"constructor":1}]}', 'payload.items[0].constructor'],
    ['{"prototype":null}', 'payload.prototype'],
  ])('keeps nothing of %s (policy denies it) and says where', (text, path) => {
    const screen = screenProposal(parse(text));
    expect(screen).toMatchObject({ kind: 'skip' });
    expect(screen.kind === 'skip' && screen.reason).toContain(`reserved key at ${path}`);
  });

  it('refuses a payload deeper than the view shows, rather than showing part of it', () => {
    const screen = screenProposal(nested(65));
    expect(screen).toMatchObject({ kind: 'refuse' });
    expect(screen.kind === 'refuse' && screen.reason).toMatch(
      /cannot be shown to reviewers whole: .*nested deeper than 64 levels/,
    );
  });
});

describe('planProposal', () => {
  const p = { eventId: 'e1', hash: H1, requestedBy: 'alice' };

  it('attaches the first proposal of a job, before or after its decision', () => {
    expect(planProposal(fresh, p)).toEqual({ kind: 'attach' });
    expect(planProposal({ ...fresh, state: 'PENDING', decisionEventId: 'd1', jobHash: H1 }, p)).toEqual({
      kind: 'attach',
    });
    expect(planProposal({ ...fresh, state: 'EXPIRED', decisionEventId: 'd1', jobHash: H1 }, p)).toEqual({
      kind: 'attach',
    });
  });

  it('ignores a redelivery quietly', () => {
    expect(planProposal({ ...fresh, proposalEventId: 'e1', proposalHash: H1, requestedBy: 'alice' }, p)).toMatchObject({
      kind: 'ignore',
      warn: false,
    });
  });

  it('keeps the first proposal when another one for the job arrives, and warns when it differs', () => {
    const stored = { ...fresh, proposalEventId: 'e0', proposalHash: H1, requestedBy: 'alice' };
    expect(planProposal(stored, p)).toMatchObject({ kind: 'ignore', warn: false });
    expect(planProposal(stored, { ...p, requestedBy: 'mallory' })).toMatchObject({ kind: 'ignore', warn: true });
    expect(planProposal(stored, { ...p, hash: H2 })).toMatchObject({ kind: 'ignore', warn: true });
  });

  it('refuses a proposal that is not the decided job', () => {
    expect(planProposal({ ...fresh, state: 'PENDING', decisionEventId: 'd1', jobHash: H2 }, p)).toMatchObject({
      kind: 'mismatch',
    });
  });

  it('does not keep proposals of jobs that need no approval', () => {
    expect(planProposal({ ...fresh, state: 'NOT_REQUIRED', decisionEventId: 'd1', jobHash: H1 }, p)).toMatchObject({
      kind: 'ignore',
    });
  });
});

describe('planDecision', () => {
  it('opens a pending item with deadlines from the decision time', () => {
    expect(planDecision(fresh, 'd1', decision(), NOW)).toEqual({
      kind: 'pending',
      requirement: decision().approval,
      pendingSince: new Date('2026-01-01T10:00:00.000Z'),
      dueAt: new Date('2026-01-01T10:10:00.000Z'),
      escalateAt: new Date('2026-01-01T10:05:00.000Z'),
      dropProposal: false,
    });
  });

  it('keeps a matching proposal and drops one that is not the decided job', () => {
    expect(planDecision({ ...fresh, proposalEventId: 'e1', proposalHash: H1 }, 'd1', decision(), NOW)).toMatchObject({
      dropProposal: false,
    });
    expect(planDecision({ ...fresh, proposalEventId: 'e1', proposalHash: H2 }, 'd1', decision(), NOW)).toMatchObject({
      dropProposal: true,
    });
  });

  it.each(['ALLOW', 'ALLOW_WITH_CONSTRAINTS', 'DENY'] as const)(
    'records a %s decision as not needing approval',
    (d) => {
      expect(planDecision(fresh, 'd1', decision({ decision: d, approval: null }), NOW)).toEqual({
        kind: 'not-required',
        dropProposal: true,
      });
    },
  );

  it('refuses REQUIRE_APPROVAL without a requirement', () => {
    expect(planDecision(fresh, 'd1', decision({ approval: null }), NOW)).toMatchObject({ kind: 'poison' });
  });

  it('keeps the first decision of a job', () => {
    const decided = { ...fresh, state: 'PENDING' as const, decisionEventId: 'd0', jobHash: H1 };
    expect(planDecision(decided, 'd0', decision(), NOW)).toMatchObject({ kind: 'ignore', warn: false });
    expect(planDecision(decided, 'd1', decision(), NOW)).toMatchObject({ kind: 'ignore', warn: false });
    expect(planDecision(decided, 'd1', decision({ job_hash: H2 }), NOW)).toMatchObject({ kind: 'ignore', warn: true });
  });
});
