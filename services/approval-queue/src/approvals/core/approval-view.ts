import { IdSchema } from '@countersign/contracts';
import { invalidCursor } from '../approval.errors';
import type { ApprovalItemView, JobDecisions, ReviewResult } from '../approval.schemas';
import type { ApprovalItemEntity } from '../approval-item.entity';
import type { QueueItem } from './approval-snapshot';
import type { RecordedAction } from './approval-state';
import type { HistoryEntry } from '../approvals.port';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function actionView(a: RecordedAction): ApprovalItemView['approvals'][number] {
  return { actor: a.actor, role: a.role, action: a.action, reason: a.reason, note: a.note, at: a.at.toISOString() };
}

function resolutionOf(item: QueueItem): ApprovalItemView['resolution'] {
  return item.state === 'PENDING' ? null : item.state;
}

type DecisionOf = Pick<
  QueueItem,
  'decision' | 'policySnapshot' | 'policyRuleId' | 'policyReason' | 'matchedRules' | 'jobHash' | 'constraints'
>;

/** The decision fields of both views; `decision` stands as `noDecision` until one has arrived. */
function decisionFields(item: DecisionOf, noDecision: string) {
  return {
    decision: item.decision ?? noDecision,
    policy_snapshot: item.policySnapshot ?? '',
    policy_rule_id: item.policyRuleId ?? '',
    policy_reason: item.policyReason ?? '',
    matched_rules: item.matchedRules,
    job_hash: item.jobHash ?? '',
    constraints: item.constraints,
  };
}

export function itemView(
  item: QueueItem,
  actions: readonly RecordedAction[],
  history: readonly HistoryEntry[],
): ApprovalItemView {
  return {
    job: { id: item.jobId, state: item.state },
    tenant: item.tenant,
    topic: item.topic,
    agent_id: item.agentId,
    risk_tags: item.riskTags,
    requested_by: item.requestedBy,
    proposal_received: item.proposalEventId !== null,
    summary: item.proposalSummary,
    payload: item.payload,
    redacted_fields: item.redactedFields,
    ...decisionFields(item, 'REQUIRE_APPROVAL'),
    approval_required: true,
    decision_summary: item.decisionSummary ?? { title: '', why: '', next_effect: '' },
    approvals: actions.map(actionView),
    approvals_required: item.approvalsRequired,
    approver_roles: item.approverRoles,
    escalation_roles: item.approvalRequirement?.escalation_roles ?? [],
    decided_at: iso(item.decidedAt) ?? '',
    pending_since: iso(item.pendingSince) ?? '',
    due_at: item.dueAt.toISOString(),
    escalated_at: iso(item.escalatedAt),
    resolution: resolutionOf(item),
    resolved_by: item.resolvedBy,
    resolved_comment: item.resolvedComment,
    resolved_at: iso(item.resolvedAt),
    history: history.map((h) => ({
      job_id: h.jobId,
      resolution: h.resolution,
      actor: h.actor,
      reason: h.reason,
      at: h.at.toISOString(),
    })),
  };
}

export function reviewResult(
  item: QueueItem,
  action: RecordedAction,
  actions: readonly RecordedAction[],
): ReviewResult {
  return {
    job: { id: item.jobId, state: item.state },
    action: actionView(action),
    approvals: actions.map(actionView),
    approvals_required: item.approvalsRequired,
    resolution: resolutionOf(item),
    resolved_by: item.resolvedBy,
    resolved_comment: item.resolvedComment,
    resolved_at: iso(item.resolvedAt),
  };
}

/** The existing resolution, sent with 409 ALREADY_RESOLVED so the client need not ask again. */
export function resolutionDetails(item: QueueItem, actions: readonly RecordedAction[]): Record<string, unknown> {
  return {
    resolution: {
      resolution: resolutionOf(item),
      resolved_by: item.resolvedBy,
      resolved_comment: item.resolvedComment,
      resolved_at: iso(item.resolvedAt),
      approvals: actions.map(actionView),
    },
  };
}

export function jobDecisions(item: ApprovalItemEntity, actions: readonly RecordedAction[]): JobDecisions {
  const state = item.state === 'AWAITING_DECISION' ? 'NOT_REQUIRED' : item.state;
  return {
    job_id: item.jobId,
    tenant: item.tenant,
    state,
    decision: {
      ...decisionFields(item, ''),
      approval: item.approvalRequirement,
      decision_summary: item.decisionSummary ?? { title: '', why: '', next_effect: '' },
      decided_at: iso(item.decidedAt) ?? '',
    },
    approvals: actions.map(actionView),
    escalated_at: iso(item.escalatedAt),
    resolution:
      item.state === 'APPROVED' || item.state === 'REJECTED' || item.state === 'EXPIRED'
        ? {
            resolution: item.state,
            resolved_by: item.resolvedBy ?? '',
            resolved_comment: item.resolvedComment,
            resolved_at: iso(item.resolvedAt) ?? '',
          }
        : null,
  };
}

/** Opaque keyset cursor: the (due_at, job_id) of the last row, microsecond-exact. */
export function encodeCursor(key: { dueAt: string; jobId: string }): string {
  return Buffer.from(JSON.stringify([key.dueAt, key.jobId]), 'utf8').toString('base64url');
}

/**
 * A due_at key PostgreSQL will take: the shape alone let "2026-02-30" or year 0 through, and the
 * database's refusal became a 500. The calendar date must exist (it survives a round trip).
 */
function isCursorTime(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{1,6}Z$/.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 1970 || h > 23 || mi > 59 || s > 59) return false;
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

export function decodeCursor(cursor: string): { dueAt: string; jobId: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      isCursorTime(v[0]) &&
      // A job id as intake accepts them: NUL or invalid text would reach the database as a 500.
      IdSchema.safeParse(v[1]).success
    ) {
      return { dueAt: v[0], jobId: v[1] };
    }
  } catch {
    // fall through
  }
  throw invalidCursor();
}
