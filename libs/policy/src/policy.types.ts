/** Decisions as written in a policy file. */
export type PolicyRuleDecision = 'allow' | 'allow_with_constraints' | 'require_approval' | 'deny';

/** Decisions as carried by `decision.made` (same values as `DecisionSchema` in @countersign/contracts). */
export type PolicyDecisionValue = 'ALLOW' | 'ALLOW_WITH_CONSTRAINTS' | 'REQUIRE_APPROVAL' | 'DENY';

/** Mirrors `ConstraintsSchema`; absent fields mean "no limit". */
export interface PolicyConstraints {
  readonly max_runtime_sec?: number;
  readonly network_allowlist?: readonly string[];
}

/** Mirrors `ApprovalRequirementSchema`. An empty `approver_roles` means the default role `approver` (never any role). */
export interface ApprovalRequirement {
  readonly approvals_required: number;
  readonly approver_roles: readonly string[];
  readonly sla_seconds: number;
  readonly escalate_after_seconds: number | null;
  readonly escalation_roles: readonly string[];
}

/** `null` means "no condition" for that field. */
export interface PolicyMatch {
  readonly topics: readonly string[] | null;
  readonly risk_tags: readonly string[];
  readonly agents: readonly string[] | null;
  readonly tenants: readonly string[] | null;
}

export interface PolicyRule {
  readonly id: string;
  /** Position in its file, for messages. */
  readonly index: number;
  readonly match: PolicyMatch;
  readonly decision: PolicyRuleDecision;
  readonly reason: string | null;
  readonly constraints: PolicyConstraints | null;
  /** Only on `require_approval` rules, with defaults filled in. */
  readonly approval: ApprovalRequirement | null;
}

export interface PolicyDefault {
  readonly decision: PolicyRuleDecision;
  readonly reason: string | null;
  readonly constraints: PolicyConstraints | null;
  readonly approval: ApprovalRequirement | null;
}

/** The normalized, typed form of one policy file. */
export interface PolicyDocument {
  readonly version: 'v1';
  readonly default: PolicyDefault | null;
  readonly rules: readonly PolicyRule[];
}

export interface ParsedPolicy {
  /** File name used in messages. */
  readonly source: string;
  /** The YAML as written, parsed to plain JSON: the snapshot hash is computed over this. */
  readonly raw: unknown;
  readonly document: PolicyDocument;
}

/** What the engine needs from a `job.proposed`; extra fields are ignored. */
export interface PolicyJob {
  readonly job_id: string;
  readonly tenant: string;
  readonly agent_id: string;
  readonly topic: string;
  readonly risk_tags: readonly string[];
  readonly payload: Readonly<Record<string, unknown>>;
  readonly summary?: { readonly title?: string } | undefined;
}

/** A job `decide` can hash: the requester decides nothing, but the job hash covers who asked. */
export interface HashablePolicyJob extends PolicyJob {
  readonly requested_by: string;
}

export interface DecisionSummary {
  readonly title: string;
  readonly why: string;
  readonly next_effect: string;
}

/**
 * The policy part of `decision.made` data: everything but `job_id`, `tenant` and `decided_at`.
 * Nested objects (constraints, approval, allowlists) may be shared between decisions and are
 * frozen: copy before changing them.
 */
export interface PolicyEvaluation {
  readonly decision: PolicyDecisionValue;
  readonly policy_rule_id: string;
  readonly policy_reason: string;
  readonly matched_rules: readonly string[];
  readonly policy_snapshot: string;
  readonly constraints: PolicyConstraints;
  readonly approval: ApprovalRequirement | null;
  readonly decision_summary: DecisionSummary;
}

export interface PolicyDecision extends PolicyEvaluation {
  readonly job_hash: string;
}
