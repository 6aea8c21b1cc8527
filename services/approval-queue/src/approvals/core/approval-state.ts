/**
 * The approval rules as pure functions: no database, no clock, no Nest. Everything they depend on,
 * `now` included, is passed in, so every rule is unit-tested at any instant.
 */

export type ReviewAction = 'approve' | 'reject';
export type Resolution = 'APPROVED' | 'REJECTED' | 'EXPIRED';
export type ItemState = 'PENDING' | Resolution;

/** Who is acting, as the verified token says. */
export interface Reviewer {
  sub: string;
  roles: readonly string[];
  /** Undefined: every tenant (the token said `"*"`); a token without the claim has `[]`, no tenant. */
  tenants?: readonly string[] | undefined;
}

export interface RecordedAction {
  actor: string;
  role: string;
  action: ReviewAction;
  reason: string | null;
  note: string | null;
  at: Date;
}

export interface ResolutionRecord {
  resolution: Resolution;
  resolvedBy: string;
  resolvedComment: string | null;
  resolvedAt: Date;
}

/** What the rules need to know about one item. */
export interface ApprovalSnapshot {
  state: ItemState;
  tenant: string;
  approvalsRequired: number;
  /** Empty: the gate names no role, so only DEFAULT_APPROVER_ROLE may act (never "anyone"). */
  approverRoles: readonly string[];
  /** The proposal's requester; null while the proposal has not arrived. */
  requestedBy: string | null;
  dueAt: Date;
  escalateAt: Date | null;
  escalatedAt: Date | null;
  actions: readonly RecordedAction[];
  resolution: ResolutionRecord | null;
}

export interface ReviewCommand {
  action: ReviewAction;
  reviewer: Reviewer;
  reason: string | null;
  note: string | null;
  now: Date;
}

export type RefusalCode =
  | 'TENANT_NOT_ALLOWED'
  | 'ROLE_NOT_ALLOWED'
  | 'ALREADY_RESOLVED'
  | 'PROPOSAL_PENDING'
  | 'SELF_APPROVAL'
  | 'ALREADY_DECIDED_BY_ACTOR'
  | 'REASON_REQUIRED';

export type ReviewOutcome =
  | { kind: 'refused'; code: RefusalCode; message: string }
  /** The SLA ran out before the sweeper noticed: the caller records EXPIRED, then refuses as resolved. */
  | { kind: 'expire'; resolution: ResolutionRecord }
  | { kind: 'recorded'; action: RecordedAction; resolution: ResolutionRecord | null };

export type SweepOutcome = { kind: 'none' } | { kind: 'expire'; resolution: ResolutionRecord } | { kind: 'escalate' };

export const SLA_ACTOR = 'system:sla';

/**
 * Who may act on a gate whose `approver_roles` is empty (the policy's fail-closed default): a named
 * role, so a token carrying only `auditor` or `operator` can never approve by default.
 */
export const DEFAULT_APPROVER_ROLE = 'approver';

/** The roles that may act on an item: its own, or the default role when it names none. */
export function effectiveApproverRoles(approverRoles: readonly string[]): readonly string[] {
  return approverRoles.length === 0 ? [DEFAULT_APPROVER_ROLE] : approverRoles;
}

/** Actor ids are compared without case, so `Alice` and `alice` are one person (fail closed). */
export function sameActor(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

export function tenantAllowed(reviewer: Reviewer, tenant: string): boolean {
  return reviewer.tenants === undefined || reviewer.tenants.includes(tenant);
}

/** The role an action is recorded under: the reviewer's first role that may act on the item, or null. */
export function actingRole(reviewer: Reviewer, approverRoles: readonly string[]): string | null {
  const allowed = effectiveApproverRoles(approverRoles);
  return reviewer.roles.find((r) => allowed.includes(r)) ?? null;
}

/** Whether a reviewer may see (and so act on) an item at all. */
export function canSee(reviewer: Reviewer, item: { tenant: string; approverRoles: readonly string[] }): boolean {
  return tenantAllowed(reviewer, item.tenant) && actingRole(reviewer, item.approverRoles) !== null;
}

export function isResolved(state: ItemState): state is Resolution {
  return state !== 'PENDING';
}

/** When the clock starts (the decision's time, never later than intake), when it runs out, when to escalate. */
export function deadlines(
  decidedAt: Date,
  receivedAt: Date,
  slaSeconds: number,
  escalateAfterSeconds: number | null,
): { startedAt: Date; dueAt: Date; escalateAt: Date | null } {
  const startedAt = new Date(Math.min(decidedAt.getTime(), receivedAt.getTime()));
  const dueAt = new Date(startedAt.getTime() + slaSeconds * 1000);
  const escalateAt =
    escalateAfterSeconds !== null && escalateAfterSeconds < slaSeconds
      ? new Date(startedAt.getTime() + escalateAfterSeconds * 1000)
      : null;
  return { startedAt, dueAt, escalateAt };
}

export function expiryOf(
  item: Pick<ApprovalSnapshot, 'dueAt' | 'actions' | 'approvalsRequired'>,
  now: Date,
): ResolutionRecord {
  const approvals = item.actions.filter((a) => a.action === 'approve').length;
  const due = item.dueAt.toISOString();
  return {
    resolution: 'EXPIRED',
    resolvedBy: SLA_ACTOR,
    resolvedComment: `not resolved by ${due} (${approvals} of ${item.approvalsRequired} approvals)`,
    resolvedAt: now,
  };
}

/**
 * One approve or reject, in the order a reviewer would want the answers: who you are (tenant,
 * role), whether there is still anything to decide, whether you may decide it, then the decision.
 */
export function review(item: ApprovalSnapshot, cmd: ReviewCommand): ReviewOutcome {
  const { reviewer, now } = cmd;
  if (!tenantAllowed(reviewer, item.tenant)) {
    return { kind: 'refused', code: 'TENANT_NOT_ALLOWED', message: `your token does not cover tenant ${item.tenant}` };
  }
  const role = actingRole(reviewer, item.approverRoles);
  if (role === null) {
    return {
      kind: 'refused',
      code: 'ROLE_NOT_ALLOWED',
      message: item.approverRoles.length
        ? `this approval needs one of the roles: ${item.approverRoles.join(', ')}`
        : `this approval names no role, so it needs the default role '${DEFAULT_APPROVER_ROLE}'`,
    };
  }
  if (isResolved(item.state)) {
    return { kind: 'refused', code: 'ALREADY_RESOLVED', message: `already resolved: ${item.state}` };
  }
  if (now.getTime() >= item.dueAt.getTime()) return { kind: 'expire', resolution: expiryOf(item, now) };
  if (cmd.action === 'reject' && !cmd.reason?.trim()) {
    return { kind: 'refused', code: 'REASON_REQUIRED', message: 'a rejection needs a reason' };
  }
  // Rejecting needs no requester: it fails closed, and a requester may withdraw their own job.
  if (cmd.action === 'approve') {
    if (item.requestedBy === null) {
      return {
        kind: 'refused',
        code: 'PROPOSAL_PENDING',
        message: 'the proposal has not arrived yet, so self-approval cannot be ruled out; try again shortly',
      };
    }
    if (sameActor(item.requestedBy, reviewer.sub)) {
      return { kind: 'refused', code: 'SELF_APPROVAL', message: 'you requested this job, so you cannot approve it' };
    }
  }
  if (item.actions.some((a) => sameActor(a.actor, reviewer.sub))) {
    return { kind: 'refused', code: 'ALREADY_DECIDED_BY_ACTOR', message: 'you have already acted on this approval' };
  }

  const action: RecordedAction = {
    actor: reviewer.sub,
    role,
    action: cmd.action,
    reason: cmd.reason,
    note: cmd.note,
    at: now,
  };
  switch (cmd.action) {
    case 'reject':
      return {
        kind: 'recorded',
        action,
        resolution: { resolution: 'REJECTED', resolvedBy: reviewer.sub, resolvedComment: cmd.reason, resolvedAt: now },
      };
    case 'approve': {
      const approvers = new Set(
        item.actions.filter((a) => a.action === 'approve').map((a) => a.actor.trim().toLowerCase()),
      );
      approvers.add(reviewer.sub.trim().toLowerCase());
      const done = approvers.size >= item.approvalsRequired;
      return {
        kind: 'recorded',
        action,
        resolution: done
          ? { resolution: 'APPROVED', resolvedBy: reviewer.sub, resolvedComment: cmd.reason, resolvedAt: now }
          : null,
      };
    }
  }
}

/** What the sweeper does with a pending item at `now`: expire it, escalate it (once), or nothing. */
export function sweep(item: ApprovalSnapshot, now: Date): SweepOutcome {
  if (isResolved(item.state)) return { kind: 'none' };
  if (now.getTime() >= item.dueAt.getTime()) return { kind: 'expire', resolution: expiryOf(item, now) };
  if (item.escalateAt && item.escalatedAt === null && now.getTime() >= item.escalateAt.getTime())
    return { kind: 'escalate' };
  return { kind: 'none' };
}
