import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lintPolicy } from './lint-policy';

const POLICIES = resolve(__dirname, '../../../policies');
const read = (file: string) => readFileSync(join(POLICIES, file), 'utf8');
const caseTopics = readdirSync(join(POLICIES, 'cases'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => (JSON.parse(readFileSync(join(POLICIES, 'cases', f), 'utf8')) as { job: { topic: string } }).job.topic);

const sys = (text: string) => ({ system: { source: 'system.yaml', text } });

describe('lintPolicy', () => {
  it.each(['approval-policy.yaml', 'default.yaml'])('finds nothing in the shipped %s', (file) => {
    expect(lintPolicy({ system: { source: file, text: read(file) }, knownTopics: caseTopics })).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it('finds nothing in the shipped policy directory', () => {
    const sut = lintPolicy({
      system: { source: 'system.yaml', text: read('system.yaml') },
      tenants: [{ tenant: 'acme', source: 'tenants/acme.yaml', text: read('tenants/acme.yaml') }],
      knownTopics: caseTopics,
    });
    expect(sut).toEqual({ errors: [], warnings: [] });
  });

  it('reports parse errors of every file as errors', () => {
    const sut = lintPolicy({
      system: { source: 'system.yaml', text: 'version: v1\nrules:\n  - id: a\n    match: {}\n    decision: maybe\n' },
      tenants: [{ tenant: 'acme', source: 'tenants/acme.yaml', text: 'version: [' }],
    });
    expect(sut.errors.map((e) => e.code)).toEqual(['POLICY_INVALID', 'POLICY_SYNTAX']);
    expect(sut.errors[0]!.message).toContain('system.yaml: rule "a": decision: expected one of');
    expect(sut.errors[1]!.message).toContain('tenants/acme.yaml: YAML syntax error');
  });

  it('reports rule ids reused across files as errors', () => {
    const rule = 'version: v1\nrules:\n  - id: a\n    match: {}\n    decision: deny\n';
    const sut = lintPolicy({ ...sys(rule), tenants: [{ tenant: 'acme', source: 'tenants/acme.yaml', text: rule }] });
    expect(sut.errors).toEqual([expect.objectContaining({ code: 'POLICY_CONFLICT' })]);
  });

  it('warns about a rule shadowed by a broader, more restrictive one', () => {
    const sut = lintPolicy(
      sys(`version: v1
rules:
  - id: gate-all-prod
    match: {risk_tags: [prod]}
    decision: require_approval
  - id: deploy-prod
    match: {risk_tags: [prod, write], topics: ["job.deploy.*"]}
    decision: allow
  - id: deploy-prod-2
    match: {risk_tags: [prod], topics: ["job.deploy.*"]}
    decision: require_approval
  - id: deploy-any
    match: {topics: ["job.deploy.*"]}
    decision: allow
  - id: egress
    match: {risk_tags: [prod]}
    decision: allow_with_constraints
    constraints: {max_runtime_sec: 5}
`),
    );
    expect(sut.errors).toEqual([]);
    expect(sut.warnings.map((w) => w.message)).toEqual([
      'system.yaml: rule "deploy-prod": never decides: rule "gate-all-prod" (require_approval) matches every job it matches and wins',
      'system.yaml: rule "deploy-prod-2": never decides: rule "gate-all-prod" (require_approval) matches every job it matches and wins',
    ]);
  });

  it('does not report a rule that needs more approvals than the broader rule', () => {
    const sut = lintPolicy(
      sys(`version: v1
rules:
  - id: broad
    match: {risk_tags: [prod]}
    decision: require_approval
  - id: narrow-dual
    match: {risk_tags: [prod, payment]}
    decision: require_approval
    approval: {approvals_required: 2}
`),
    );
    expect(sut.warnings).toEqual([]);
  });

  it('warns about tenant rules and defaults that cannot take effect', () => {
    const sut = lintPolicy({
      ...sys('version: v1\nrules:\n  - id: gate\n    match: {topics: ["job.**"]}\n    decision: require_approval\n'),
      tenants: [
        {
          tenant: 'acme',
          source: 'tenants/acme.yaml',
          text: `version: v1
default: {decision: allow}
rules:
  - id: acme-allow
    match: {topics: ["job.ticket.*"]}
    decision: allow
  - id: acme-other
    match: {tenants: [globex]}
    decision: deny
  - id: acme-shadowed
    match: {topics: ["job.deploy.*"]}
    decision: require_approval
`,
        },
      ],
    });
    expect(sut.warnings.map((w) => w.code)).toEqual([
      'RULE_SHADOWED',
      'TENANT_ALLOW_NEVER_DECIDES',
      'TENANT_RULE_NEVER_APPLIES',
      'TENANT_DEFAULT_IGNORED',
    ]);
    expect(sut.warnings[3]!.message).toBe(
      'tenants/acme.yaml: default: ignored: allow is not more restrictive than the system default (require_approval)',
    );
  });

  it('warns about topic globs no golden case exercises', () => {
    const sut = lintPolicy({
      ...sys(
        'version: v1\nrules:\n  - id: r\n    match: {topics: ["job.*.read", "job.legacy.*"]}\n    decision: allow\n',
      ),
      knownTopics: ['job.db.read'],
    });
    expect(sut.warnings).toEqual([
      {
        code: 'TOPIC_GLOB_UNUSED',
        message: 'system.yaml: rule "r": match.topics[1]: "job.legacy.*" matches no topic in the golden cases',
      },
    ]);
  });
});
