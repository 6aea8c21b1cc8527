import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_APPROVAL, parsePolicy } from './parse-policy';
import { PolicyError } from './policy.error';

const SEED = readFileSync(resolve(__dirname, '../../../policies/approval-policy.yaml'), 'utf8');
const FILE = 'policies/x.yaml';

function rule(body: string): string {
  return `version: v1\nrules:\n  - id: r1\n${body}`;
}

function errorOf(text: string): PolicyError {
  try {
    parsePolicy(text, FILE);
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicy', () => {
  it('loads the seed policy unchanged', () => {
    const sut = parsePolicy(SEED, 'policies/approval-policy.yaml');
    expect(sut.raw).toEqual(parseYaml(SEED));
    expect(sut.document.default).toBeNull();
    expect(sut.document.rules.map((r) => [r.id, r.decision])).toEqual([
      ['allow-read', 'allow'],
      ['prod-write-gate', 'require_approval'],
      ['payment-gate', 'require_approval'],
      ['egress-bounded', 'allow_with_constraints'],
    ]);
    const [read, prod, , egress] = sut.document.rules;
    expect(read!.match).toEqual({
      topics: ['job.*.read', 'job.*.list', 'job.*.get'],
      risk_tags: [],
      agents: null,
      tenants: null,
    });
    expect(read!.approval).toBeNull();
    expect(prod!.approval).toEqual(DEFAULT_APPROVAL);
    expect(prod!.reason).toBe('Production writes require human approval');
    expect(egress!.constraints).toEqual({
      max_runtime_sec: 60,
      network_allowlist: ['api.github.com', 'api.slack.com'],
    });
  });

  it('fills approval defaults and parses durations', () => {
    const sut = parsePolicy(
      rule(
        '    match: {}\n    decision: require_approval\n    approval:\n      approvals_required: 2\n      approver_roles: [finance-approver]\n      sla: 4h\n      escalate_after: 90m\n      escalation_roles: [finance-lead]\n',
      ),
      FILE,
    );
    expect(sut.document.rules[0]!.approval).toEqual({
      approvals_required: 2,
      approver_roles: ['finance-approver'],
      sla_seconds: 14400,
      escalate_after_seconds: 5400,
      escalation_roles: ['finance-lead'],
    });
    expect(DEFAULT_APPROVAL).toEqual({
      approvals_required: 1,
      approver_roles: [],
      sla_seconds: 3600,
      escalate_after_seconds: null,
      escalation_roles: [],
    });
  });

  it('accepts the extensions: default, deny, agents, tenants', () => {
    const sut = parsePolicy(
      'version: v1\ndefault:\n  decision: deny\n  reason: closed\nrules:\n  - id: r1\n    match: {agents: ["bot-*"], tenants: [acme]}\n    decision: deny\n',
      FILE,
    );
    expect(sut.document.default).toEqual({ decision: 'deny', reason: 'closed', constraints: null, approval: null });
    expect(sut.document.rules[0]!.match).toEqual({ topics: null, risk_tags: [], agents: ['bot-*'], tenants: ['acme'] });
  });

  it('accepts agent globs that name workload identities', () => {
    const sut = parsePolicy(
      'version: v1\nrules:\n  - id: r1\n    match: {agents: ["spiffe://acme.example/ns/prod/*", "fleet-a/*", "User:CN=bot,OU=fleet"]}\n    decision: deny\n',
      FILE,
    );
    expect(sut.document.rules[0]!.match.agents).toEqual([
      'spiffe://acme.example/ns/prod/*',
      'fleet-a/*',
      'User:CN=bot,OU=fleet',
    ]);
  });

  it.each([
    ['an agent glob with a space', 'agents: ["fleet a/*"]', 'match.agents[0]: expected an agent glob'],
    ['an agent glob of 256 characters', `agents: ["${'a'.repeat(256)}"]`, 'match.agents[0]: expected at most 255'],
    ['a tenant glob with "/"', 'tenants: ["acme/*"]', 'match.tenants[0]: expected an id glob'],
  ])('refuses %s', (_what, match, message) => {
    expect(() => parsePolicy(rule(`    match: {${match}}\n    decision: deny\n`), FILE)).toThrow(message);
  });

  it('returns frozen documents', () => {
    const sut = parsePolicy(SEED, FILE);
    expect(Object.isFrozen(sut.document.rules)).toBe(true);
    expect(Object.isFrozen(sut.document.rules[3]!.constraints!.network_allowlist)).toBe(true);
  });

  describe('errors', () => {
    it.each([
      [
        'an unknown decision',
        rule('    match: {}\n    decision: maybe\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": decision: expected one of allow, allow_with_constraints, require_approval, deny, got "maybe" (line 5, column 15)`,
      ],
      [
        'YAML syntax, with line and column',
        'version: v1\nrules:\n  - id: a\n    match: [\n',
        'POLICY_SYNTAX',
        `${FILE}: YAML syntax error: `,
      ],
      [
        'a duplicate YAML key',
        'version: v1\nversion: v1\n',
        'POLICY_SYNTAX',
        `${FILE}: YAML syntax error: Map keys must be unique (line 2, column 1)`,
      ],
      [
        'a duplicate rule id',
        'version: v1\nrules:\n  - id: a\n    match: {}\n    decision: allow\n  - id: a\n    match: {}\n    decision: deny\n',
        'POLICY_INVALID',
        `${FILE}: rule "a": id: duplicate rule id (first used by rules[0]) (line 6, column 9)`,
      ],
      [
        'an unknown field',
        rule('    match: {risk_tag: [x]}\n    decision: allow\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": match.risk_tag: unknown field (expected one of topics, risk_tags, agents, tenants)`,
      ],
      [
        'a missing field, by rule index',
        'version: v1\nrules:\n  - match: {}\n    decision: allow\n',
        'POLICY_INVALID',
        `${FILE}: rules[0]: id: required (expected a string)`,
      ],
      [
        'a missing match',
        rule('    decision: allow\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": match: required (expected a mapping)`,
      ],
      [
        'a wrong version',
        'version: v2\nrules: []\n',
        'POLICY_INVALID',
        `${FILE}: version: expected "v1", got "v2" (line 1, column 10)`,
      ],
      ['an empty file', '', 'POLICY_INVALID', `${FILE}: expected a mapping, got null`],
      [
        'a wrong type',
        rule('    match: {risk_tags: prod}\n    decision: allow\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": match.risk_tags: expected a list, got "prod"`,
      ],
      [
        'a bad topic glob',
        rule('    match: {topics: ["job..x"]}\n    decision: allow\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": match.topics[0]: expected a topic glob: dot-separated segments of letters, digits, "_", "-" and "*", or "**", got "job..x"`,
      ],
      [
        'an empty topic list',
        rule('    match: {topics: []}\n    decision: allow\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": match.topics: expected at least one topic glob (omit the field to match any)`,
      ],
      [
        'allow_with_constraints without constraints',
        rule('    match: {}\n    decision: allow_with_constraints\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": constraints: required for allow_with_constraints`,
      ],
      [
        'empty constraints',
        rule('    match: {}\n    decision: allow_with_constraints\n    constraints: {}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": constraints: expected at least one of max_runtime_sec, network_allowlist`,
      ],
      [
        'a non-positive runtime',
        rule('    match: {}\n    decision: allow_with_constraints\n    constraints: {max_runtime_sec: 0}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": constraints.max_runtime_sec: expected a positive number of seconds, got 0`,
      ],
      [
        'a non-JSON number',
        rule('    match: {}\n    decision: allow_with_constraints\n    constraints: {max_runtime_sec: .inf}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": constraints.max_runtime_sec: expected a JSON value (finite number, string, list or mapping), got Infinity`,
      ],
      [
        'a bad duration',
        rule('    match: {}\n    decision: require_approval\n    approval: {sla: 30 minutes}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": approval.sla: expected a duration like 30s, 15m, 1h or 2d, got "30 minutes"`,
      ],
      [
        'too many approvals',
        rule('    match: {}\n    decision: require_approval\n    approval: {approvals_required: 11}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": approval.approvals_required: expected 1 to 10, got 11`,
      ],
      [
        'approval on a non-approval rule',
        rule('    match: {}\n    decision: allow\n    approval: {sla: 30m}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": approval: only allowed with decision require_approval, got allow`,
      ],
      [
        'escalation after the SLA',
        rule(
          '    match: {}\n    decision: require_approval\n    approval: {sla: 30m, escalate_after: 1h, escalation_roles: [lead]}\n',
        ),
        'POLICY_INVALID',
        `${FILE}: rule "r1": approval.escalate_after: expected a duration shorter than the SLA (30m)`,
      ],
      [
        'escalation without roles',
        rule('    match: {}\n    decision: require_approval\n    approval: {escalate_after: 10m}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": approval.escalation_roles: required when escalate_after is set`,
      ],
      [
        'escalation roles without a time',
        rule('    match: {}\n    decision: require_approval\n    approval: {escalation_roles: [lead]}\n'),
        'POLICY_INVALID',
        `${FILE}: rule "r1": approval.escalate_after: required when escalation_roles is set`,
      ],
      [
        'a bad default',
        'version: v1\ndefault: {decision: allow_all}\n',
        'POLICY_INVALID',
        `${FILE}: default.decision: expected one of allow, allow_with_constraints, require_approval, deny, got "allow_all"`,
      ],
    ])('reports %s', (_what, text, code, message) => {
      const sut = errorOf(text);
      expect(sut.code).toBe(code);
      expect(sut.issues[0]).toContain(message);
      expect(sut.message).not.toContain('\n');
    });

    it('reports every problem at once, on one line', () => {
      const sut = errorOf(
        'version: v1\nrules:\n  - id: a\n    match: {}\n    decision: maybe\n  - id: b\n    match: {topics: 3}\n    decision: allow\n',
      );
      expect(sut.issues).toEqual([
        `${FILE}: rule "a": decision: expected one of allow, allow_with_constraints, require_approval, deny, got "maybe" (line 5, column 15)`,
        `${FILE}: rule "b": match.topics: expected a list, got 3 (line 7, column 21)`,
      ]);
      expect(sut.message).toBe(sut.issues.join('; '));
    });
  });
});
