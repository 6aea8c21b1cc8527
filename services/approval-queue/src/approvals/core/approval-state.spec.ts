import {
  actingRole,
  canSee,
  DEFAULT_APPROVER_ROLE,
  deadlines,
  review,
  sameActor,
  sweep,
  SLA_ACTOR,
  tenantAllowed,
  type ApprovalSnapshot,
  type RecordedAction,
  type ReviewCommand,
  type Reviewer,
} from './approval-state';

const T0 = new Date('2026-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function item(over: Partial<ApprovalSnapshot> = {}): ApprovalSnapshot {
  return {
    state: 'PENDING',
    tenant: 'acme',
    approvalsRequired: 1,
    approverRoles: ['service-owner'],
    requestedBy: 'alice',
    dueAt: at(3600),
    escalateAt: at(1800),
    escalatedAt: null,
    actions: [],
    resolution: null,
    ...over,
  };
}

const bob: Reviewer = { sub: 'bob', roles: ['service-owner'] };
const carol: Reviewer = { sub: 'carol', roles: ['sre', 'service-owner'] };

function cmd(over: Partial<ReviewCommand> = {}): ReviewCommand {
  return { action: 'approve', reviewer: bob, reason: null, note: null, now: at(60), ...over };
}

function approved(actor: string, role = 'service-owner', seconds = 30): RecordedAction {
  return { actor, role, action: 'approve', reason: null, note: null, at: at(seconds) };
}

describe('approval-state', () => {
  describe('who may act', () => {
    it('allows every tenant when the token names none, otherwise only the named ones', () => {
      expect(tenantAllowed({ sub: 'x', roles: [] }, 'acme')).toBe(true);
      expect(tenantAllowed({ sub: 'x', roles: [], tenants: ['acme'] }, 'acme')).toBe(true);
      expect(tenantAllowed({ sub: 'x', roles: [], tenants: ['globex'] }, 'acme')).toBe(false);
      expect(tenantAllowed({ sub: 'x', roles: [], tenants: [] }, 'acme')).toBe(false);
    });

    it('records the first of the reviewer roles that the item accepts', () => {
      expect(actingRole({ sub: 'c', roles: ['sre', 'finance', 'service-owner'] }, ['service-owner', 'finance'])).toBe(
        'finance',
      );
      expect(actingRole({ sub: 'c', roles: ['sre'] }, ['service-owner'])).toBeNull();
    });

    it('accepts only the default role when the item names none, never just any role', () => {
      expect(DEFAULT_APPROVER_ROLE).toBe('approver');
      expect(actingRole({ sub: 'c', roles: ['sre', 'approver'] }, [])).toBe('approver');
      expect(actingRole({ sub: 'c', roles: ['sre', 'x'] }, [])).toBeNull();
      expect(actingRole({ sub: 'c', roles: ['auditor'] }, [])).toBeNull();
      expect(actingRole({ sub: 'c', roles: ['operator'] }, [])).toBeNull();
      expect(actingRole({ sub: 'c', roles: [] }, [])).toBeNull();
      // A gate that names roles does not also admit the default role.
      expect(actingRole({ sub: 'c', roles: ['approver'] }, ['finance'])).toBeNull();
    });

    it('sees an item only with an accepted role in an allowed tenant', () => {
      expect(canSee(bob, { tenant: 'acme', approverRoles: ['service-owner'] })).toBe(true);
      expect(canSee(bob, { tenant: 'acme', approverRoles: ['finance'] })).toBe(false);
      expect(canSee({ ...bob, tenants: ['globex'] }, { tenant: 'acme', approverRoles: ['service-owner'] })).toBe(false);
      expect(canSee({ sub: 'x', roles: ['anything'] }, { tenant: 'acme', approverRoles: [] })).toBe(false);
      expect(canSee({ sub: 'x', roles: ['approver'] }, { tenant: 'acme', approverRoles: [] })).toBe(true);
    });

    it('compares actors without case or surrounding space', () => {
      expect(sameActor('Alice@Acme.test', ' alice@acme.test')).toBe(true);
      expect(sameActor('alice', 'alicia')).toBe(false);
    });
  });

  describe('deadlines', () => {
    it('counts the SLA from the decision time', () => {
      expect(deadlines(T0, at(5), 600, 300)).toEqual({ startedAt: T0, dueAt: at(600), escalateAt: at(300) });
    });

    it('never starts the clock later than intake (a decision stamped in the future by a skewed clock)', () => {
      expect(deadlines(at(100), T0, 600, null)).toEqual({ startedAt: T0, dueAt: at(600), escalateAt: null });
    });

    it('does not escalate when escalation would come at or after expiry', () => {
      expect(deadlines(T0, T0, 600, 600).escalateAt).toBeNull();
      expect(deadlines(T0, T0, 600, 900).escalateAt).toBeNull();
      expect(deadlines(T0, T0, 600, 599).escalateAt).toEqual(at(599));
    });
  });

  describe('review: refusals, in order', () => {
    it('refuses a tenant outside the token before anything else', () => {
      const out = review(item({ state: 'APPROVED' }), cmd({ reviewer: { ...bob, tenants: ['globex'] } }));
      expect(out).toMatchObject({ kind: 'refused', code: 'TENANT_NOT_ALLOWED' });
    });

    it('refuses a reviewer without an accepted role', () => {
      expect(review(item(), cmd({ reviewer: { sub: 'dave', roles: ['finance'] } }))).toMatchObject({
        kind: 'refused',
        code: 'ROLE_NOT_ALLOWED',
        message: expect.stringContaining('service-owner'),
      });
      expect(review(item({ approverRoles: [] }), cmd({ reviewer: { sub: 'dave', roles: [] } }))).toMatchObject({
        code: 'ROLE_NOT_ALLOWED',
      });
      expect(review(item({ approverRoles: [] }), cmd({ reviewer: { sub: 'erin', roles: ['auditor'] } }))).toMatchObject(
        {
          kind: 'refused',
          code: 'ROLE_NOT_ALLOWED',
          message: expect.stringContaining("default role 'approver'"),
        },
      );
      expect(
        review(item({ approverRoles: [] }), cmd({ reviewer: { sub: 'dave', roles: ['approver'] } })),
      ).toMatchObject({ kind: 'recorded' });
    });

    it.each(['APPROVED', 'REJECTED', 'EXPIRED'] as const)('refuses any action on an item already %s', (state) => {
      expect(review(item({ state }), cmd())).toMatchObject({ kind: 'refused', code: 'ALREADY_RESOLVED' });
      expect(review(item({ state }), cmd({ action: 'reject', reason: 'no' }))).toMatchObject({
        kind: 'refused',
        code: 'ALREADY_RESOLVED',
      });
    });

    it('refuses an approval while the proposal (and so the requester) is unknown: fail closed', () => {
      expect(review(item({ requestedBy: null }), cmd())).toMatchObject({ kind: 'refused', code: 'PROPOSAL_PENDING' });
    });

    it('lets a rejection through while the proposal is unknown', () => {
      expect(review(item({ requestedBy: null }), cmd({ action: 'reject', reason: 'not now' }))).toMatchObject({
        kind: 'recorded',
        resolution: { resolution: 'REJECTED' },
      });
    });

    it('refuses self-approval, whatever the case of the id', () => {
      expect(review(item({ requestedBy: 'BOB' }), cmd())).toMatchObject({ kind: 'refused', code: 'SELF_APPROVAL' });
    });

    it('lets the requester reject (withdraw) their own job', () => {
      expect(review(item({ requestedBy: 'bob' }), cmd({ action: 'reject', reason: 'withdrawn' }))).toMatchObject({
        kind: 'recorded',
      });
    });

    it('refuses a second action by the same actor', () => {
      const prior = item({ approvalsRequired: 2, actions: [approved('Bob')] });
      expect(review(prior, cmd())).toMatchObject({ kind: 'refused', code: 'ALREADY_DECIDED_BY_ACTOR' });
      expect(review(prior, cmd({ action: 'reject', reason: 'changed my mind' }))).toMatchObject({
        code: 'ALREADY_DECIDED_BY_ACTOR',
      });
    });

    it('refuses a rejection without a reason', () => {
      expect(review(item(), cmd({ action: 'reject', reason: null }))).toMatchObject({
        kind: 'refused',
        code: 'REASON_REQUIRED',
      });
      expect(review(item(), cmd({ action: 'reject', reason: '   ' }))).toMatchObject({
        kind: 'refused',
        code: 'REASON_REQUIRED',
      });
    });
  });

  describe('review: expiry on access', () => {
    it('expires an item whose due time has passed, at the due time exactly too', () => {
      for (const now of [at(3600), at(7200)]) {
        expect(review(item({ actions: [] }), cmd({ now }))).toEqual({
          kind: 'expire',
          resolution: {
            resolution: 'EXPIRED',
            resolvedBy: SLA_ACTOR,
            resolvedComment: expect.stringContaining('0 of 1'),
            resolvedAt: now,
          },
        });
      }
    });

    it('still accepts an action a millisecond before the due time', () => {
      expect(review(item(), cmd({ now: new Date(at(3600).getTime() - 1) }))).toMatchObject({ kind: 'recorded' });
    });

    it('checks permissions before expiring, so an outsider learns nothing and changes nothing', () => {
      expect(review(item(), cmd({ now: at(7200), reviewer: { sub: 'eve', roles: ['intern'] } }))).toMatchObject({
        code: 'ROLE_NOT_ALLOWED',
      });
    });
  });

  describe('review: resolution', () => {
    it('approves with one approval when one is required, recording actor, role, reason, note and time', () => {
      const out = review(item(), cmd({ reviewer: carol, reason: 'looks fine', note: 'ticket 42' }));
      expect(out).toEqual({
        kind: 'recorded',
        action: {
          actor: 'carol',
          role: 'service-owner',
          action: 'approve',
          reason: 'looks fine',
          note: 'ticket 42',
          at: at(60),
        },
        resolution: { resolution: 'APPROVED', resolvedBy: 'carol', resolvedComment: 'looks fine', resolvedAt: at(60) },
      });
    });

    it('needs N approvals by N distinct people', () => {
      const two = item({ approvalsRequired: 2 });
      const first = review(two, cmd());
      expect(first).toMatchObject({ kind: 'recorded', resolution: null });
      const second = review({ ...two, actions: [approved('bob')] }, cmd({ reviewer: carol }));
      expect(second).toMatchObject({ kind: 'recorded', resolution: { resolution: 'APPROVED', resolvedBy: 'carol' } });
    });

    it('counts approvals, not rejections, toward N (a rejection would already have resolved it)', () => {
      const three = item({ approvalsRequired: 3, actions: [approved('bob'), approved('dave')] });
      expect(review(three, cmd({ reviewer: carol }))).toMatchObject({ resolution: { resolution: 'APPROVED' } });
      const notYet = item({ approvalsRequired: 3, actions: [approved('bob')] });
      expect(review(notYet, cmd({ reviewer: carol }))).toMatchObject({ resolution: null });
    });

    it('resolves REJECTED on one rejection, even after approvals', () => {
      const out = review(
        item({ approvalsRequired: 2, actions: [approved('carol')] }),
        cmd({ action: 'reject', reason: 'too risky' }),
      );
      expect(out).toMatchObject({
        kind: 'recorded',
        action: { action: 'reject', reason: 'too risky' },
        resolution: { resolution: 'REJECTED', resolvedBy: 'bob', resolvedComment: 'too risky' },
      });
    });
  });

  describe('sweep', () => {
    it('does nothing before escalation time', () => {
      expect(sweep(item(), at(1799))).toEqual({ kind: 'none' });
    });

    it('escalates once, at the escalation time', () => {
      expect(sweep(item(), at(1800))).toEqual({ kind: 'escalate' });
      expect(sweep(item({ escalatedAt: at(1800) }), at(1900))).toEqual({ kind: 'none' });
    });

    it('never escalates an item without an escalation time', () => {
      expect(sweep(item({ escalateAt: null }), at(3000))).toEqual({ kind: 'none' });
    });

    it('expires at the due time, escalated or not', () => {
      expect(sweep(item(), at(3600))).toMatchObject({
        kind: 'expire',
        resolution: { resolution: 'EXPIRED', resolvedBy: SLA_ACTOR },
      });
      expect(
        sweep(item({ escalatedAt: at(1800), actions: [approved('bob')], approvalsRequired: 2 }), at(4000)),
      ).toMatchObject({
        kind: 'expire',
        resolution: { resolvedComment: expect.stringContaining('1 of 2 approvals') },
      });
    });

    it.each(['APPROVED', 'REJECTED', 'EXPIRED'] as const)('leaves a %s item alone', (state) => {
      expect(sweep(item({ state }), at(99999))).toEqual({ kind: 'none' });
    });
  });
});
