import { findReservedKey, reservedKeyReason } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import type { CompiledPolicySet, CompiledRule, CompiledScope, TopicEntry } from './compile-policy-set';
import type { HashablePolicyJob, PolicyConstraints, PolicyDecision, PolicyEvaluation, PolicyJob } from './policy.types';

export interface DecideOptions {
  /** A hash the caller already computed with `jobHash(job)`; saves hashing twice. */
  readonly jobHash?: string;
}

const NO_CONSTRAINTS: PolicyConstraints = Object.freeze({});

/** `job.deploy.rollout` -> `Deploy rollout`: a readable title when the agent sent none. */
export function titleFromTopic(topic: string): string {
  const segs = topic.split('.');
  const words = (segs.length > 1 && segs[0] === 'job' ? segs.slice(1) : segs).join(' ').replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function computeEntry(scope: CompiledScope, topic: string): TopicEntry {
  const candidates: number[] = [];
  const rules = scope.rules;
  for (let i = 0; i < rules.length; i++) {
    const re = rules[i]!.topic;
    if (re === null || re.test(topic)) candidates.push(i);
  }
  return { candidates, title: titleFromTopic(topic) };
}

function topicEntry(scope: CompiledScope, topic: string): TopicEntry | null {
  const cache = scope.topicCache;
  if (cache === null) return null;
  let entry = cache.get(topic);
  if (entry === undefined) {
    if (cache.size >= scope.topicCacheSize) cache.clear();
    entry = computeEntry(scope, topic);
    cache.set(topic, entry);
  }
  return entry;
}

function hasAll(have: readonly string[], want: readonly string[]): boolean {
  for (let i = 0; i < want.length; i++) {
    if (!have.includes(want[i]!)) return false;
  }
  return true;
}

function intersect(a: readonly string[], b: readonly string[]): readonly string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) if (b.includes(a[i]!)) out.push(a[i]!);
  return out;
}

/**
 * Module-level scratch for one evaluation: decisions are synchronous and never re-entrant, so
 * reusing it saves an allocation per decision on the hot path.
 */
const scratch = {
  best: null as CompiledRule | null,
  matched: [] as string[],
  maxRuntime: 0,
  allowlist: null as readonly string[] | null,
  constraintSources: 0,
  lastConstraints: null as PolicyConstraints | null,
  title: '',
};

function addConstraints(r: CompiledRule): void {
  if (r.constraints === null) return;
  scratch.constraintSources++;
  scratch.lastConstraints = r.constraints;
  if (r.maxRuntime !== 0 && (scratch.maxRuntime === 0 || r.maxRuntime < scratch.maxRuntime))
    scratch.maxRuntime = r.maxRuntime;
  if (r.allowlist !== null)
    scratch.allowlist = scratch.allowlist === null ? r.allowlist : intersect(scratch.allowlist, r.allowlist);
}

/** Fills `scratch` with the deciding rule, the matched rule ids and the merged constraints. */
function evaluateInto(job: PolicyJob, scope: CompiledScope): void {
  const entry = topicEntry(scope, job.topic);
  const checkTopic = entry === null;
  const candidates = entry === null ? scope.allIndices : entry.candidates;
  const rules = scope.rules;
  const tags = job.risk_tags;
  const matched: string[] = [];
  let best: CompiledRule | null = null;
  let bestStrength = -1;
  let anySystem = false;
  scratch.maxRuntime = 0;
  scratch.allowlist = null;
  scratch.constraintSources = 0;
  scratch.lastConstraints = null;

  for (let k = 0; k < candidates.length; k++) {
    const r = rules[candidates[k]!]!;
    if (checkTopic && r.topic !== null && !r.topic.test(job.topic)) continue;
    if (r.tags.length !== 0 && !hasAll(tags, r.tags)) continue;
    if (r.agents !== null && !r.agents.test(job.agent_id)) continue;
    if (r.tenants !== null && !r.tenants.test(job.tenant)) continue;
    matched.push(r.id);
    if (r.system) anySystem = true;
    // Strictly greater: on a tie the earlier rule (system before tenant, then file order) keeps it.
    if (r.strength > bestStrength) {
      best = r;
      bestStrength = r.strength;
    }
    addConstraints(r);
  }

  if (!anySystem) {
    // The default stands in for the system rules, so a tenant rule can only tighten on it;
    // it counts as a system rule and so wins ties against tenant rules.
    const d = matched.length === 0 ? scope.fallback : scope.systemDefault;
    if (d.strength >= bestStrength) best = d;
    addConstraints(d);
  }
  scratch.best = best;
  scratch.matched = matched;
  scratch.title = job.summary?.title ?? (entry === null ? titleFromTopic(job.topic) : entry.title);
}

function mergedConstraints(): PolicyConstraints {
  if (scratch.constraintSources === 0) return NO_CONSTRAINTS;
  if (scratch.constraintSources === 1) return scratch.lastConstraints!;
  const out: { max_runtime_sec?: number; network_allowlist?: readonly string[] } = {};
  if (scratch.maxRuntime !== 0) out.max_runtime_sec = scratch.maxRuntime;
  if (scratch.allowlist !== null) out.network_allowlist = scratch.allowlist;
  return Object.freeze(out);
}

function constrainedEffect(topic: string, c: PolicyConstraints): string {
  let limits = '';
  if (c.max_runtime_sec !== undefined) limits = `at most ${c.max_runtime_sec}s`;
  if (c.network_allowlist !== undefined) {
    const hosts = c.network_allowlist.length === 0 ? 'no network' : `network to ${c.network_allowlist.join(', ')}`;
    limits = limits === '' ? hosts : `${limits}, ${hosts}`;
  }
  return `Runs ${topic} now, limited to ${limits}`;
}

/** The rule id of the built-in pre-check; `countersign:` names no rule a policy file can hold. */
export const RESERVED_KEY_RULE_ID = 'countersign:reserved-key';

/**
 * The pre-check that runs before any rule: a payload with a `__proto__`, `constructor` or `prototype`
 * key is denied whatever the policy says, the most restrictive outcome, so that the service, the CLI
 * and every consumer agree. No rule is evaluated, so none is listed as matched.
 */
function reservedKeyEvaluation(job: PolicyJob, scope: CompiledScope, path: string): PolicyEvaluation {
  const reason = reservedKeyReason(path);
  return {
    decision: 'DENY',
    policy_rule_id: RESERVED_KEY_RULE_ID,
    policy_reason: reason,
    matched_rules: [RESERVED_KEY_RULE_ID],
    policy_snapshot: scope.snapshot,
    constraints: NO_CONSTRAINTS,
    approval: null,
    decision_summary: {
      title: job.summary?.title ?? titleFromTopic(job.topic),
      why: reason,
      next_effect: `Blocked: ${job.topic} will not run`,
    },
  };
}

/**
 * The evaluation the best match in `scratch` decided (call right after `evaluateInto`), with
 * `job_hash` after the snapshot when one is given: the field order `decision.made` carries.
 */
function bestEvaluation(job: PolicyJob, scope: CompiledScope, hash: string): PolicyDecision;
function bestEvaluation(job: PolicyJob, scope: CompiledScope): PolicyEvaluation;
function bestEvaluation(job: PolicyJob, scope: CompiledScope, hash?: string): PolicyEvaluation {
  const best = scratch.best!;
  const constraints = mergedConstraints();
  return {
    decision: best.decision,
    policy_rule_id: best.id,
    policy_reason: best.reason,
    matched_rules: scratch.matched,
    policy_snapshot: scope.snapshot,
    ...(hash === undefined ? undefined : { job_hash: hash }),
    constraints,
    approval: best.decision === 'REQUIRE_APPROVAL' ? best.approval : null,
    decision_summary: {
      title: scratch.title,
      why: best.reason,
      next_effect:
        best.decision === 'ALLOW_WITH_CONSTRAINTS'
          ? constrainedEffect(job.topic, constraints)
          : best.effectPrefix + job.topic + best.effectSuffix,
    },
  };
}

function scopeOf(policy: CompiledPolicySet, tenant: string): CompiledScope {
  return policy.tenants.get(tenant) ?? policy.system;
}

/**
 * Decides a job against a compiled policy set: pure, no I/O, no clock. A payload with a reserved
 * key is denied before any rule; otherwise every rule is evaluated and the most restrictive match
 * decides (see docs/policy.md). The job hash is computed here unless
 * the caller passes one.
 */
export function decide(job: HashablePolicyJob, policy: CompiledPolicySet, options?: DecideOptions): PolicyDecision {
  const scope = scopeOf(policy, job.tenant);
  const reserved = findReservedKey(job.payload);
  if (reserved !== null) {
    return { ...reservedKeyEvaluation(job, scope, reserved.path), job_hash: options?.jobHash ?? jobHash(job) };
  }
  evaluateInto(job, scope);
  return bestEvaluation(job, scope, options?.jobHash ?? jobHash(job));
}

/**
 * The same decision without `job_hash`: for benchmarks of rule evaluation alone and for callers
 * that hash elsewhere. A `decision.made` event needs `decide`.
 */
export function decideWithoutHash(job: PolicyJob, policy: CompiledPolicySet): PolicyEvaluation {
  const scope = scopeOf(policy, job.tenant);
  const reserved = findReservedKey(job.payload);
  if (reserved !== null) return reservedKeyEvaluation(job, scope, reserved.path);
  evaluateInto(job, scope);
  return bestEvaluation(job, scope);
}
