/**
 * The approval-queue API as the page uses it. The source of truth is the service's zod schemas
 * (`services/approval-queue/src/approvals/approval.schemas.ts`, `src/stats/approval-stats.schemas.ts`);
 * these are mirrored rather than imported so the page's build never pulls in server code.
 */

export type ItemState = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
export type Resolution = 'APPROVED' | 'REJECTED' | 'EXPIRED';

export interface ActionView {
  actor: string;
  role: string;
  action: 'approve' | 'reject';
  reason: string | null;
  note: string | null;
  at: string;
}

export interface HistoryView {
  job_id: string;
  resolution: string;
  actor: string | null;
  reason: string | null;
  at: string;
}

export interface DecisionSummary {
  title: string;
  why: string;
  next_effect: string;
}

export interface ApprovalItem {
  job: { id: string; state: ItemState };
  tenant: string;
  topic: string | null;
  agent_id: string | null;
  risk_tags: string[];
  requested_by: string | null;
  proposal_received?: boolean;
  summary?: { title: string; next_effect?: string } | null;
  payload: Record<string, unknown> | null;
  redacted_fields: string[];
  decision: string;
  policy_snapshot: string;
  policy_rule_id: string;
  policy_reason: string;
  matched_rules?: string[];
  job_hash: string;
  constraints?: Record<string, unknown> | null;
  approval_required: boolean;
  decision_summary: DecisionSummary;
  approvals: ActionView[];
  approvals_required: number;
  approver_roles: string[];
  escalation_roles?: string[];
  decided_at?: string;
  pending_since?: string;
  due_at: string;
  escalated_at?: string | null;
  resolution: Resolution | null;
  resolved_by: string | null;
  resolved_comment: string | null;
  resolved_at?: string | null;
  history: HistoryView[];
}

export interface ApprovalPage {
  items: ApprovalItem[];
  next_cursor: string | null;
}

export interface ReviewResult {
  job: { id: string; state: ItemState };
  action: ActionView;
  approvals: ActionView[];
  approvals_required: number;
  resolution: Resolution | null;
  resolved_by: string | null;
  resolved_comment: string | null;
  resolved_at: string | null;
}

export interface StatsGroup {
  resolutions: Record<Resolution, number>;
  time_to_decision_seconds: { median: number | null; p90: number | null };
  sla_breaches: number;
}

export interface ApprovalStats {
  window: string;
  from: string;
  to: string;
  overall: StatsGroup;
  pending: { count: number; overdue: number };
  top_rejection_reasons: { reason: string; count: number }[];
  by_rule: (StatsGroup & { policy_rule_id: string })[];
  by_tier: (StatsGroup & { tier: string })[];
}

export interface ApiErrorBody {
  error: { code: string; message: string; [extra: string]: unknown };
}
