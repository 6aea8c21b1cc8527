import { compilePolicySet, ruleStrength } from './compile-policy-set';
import { compileTopicGlobs, idGlobCovers, topicGlobCovers } from './glob';
import { DEFAULT_APPROVAL, parsePolicy } from './parse-policy';
import { PolicyError } from './policy.error';
import { createPolicySet } from './policy-set';
import type { ParsedPolicy, PolicyDefault, PolicyRule } from './policy.types';

export interface PolicySource {
  /** File name, for messages. */
  readonly source: string;
  readonly text: string;
}

export interface TenantPolicySource extends PolicySource {
  readonly tenant: string;
}

export interface LintInput {
  readonly system: PolicySource;
  readonly tenants?: readonly TenantPolicySource[];
  /** Topics of the golden cases; globs that match none of them are reported. Empty: skip. */
  readonly knownTopics?: readonly string[];
}

export type LintCode =
  | 'POLICY_SYNTAX'
  | 'POLICY_INVALID'
  | 'POLICY_NOT_FOUND'
  | 'POLICY_CONFLICT'
  | 'RULE_SHADOWED'
  | 'TENANT_ALLOW_NEVER_DECIDES'
  | 'TENANT_DEFAULT_IGNORED'
  | 'TENANT_RULE_NEVER_APPLIES'
  | 'TOPIC_GLOB_UNUSED';

export interface LintIssue {
  readonly code: LintCode;
  /** `<file>: rule "<id>": <field>: <what>`, like parse errors. */
  readonly message: string;
}

export interface LintReport {
  readonly errors: LintIssue[];
  readonly warnings: LintIssue[];
}

function listCovers(
  outer: readonly string[] | null,
  inner: readonly string[] | null,
  covers: (p: string, q: string) => boolean,
): boolean {
  if (outer === null) return true;
  if (inner === null) return false;
  return inner.every((q) => outer.some((p) => covers(p, q)));
}

/** Whether rule `s` matches every job rule `r` matches (conservative). */
export function ruleCovers(s: PolicyRule, r: PolicyRule): boolean {
  return (
    s.match.risk_tags.every((t) => r.match.risk_tags.includes(t)) &&
    listCovers(s.match.topics, r.match.topics, topicGlobCovers) &&
    listCovers(s.match.agents, r.match.agents, idGlobCovers) &&
    listCovers(s.match.tenants, r.match.tenants, idGlobCovers)
  );
}

function ruleLabel(source: string, rule: PolicyRule): string {
  return `${source}: rule ${JSON.stringify(rule.id)}`;
}

interface Placed {
  readonly rule: PolicyRule;
  readonly source: string;
}

/**
 * Rules in `checked` that can never decide: an earlier-or-stronger rule matches every job they
 * match. Rules with constraints still shape decisions (constraints always merge), so they are
 * not reported.
 */
function shadowWarnings(all: readonly Placed[], checked: readonly Placed[]): LintIssue[] {
  const out: LintIssue[] = [];
  for (const r of checked) {
    if (r.rule.constraints !== null) continue;
    const rPos = all.indexOf(r);
    const rStrength = ruleStrength(r.rule.decision, r.rule.approval);
    const shadow = all.find((s, sPos) => {
      if (s === r) return false;
      const sStrength = ruleStrength(s.rule.decision, s.rule.approval);
      return (sStrength > rStrength || (sStrength === rStrength && sPos < rPos)) && ruleCovers(s.rule, r.rule);
    });
    if (shadow) {
      out.push({
        code: 'RULE_SHADOWED',
        message: `${ruleLabel(r.source, r.rule)}: never decides: rule ${JSON.stringify(shadow.rule.id)} (${shadow.rule.decision}) matches every job it matches and wins`,
      });
    }
  }
  return out;
}

function topicWarnings(policy: ParsedPolicy, knownTopics: readonly string[]): LintIssue[] {
  const out: LintIssue[] = [];
  for (const rule of policy.document.rules) {
    rule.match.topics?.forEach((glob, i) => {
      const re = compileTopicGlobs([glob])!;
      if (!knownTopics.some((t) => re.test(t))) {
        out.push({
          code: 'TOPIC_GLOB_UNUSED',
          message: `${ruleLabel(policy.source, rule)}: match.topics[${i}]: ${JSON.stringify(glob)} matches no topic in the golden cases`,
        });
      }
    });
  }
  return out;
}

function strengthOf(d: PolicyDefault | null): number {
  // No default means fail closed: require_approval with the default approval.
  return d === null ? ruleStrength('require_approval', DEFAULT_APPROVAL) : ruleStrength(d.decision, d.approval);
}

function tenantWarnings(system: ParsedPolicy, tenant: string, policy: ParsedPolicy): LintIssue[] {
  const out: LintIssue[] = [];
  for (const rule of policy.document.rules) {
    if (rule.decision === 'allow') {
      out.push({
        code: 'TENANT_ALLOW_NEVER_DECIDES',
        message: `${ruleLabel(policy.source, rule)}: never decides: tenant rules can only tighten, and the system rules or default always decide at least as restrictively as allow`,
      });
    }
    if (rule.match.tenants !== null && !rule.match.tenants.some((g) => idGlobCovers(g, tenant))) {
      out.push({
        code: 'TENANT_RULE_NEVER_APPLIES',
        message: `${ruleLabel(policy.source, rule)}: match.tenants: never applies: no glob matches tenant ${JSON.stringify(tenant)}`,
      });
    }
  }
  const d = policy.document.default;
  if (d !== null && strengthOf(d) <= strengthOf(system.document.default)) {
    const sys = system.document.default?.decision ?? 'require_approval';
    out.push({
      code: 'TENANT_DEFAULT_IGNORED',
      message: `${policy.source}: default: ignored: ${d.decision} is not more restrictive than the system default (${sys})`,
    });
  }
  return out;
}

function parseInto(src: PolicySource, errors: LintIssue[]): ParsedPolicy | null {
  try {
    return parsePolicy(src.text, src.source);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    errors.push(...e.issues.map((message) => ({ code: e.code, message })));
    return null;
  }
}

/**
 * Checks a system policy and its tenant policies without deciding anything: errors (the set
 * would not load) and warnings (it loads, but something in it has no effect).
 */
export function lintPolicy(input: LintInput): LintReport {
  const errors: LintIssue[] = [];
  const warnings: LintIssue[] = [];
  const known = input.knownTopics ?? [];
  const system = parseInto(input.system, errors);
  const tenants: [string, ParsedPolicy][] = [];
  for (const t of input.tenants ?? []) {
    const parsed = parseInto(t, errors);
    if (parsed !== null) tenants.push([t.tenant, parsed]);
  }
  if (system === null) return { errors, warnings };

  try {
    compilePolicySet(createPolicySet(system, tenants));
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    errors.push(...e.issues.map((message) => ({ code: e.code, message })));
  }

  const systemPlaced = system.document.rules.map((rule) => ({ rule, source: system.source }));
  warnings.push(...shadowWarnings(systemPlaced, systemPlaced));
  if (known.length > 0) warnings.push(...topicWarnings(system, known));
  for (const [tenant, policy] of tenants) {
    const own = policy.document.rules
      .filter((r) => r.decision !== 'allow')
      .map((rule) => ({ rule, source: policy.source }));
    warnings.push(...shadowWarnings([...systemPlaced, ...own], own));
    warnings.push(...tenantWarnings(system, tenant, policy));
    if (known.length > 0) warnings.push(...topicWarnings(policy, known));
  }
  return { errors, warnings };
}
