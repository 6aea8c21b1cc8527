import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import { type z } from 'zod';
import { formatDuration, parseDuration } from './duration';
import { PolicyError } from './policy.error';
import {
  type ApprovalInput,
  type ConstraintsInput,
  type DefaultInput,
  PolicyDocumentInputSchema,
  type RuleInput,
} from './policy-document.schema';
import type {
  ApprovalRequirement,
  ParsedPolicy,
  PolicyConstraints,
  PolicyDefault,
  PolicyDocument,
  PolicyRule,
  PolicyRuleDecision,
} from './policy.types';

type Path = readonly (string | number)[];

/** Defaults for `approval`, also used for require_approval rules that have no `approval` block. */
export const DEFAULT_APPROVAL: ApprovalRequirement = Object.freeze({
  approvals_required: 1,
  approver_roles: Object.freeze([]) as readonly string[],
  sla_seconds: 3600,
  escalate_after_seconds: null,
  escalation_roles: Object.freeze([]) as readonly string[],
});

/**
 * Parses and validates one policy file. Throws a `PolicyError` listing every problem found,
 * each as `<source>: <rule or field>: <what was expected> (line L, column C)`.
 */
export function parsePolicy(text: string, source: string): ParsedPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      'POLICY_SYNTAX',
      doc.errors.map((e) => `${source}: YAML syntax error: ${firstLine(e.message)}${at(lineCounter, e.pos[0])}`),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new PolicyError('POLICY_SYNTAX', [`${source}: YAML error: ${firstLine((e as Error).message)}`]);
  }
  const notJson = findNonJson(raw, []);
  if (notJson !== null) {
    const value = notJson.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], raw);
    throw new PolicyError('POLICY_INVALID', [
      issueLine(
        source,
        raw,
        doc,
        lineCounter,
        notJson,
        `expected a JSON value (finite number, string, list or mapping), got ${String(value)}`,
      ),
    ]);
  }

  const parsed = PolicyDocumentInputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) =>
      describeIssue(issue).map(([path, message]) => issueLine(source, raw, doc, lineCounter, path, message)),
    );
    throw new PolicyError('POLICY_INVALID', lines);
  }

  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) {
    throw new PolicyError(
      'POLICY_INVALID',
      problems.map(([path, message]) => issueLine(source, raw, doc, lineCounter, path, message)),
    );
  }
  return { source, raw, document: normalize(parsed.data) };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]!.trim();
}

function at(lineCounter: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return '';
  const { line, col } = lineCounter.linePos(offset);
  return ` (line ${line}, column ${col})`;
}

/** `rule "prod-write-gate": approval.sla`, `rules[3]`, `default.decision`, or `` for the root. */
function label(raw: unknown, path: Path): string {
  if (path[0] === 'rules' && typeof path[1] === 'number') {
    const rule = (raw as { rules?: unknown[] }).rules?.[path[1]] as { id?: unknown } | undefined;
    const name =
      typeof rule?.id === 'string' && rule.id !== '' ? `rule ${JSON.stringify(rule.id)}` : `rules[${path[1]}]`;
    const rest = fieldPath(path.slice(2));
    return rest === '' ? name : `${name}: ${rest}`;
  }
  return fieldPath(path);
}

function fieldPath(path: Path): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

function issueLine(
  source: string,
  raw: unknown,
  doc: Document,
  lineCounter: LineCounter,
  path: Path,
  message: string,
): string {
  const where = label(raw, path);
  return `${source}: ${where === '' ? '' : `${where}: `}${message}${at(lineCounter, offsetOf(doc, path))}`;
}

/** Where a path points in the YAML text: the node itself, or the nearest existing parent. */
function offsetOf(doc: Document, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return JSON.stringify(input);
  return String(input);
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** One zod issue as (path, message) pairs; unknown keys become one entry per key. */
function describeIssue(issue: z.core.$ZodIssue): [Path, string][] {
  const path = issue.path as Path;
  const input = (issue as { input?: unknown }).input;
  if (issue.code === 'invalid_type') {
    const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
    return [
      [
        path,
        input === undefined ? `required (expected ${expected})` : `expected ${expected}, got ${describeValue(input)}`,
      ],
    ];
  }
  if (issue.code === 'invalid_value') {
    const values = issue.values.map(String);
    const expected = values.length === 1 ? JSON.stringify(values[0]) : `one of ${values.join(', ')}`;
    return [
      [
        path,
        input === undefined ? `required (expected ${expected})` : `expected ${expected}, got ${describeValue(input)}`,
      ],
    ];
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(path);
    const hint = known.length > 0 ? ` (expected one of ${known.join(', ')})` : '';
    return issue.keys.map((key): [Path, string] => [[...path, key], `unknown field${hint}`]);
  }
  // Our schemas give every other check (formats, ranges, refinements) its own message.
  const got = typeof input === 'string' || typeof input === 'number' ? `, got ${describeValue(input)}` : '';
  return [[path, `${issue.message}${got}`]];
}

/** The fields the schema allows at a path, for "unknown field" hints. */
function knownKeys(path: Path): string[] {
  let schema: z.core.$ZodType = PolicyDocumentInputSchema;
  for (const seg of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as { type: string; element?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType> };
    if (def.type === 'array' && typeof seg === 'number' && def.element) schema = def.element;
    else if (def.type === 'object' && typeof seg === 'string' && def.shape?.[seg]) schema = def.shape[seg];
    else return [];
  }
  const def = unwrap(schema)._zod.def as { type: string; shape?: Record<string, unknown> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType };
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'default') && def.innerType)
      s = def.innerType;
    else return s;
  }
}

function findNonJson(value: unknown, path: (string | number)[]): Path | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNonJson(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      const found = findNonJson(v, [...path, k]);
      if (found) return found;
    }
    return null;
  }
  return path;
}

/** Rules zod's per-field schemas cannot express. */
function crossFieldProblems(input: {
  default?: DefaultInput | undefined;
  rules?: RuleInput[] | undefined;
}): [Path, string][] {
  const problems: [Path, string][] = [];
  const firstIndex = new Map<string, number>();
  (input.rules ?? []).forEach((rule, i) => {
    const first = firstIndex.get(rule.id);
    if (first !== undefined) problems.push([['rules', i, 'id'], `duplicate rule id (first used by rules[${first}])`]);
    else firstIndex.set(rule.id, i);
    problems.push(...decisionProblems(['rules', i], rule));
  });
  if (input.default) problems.push(...decisionProblems(['default'], input.default));
  return problems;
}

function decisionProblems(base: Path, rule: DefaultInput): [Path, string][] {
  const problems: [Path, string][] = [];
  if (rule.decision === 'allow_with_constraints' && rule.constraints === undefined) {
    problems.push([
      [...base, 'constraints'],
      'required for allow_with_constraints (max_runtime_sec and/or network_allowlist)',
    ]);
  }
  if (
    rule.constraints &&
    rule.constraints.max_runtime_sec === undefined &&
    rule.constraints.network_allowlist === undefined
  ) {
    problems.push([[...base, 'constraints'], 'expected at least one of max_runtime_sec, network_allowlist']);
  }
  if (rule.approval) {
    if (rule.decision !== 'require_approval') {
      problems.push([[...base, 'approval'], `only allowed with decision require_approval, got ${rule.decision}`]);
    }
    const { sla, escalate_after, escalation_roles } = rule.approval;
    const slaSeconds = sla === undefined ? DEFAULT_APPROVAL.sla_seconds : parseDuration(sla)!;
    if (escalate_after !== undefined && parseDuration(escalate_after)! >= slaSeconds) {
      problems.push([
        [...base, 'approval', 'escalate_after'],
        `expected a duration shorter than the SLA (${formatDuration(slaSeconds)})`,
      ]);
    }
    if (escalate_after !== undefined && (escalation_roles === undefined || escalation_roles.length === 0)) {
      problems.push([
        [...base, 'approval', 'escalation_roles'],
        'required when escalate_after is set (who to escalate to)',
      ]);
    }
    if (escalate_after === undefined && escalation_roles !== undefined && escalation_roles.length > 0) {
      problems.push([
        [...base, 'approval', 'escalate_after'],
        'required when escalation_roles is set (when to escalate)',
      ]);
    }
  }
  return problems;
}

function freezeList(list: readonly string[]): readonly string[] {
  return Object.freeze([...list]);
}

function normalizeConstraints(c: ConstraintsInput | undefined): PolicyConstraints | null {
  if (c === undefined) return null;
  const out: { max_runtime_sec?: number; network_allowlist?: readonly string[] } = {};
  if (c.max_runtime_sec !== undefined) out.max_runtime_sec = c.max_runtime_sec;
  if (c.network_allowlist !== undefined) out.network_allowlist = freezeList([...new Set(c.network_allowlist)]);
  return Object.freeze(out);
}

function normalizeApproval(decision: PolicyRuleDecision, a: ApprovalInput | undefined): ApprovalRequirement | null {
  if (decision !== 'require_approval') return null;
  if (a === undefined) return DEFAULT_APPROVAL;
  return Object.freeze({
    approvals_required: a.approvals_required ?? DEFAULT_APPROVAL.approvals_required,
    approver_roles: freezeList(a.approver_roles ?? []),
    sla_seconds: a.sla === undefined ? DEFAULT_APPROVAL.sla_seconds : parseDuration(a.sla)!,
    escalate_after_seconds: a.escalate_after === undefined ? null : parseDuration(a.escalate_after)!,
    escalation_roles: freezeList(a.escalation_roles ?? []),
  });
}

function normalizeDefault(d: DefaultInput): PolicyDefault {
  return Object.freeze({
    decision: d.decision,
    reason: d.reason ?? null,
    constraints: normalizeConstraints(d.constraints),
    approval: normalizeApproval(d.decision, d.approval),
  });
}

function normalize(input: z.infer<typeof PolicyDocumentInputSchema>): PolicyDocument {
  const rules = (input.rules ?? []).map((r, index): PolicyRule =>
    Object.freeze({
      id: r.id,
      index,
      match: Object.freeze({
        topics: r.match.topics ? freezeList(r.match.topics) : null,
        risk_tags: freezeList([...new Set(r.match.risk_tags ?? [])]),
        agents: r.match.agents ? freezeList(r.match.agents) : null,
        tenants: r.match.tenants ? freezeList(r.match.tenants) : null,
      }),
      decision: r.decision,
      reason: r.reason ?? null,
      constraints: normalizeConstraints(r.constraints),
      approval: normalizeApproval(r.decision, r.approval),
    }),
  );
  return Object.freeze({
    version: 'v1',
    default: input.default ? normalizeDefault(input.default) : null,
    rules: Object.freeze(rules),
  });
}
