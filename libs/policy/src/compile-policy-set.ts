import { policySnapshotId } from '@countersign/crypto';
import { formatDuration } from './duration';
import { compileIdGlobs, compileTopicGlobs } from './glob';
import { DEFAULT_APPROVAL } from './parse-policy';
import { PolicyError } from './policy.error';
import { type PolicySet, snapshotDocument } from './policy-set';
import type {
  ApprovalRequirement,
  PolicyConstraints,
  PolicyDecisionValue,
  PolicyDefault,
  PolicyRule,
  PolicyRuleDecision,
} from './policy.types';

export const DECISION_VALUES: Readonly<Record<PolicyRuleDecision, PolicyDecisionValue>> = {
  allow: 'ALLOW',
  allow_with_constraints: 'ALLOW_WITH_CONSTRAINTS',
  require_approval: 'REQUIRE_APPROVAL',
  deny: 'DENY',
};

/** Most restrictive last. */
export const DECISION_RANK: Readonly<Record<PolicyRuleDecision, number>> = {
  allow: 0,
  allow_with_constraints: 1,
  require_approval: 2,
  deny: 3,
};

/**
 * One number that orders rules by how restrictive they are: decision first, then approvals
 * required (at most 10, so it never spills into the next decision).
 */
export function ruleStrength(decision: PolicyRuleDecision, approval: ApprovalRequirement | null): number {
  return DECISION_RANK[decision] * 16 + (approval?.approvals_required ?? 0);
}

export const DEFAULT_RULE_ID = 'default';
export const FAIL_CLOSED_REASON = 'No policy rule matched';

export interface CompiledRule {
  readonly id: string;
  readonly decision: PolicyDecisionValue;
  readonly strength: number;
  readonly reason: string;
  /** `null`: no condition. */
  readonly topic: RegExp | null;
  readonly tags: readonly string[];
  readonly agents: RegExp | null;
  readonly tenants: RegExp | null;
  /** 0: no limit. */
  readonly maxRuntime: number;
  readonly allowlist: readonly string[] | null;
  readonly constraints: PolicyConstraints | null;
  readonly approval: ApprovalRequirement | null;
  /** From the system file (or the system default), which wins ties against tenant rules. */
  readonly system: boolean;
  /** `next_effect` up to the topic, for decisions that do not depend on merged constraints. */
  readonly effectPrefix: string;
  readonly effectSuffix: string;
}

/** Rules (by index) whose topic condition a topic satisfies, and its derived title. */
export interface TopicEntry {
  readonly candidates: readonly number[];
  readonly title: string;
}

export interface CompiledScope {
  /** `system` or `tenant:<id>`. */
  readonly scope: string;
  readonly snapshot: string;
  /** The canonical document the snapshot names (for `policy.activated`). */
  readonly document: unknown;
  /** System rules first, then the tenant's, in file order. */
  readonly rules: readonly CompiledRule[];
  readonly allIndices: readonly number[];
  /** Stands in for the system rules when none of them matches. */
  readonly systemDefault: CompiledRule;
  /** Decides when no rule at all matches: the system default or a more restrictive tenant default. */
  readonly fallback: CompiledRule;
  /** Bounded memo of topic -> candidate rules; `null` when disabled. */
  readonly topicCache: Map<string, TopicEntry> | null;
  readonly topicCacheSize: number;
}

export interface CompiledPolicySet {
  readonly system: CompiledScope;
  readonly tenants: ReadonlyMap<string, CompiledScope>;
}

export interface CompileOptions {
  /**
   * How many distinct topics to remember per scope (default 10000; 0 disables). Topics form a
   * small, stable set in practice, so remembering which rules a topic can match skips the glob
   * tests on the hot path. The memo is cleared when full, which bounds memory for any input.
   */
  readonly topicCacheSize?: number;
}

function generatedReason(decision: PolicyRuleDecision, id: string): string {
  switch (decision) {
    case 'allow':
      return `Allowed by rule ${id}`;
    case 'allow_with_constraints':
      return `Allowed with constraints by rule ${id}`;
    case 'require_approval':
      return `Approval required by rule ${id}`;
    case 'deny':
      return `Denied by rule ${id}`;
  }
}

function listOrAny(list: readonly string[], any: string): string {
  return list.length === 0 ? any : `[${list.join(', ')}]`;
}

function effectParts(decision: PolicyRuleDecision, approval: ApprovalRequirement | null): [string, string] {
  switch (decision) {
    case 'allow':
    case 'allow_with_constraints':
      return ['Runs ', ' now'];
    case 'deny':
      return ['Blocked: ', ' will not run'];
    case 'require_approval': {
      const a = approval!;
      const n = a.approvals_required;
      const prefix = `Waits for ${n} approval${n === 1 ? '' : 's'} from ${listOrAny(a.approver_roles, 'any approver')} within ${formatDuration(a.sla_seconds)}, then runs `;
      const suffix =
        a.escalate_after_seconds === null
          ? ''
          : `; escalates to ${listOrAny(a.escalation_roles, 'any approver')} after ${formatDuration(a.escalate_after_seconds)}`;
      return [prefix, suffix];
    }
  }
}

function compileRule(rule: PolicyRule, system: boolean): CompiledRule {
  const [effectPrefix, effectSuffix] = effectParts(rule.decision, rule.approval);
  return Object.freeze({
    id: rule.id,
    decision: DECISION_VALUES[rule.decision],
    strength: ruleStrength(rule.decision, rule.approval),
    reason: rule.reason ?? generatedReason(rule.decision, rule.id),
    topic: compileTopicGlobs(rule.match.topics),
    tags: rule.match.risk_tags,
    agents: compileIdGlobs(rule.match.agents),
    tenants: compileIdGlobs(rule.match.tenants),
    maxRuntime: rule.constraints?.max_runtime_sec ?? 0,
    allowlist: rule.constraints?.network_allowlist ?? null,
    constraints: rule.constraints,
    approval: rule.approval,
    system,
    effectPrefix,
    effectSuffix,
  });
}

/** Fail closed: with no `default`, an unmatched job needs one approval from the `approver` role. */
const FAIL_CLOSED: PolicyDefault = {
  decision: 'require_approval',
  reason: FAIL_CLOSED_REASON,
  constraints: null,
  approval: DEFAULT_APPROVAL,
};

function compileDefault(d: PolicyDefault | null, system: boolean, tenant?: string): CompiledRule {
  const def = d ?? FAIL_CLOSED;
  return compileRule(
    {
      id: DEFAULT_RULE_ID,
      index: -1,
      match: { topics: null, risk_tags: [], agents: null, tenants: null },
      decision: def.decision,
      reason:
        def.reason ??
        (tenant === undefined ? FAIL_CLOSED_REASON : `${FAIL_CLOSED_REASON} (default of tenant ${tenant})`),
      constraints: def.constraints,
      approval: def.approval,
    },
    system,
  );
}

function compileScope(
  scope: string,
  snapshot: string,
  document: unknown,
  systemRules: readonly CompiledRule[],
  tenantRules: readonly CompiledRule[],
  systemDefault: CompiledRule,
  tenantDefault: CompiledRule | null,
  topicCacheSize: number,
): CompiledScope {
  const rules = [...systemRules, ...tenantRules];
  // A tenant default only replaces the system default when it is more restrictive.
  const fallback =
    tenantDefault !== null && tenantDefault.strength > systemDefault.strength ? tenantDefault : systemDefault;
  return {
    scope,
    snapshot,
    document,
    rules,
    allIndices: rules.map((_, i) => i),
    systemDefault,
    fallback,
    topicCache: topicCacheSize > 0 ? new Map() : null,
    topicCacheSize,
  };
}

/**
 * Compiles a policy set once: globs to RegExps, reasons and effect texts precomputed, one scope
 * (rules + snapshot id) for the system and one per tenant with its own file.
 */
export function compilePolicySet(set: PolicySet, options: CompileOptions = {}): CompiledPolicySet {
  const topicCacheSize = options.topicCacheSize ?? 10_000;
  const systemRules = set.system.document.rules.map((r) => compileRule(r, true));
  const systemIds = new Set(systemRules.map((r) => r.id));
  const systemDefault = compileDefault(set.system.document.default, true);
  const system = compileScope(
    'system',
    policySnapshotId({ kind: 'system' }, set.system.raw),
    set.system.raw,
    systemRules,
    [],
    systemDefault,
    null,
    topicCacheSize,
  );

  const tenants = new Map<string, CompiledScope>();
  for (const [tenant, policy] of set.tenants) {
    const clashes = policy.document.rules.filter((r) => systemIds.has(r.id) || r.id === DEFAULT_RULE_ID);
    if (clashes.length > 0) {
      throw new PolicyError(
        'POLICY_CONFLICT',
        clashes.map(
          (r) =>
            `${policy.source}: rule ${JSON.stringify(r.id)}: id: already used in ${set.system.source}; rule ids must be unique across system and tenant policies`,
        ),
      );
    }
    const document = snapshotDocument(set, tenant);
    tenants.set(
      tenant,
      compileScope(
        `tenant:${tenant}`,
        policySnapshotId({ kind: 'tenant', tenant }, document),
        document,
        systemRules,
        policy.document.rules.map((r) => compileRule(r, false)),
        systemDefault,
        policy.document.default === null ? null : compileDefault(policy.document.default, false, tenant),
        topicCacheSize,
      ),
    );
  }
  return { system, tenants };
}

/** Every snapshot a compiled set can stamp on a decision, for `policy.activated`. */
export function policySnapshots(
  compiled: CompiledPolicySet,
): { scope: string; snapshot_id: string; document: unknown }[] {
  return [compiled.system, ...compiled.tenants.values()].map((s) => ({
    scope: s.scope,
    snapshot_id: s.snapshot,
    document: s.document,
  }));
}

/** The snapshot id decisions for this tenant carry. */
export function snapshotFor(compiled: CompiledPolicySet, tenant: string): string {
  return (compiled.tenants.get(tenant) ?? compiled.system).snapshot;
}
