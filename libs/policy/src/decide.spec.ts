import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jobHash } from '@countersign/crypto';
import { compilePolicySet, type CompiledPolicySet } from './compile-policy-set';
import { decide, decideWithoutHash, RESERVED_KEY_RULE_ID, titleFromTopic } from './decide';
import { loadPolicyDir, loadPolicyFile } from './load-policy-dir';
import { parsePolicy } from './parse-policy';
import { PolicyError } from './policy.error';
import { createPolicySet } from './policy-set';
import type { HashablePolicyJob, PolicyJob } from './policy.types';

const POLICIES = resolve(__dirname, '../../../policies');

function job(over: Partial<HashablePolicyJob> = {}): HashablePolicyJob {
  return {
    job_id: 'j1',
    tenant: 't1',
    agent_id: 'agent-1',
    topic: 'job.x.run',
    risk_tags: [],
    payload: { a: 1 },
    requested_by: 'alice',
    ...over,
  };
}

function compile(system: string, tenants: Record<string, string> = {}, topicCacheSize?: number): CompiledPolicySet {
  const parsed = Object.fromEntries(
    Object.entries(tenants).map(([t, text]) => [t, parsePolicy(text, `tenants/${t}.yaml`)]),
  );
  return compilePolicySet(
    createPolicySet(parsePolicy(system, 'system.yaml'), parsed),
    topicCacheSize === undefined ? {} : { topicCacheSize },
  );
}

const SYSTEM_APPROVAL = `version: v1
rules:
  - id: sys-gate
    match: {topics: ["job.x.*"]}
    decision: require_approval
  - id: sys-read
    match: {topics: ["job.*.read"]}
    decision: allow
`;

describe('decide', () => {
  describe('agent globs name workload identities', () => {
    const sut = compile(
      [
        'version: v1',
        'default: {decision: deny}',
        'rules:',
        '  - id: prod-workloads',
        '    match: {agents: ["spiffe://acme.example/ns/prod/*"]}',
        '    decision: require_approval',
        '  - id: fleet-a',
        '    match: {agents: ["fleet-a/*", "User:CN=*,OU=fleet"]}',
        '    decision: allow',
        '',
      ].join('\n'),
    );

    it.each([
      ['spiffe://acme.example/ns/prod/sa/deploy-bot', 'prod-workloads'],
      ['spiffe://acme.example/ns/staging/sa/deploy-bot', 'default'],
      ['spiffe://acme.example/ns/prod', 'default'],
      ['fleet-a/1', 'fleet-a'],
      ['fleet-b/1', 'default'],
      ['User:CN=bot,OU=fleet', 'fleet-a'],
      ['User:CN=bot,OU=other', 'default'],
    ])('%s is decided by %s', (agent_id, rule) => {
      expect(decide(job({ agent_id }), sut).policy_rule_id).toBe(rule);
    });
  });

  describe('tenants can only tighten', () => {
    it('a tenant allow rule cannot beat the system default that stands in for unmatched system rules', () => {
      const sut = compile(SYSTEM_APPROVAL, {
        t1: 'version: v1\nrules:\n  - id: t-allow\n    match: {topics: ["job.y.*"]}\n    decision: allow\n',
      });
      const d = decide(job({ topic: 'job.y.run' }), sut);
      expect(d.decision).toBe('REQUIRE_APPROVAL');
      expect(d.policy_rule_id).toBe('default');
      expect(d.matched_rules).toEqual(['t-allow']);
    });

    it('a tenant allow rule cannot beat a system approval rule', () => {
      const sut = compile(SYSTEM_APPROVAL, {
        t1: 'version: v1\nrules:\n  - id: t-allow\n    match: {topics: ["job.x.*"]}\n    decision: allow\n',
      });
      expect(decide(job(), sut).policy_rule_id).toBe('sys-gate');
    });

    it('on equal strength the system rule decides', () => {
      const sut = compile(SYSTEM_APPROVAL, {
        t1: 'version: v1\nrules:\n  - id: t-gate\n    match: {topics: ["job.x.*"]}\n    decision: require_approval\n',
      });
      const d = decide(job(), sut);
      expect(d.policy_rule_id).toBe('sys-gate');
      expect(d.matched_rules).toEqual(['sys-gate', 't-gate']);
    });

    it('a less restrictive tenant default is ignored, a more restrictive one applies', () => {
      const loose = compile(SYSTEM_APPROVAL, { t1: 'version: v1\ndefault: {decision: allow}\n' });
      expect(decide(job({ topic: 'job.z.run' }), loose)).toMatchObject({
        decision: 'REQUIRE_APPROVAL',
        policy_reason: 'No policy rule matched',
      });
      const strict = compile(SYSTEM_APPROVAL, { t1: 'version: v1\ndefault: {decision: deny}\n' });
      expect(decide(job({ topic: 'job.z.run' }), strict)).toMatchObject({
        decision: 'DENY',
        policy_rule_id: 'default',
        policy_reason: 'No policy rule matched (default of tenant t1)',
      });
      // Only when nothing matches: a system rule still decides.
      expect(decide(job({ topic: 'job.z.read' }), strict).decision).toBe('ALLOW');
    });

    it("does not apply a tenant's rules to other tenants", () => {
      const sut = compile(SYSTEM_APPROVAL, {
        t1: 'version: v1\nrules:\n  - id: t-deny\n    match: {}\n    decision: deny\n',
      });
      expect(decide(job({ tenant: 't1', topic: 'job.a.read' }), sut).decision).toBe('DENY');
      expect(decide(job({ tenant: 't2', topic: 'job.a.read' }), sut).decision).toBe('ALLOW');
    });

    it('rejects a tenant rule that reuses a system rule id', () => {
      expect(() =>
        compile(SYSTEM_APPROVAL, { t1: 'version: v1\nrules:\n  - id: sys-gate\n    match: {}\n    decision: deny\n' }),
      ).toThrow(
        new PolicyError('POLICY_CONFLICT', [
          'tenants/t1.yaml: rule "sys-gate": id: already used in system.yaml; rule ids must be unique across system and tenant policies',
        ]),
      );
    });

    it('rejects an invalid tenant id', () => {
      expect(() =>
        createPolicySet(parsePolicy(SYSTEM_APPROVAL, 's.yaml'), {
          'bad/tenant': parsePolicy(SYSTEM_APPROVAL, 't.yaml'),
        }),
      ).toThrow(PolicyError);
    });
  });

  describe('reserved keys (pre-check before any rule)', () => {
    const ALLOW_ALL =
      'version: v1\ndefault: {decision: allow}\nrules:\n  - id: all\n    match: {topics: ["**"]}\n    decision: allow\n';
    // Raw JSON text: JSON.parse makes "__proto__" an own key, as the services receive it.
    const withPayload = (text: string, over: Partial<HashablePolicyJob> = {}) =>
      job({ payload: JSON.parse(text) as Record<string, unknown>, ...over });

    it.each([
      ['{"a":{"__proto__":{"admin":true}}}', 'payload.a.__proto__'],
      ['{"__proto__":{"x":1}}', 'payload.__proto__'],
      ['{"items":[1,{"constructor":{}}]}', 'payload.items[1].constructor'],
      ['{"x":{"y":[{"prototype":null}]}}', 'payload.x.y[0].prototype'],
    ])('denies %s whatever the rules say, naming %s', (text, path) => {
      const sut = compile(ALLOW_ALL);
      const j = withPayload(text);
      const d = decide(j, sut);
      expect(d).toMatchObject({
        decision: 'DENY',
        policy_rule_id: RESERVED_KEY_RULE_ID,
        matched_rules: [RESERVED_KEY_RULE_ID],
        constraints: {},
        approval: null,
        policy_snapshot: sut.system.snapshot,
        decision_summary: { title: 'X run', next_effect: 'Blocked: job.x.run will not run' },
      });
      expect(d.policy_reason).toContain(`reserved key ${path} (`);
      expect(d.decision_summary.why).toBe(d.policy_reason);
      // The hash covers the payload as received, reserved key included.
      expect(d.job_hash).toBe(jobHash(j));
      expect(d.job_hash).not.toBe(jobHash(job({ payload: {} })));
      const { job_hash: _hash, ...evaluation } = d;
      expect(decideWithoutHash(j, sut)).toEqual(evaluation);
    });

    it('beats a tenant policy and every matching rule, and is the most restrictive outcome', () => {
      const sut = compile(SYSTEM_APPROVAL, { t1: ALLOW_ALL.replace('id: all', 'id: t-all') });
      expect(decide(withPayload('{"ok":1,"n":{"constructor":"c"}}', { topic: 'job.x.read' }), sut)).toMatchObject({
        decision: 'DENY',
        policy_rule_id: RESERVED_KEY_RULE_ID,
        policy_snapshot: sut.tenants.get('t1')!.snapshot,
      });
    });

    it('leaves look-alike keys and reserved words in values to the rules', () => {
      const sut = compile(ALLOW_ALL);
      expect(
        decide(withPayload('{"Constructor":1,"__proto":2,"prototypes":3,"v":"__proto__","l":["constructor"]}'), sut),
      ).toMatchObject({
        decision: 'ALLOW',
        policy_rule_id: 'all',
      });
    });

    it('refuses a policy rule id that poses as a built-in check', () => {
      expect(() =>
        compile('version: v1\nrules:\n  - id: countersign:reserved-key\n    match: {}\n    decision: allow\n'),
      ).toThrow(/"countersign:" prefix is reserved/);
    });
  });

  describe('output', () => {
    const policy = compilePolicySet(loadPolicyFile(join(POLICIES, 'default.yaml')));

    it('generates a reason for rules without one', () => {
      const d = decide(job({ topic: 'job.db.read' }), policy);
      expect(d.policy_reason).toBe('Allowed by rule allow-read');
      expect(d.decision_summary.why).toBe('Allowed by rule allow-read');
      const e = decide(job({ topic: 'job.report.send', risk_tags: ['egress'] }), policy);
      expect(e.policy_reason).toBe('Allowed with constraints by rule egress-bounded');
    });

    it('describes the next effect', () => {
      expect(decide(job({ topic: 'job.db.read' }), policy).decision_summary.next_effect).toBe('Runs job.db.read now');
      expect(decide(job({ topic: 'job.payment.transfer', risk_tags: ['payment'] }), policy).decision_summary).toEqual({
        title: 'Payment transfer',
        why: 'Financial operations require dual approval',
        next_effect:
          'Waits for 2 approvals from [finance-approver] within 4h, then runs job.payment.transfer; escalates to [finance-lead] after 2h',
      });
      expect(decide(job({ topic: 'job.k8s.scale' }), policy).decision_summary.next_effect).toBe(
        'Waits for 1 approval from any approver within 1h, then runs job.k8s.scale',
      );
      expect(
        decide(job({ topic: 'job.ticket.comment', risk_tags: ['internal', 'egress'] }), policy).decision_summary
          .next_effect,
      ).toBe('Runs job.ticket.comment now, limited to at most 60s, network to api.slack.com');
      expect(
        decide(job({ topic: 'job.db.drop', risk_tags: ['prod', 'destructive'] }), policy).decision_summary.next_effect,
      ).toBe('Blocked: job.db.drop will not run');
    });

    it("uses the agent's title when it sent one", () => {
      expect(decide(job({ summary: { title: 'Roll out v1.4.2' } }), policy).decision_summary.title).toBe(
        'Roll out v1.4.2',
      );
      expect(titleFromTopic('job.deploy.blue_green-switch')).toBe('Deploy blue green switch');
      expect(titleFromTopic('deploy.rollout')).toBe('Deploy rollout');
    });

    it('hashes the job, or takes a precomputed hash', () => {
      const j = job({ risk_tags: ['b', 'a'] });
      expect(decide(j, policy).job_hash).toBe(jobHash(j));
      expect(decide(job({ risk_tags: ['b', 'a'], requested_by: 'bob' }), policy).job_hash).not.toBe(jobHash(j));
      expect(decide(j, policy, { jobHash: 'f'.repeat(64) }).job_hash).toBe('f'.repeat(64));
    });

    it('decideWithoutHash is decide minus the hash', () => {
      const j = job({ topic: 'job.db.update', risk_tags: ['prod', 'write', 'payment', 'egress'] });
      const { job_hash: _hash, ...rest } = decide(j, policy);
      expect(decideWithoutHash(j, policy)).toEqual(rest);
    });

    it('returns fresh matched_rules and frozen shared parts', () => {
      const j = job({ topic: 'job.payment.transfer', risk_tags: ['payment'] });
      const a = decide(j, policy);
      const b = decide(j, policy);
      expect(a.matched_rules).not.toBe(b.matched_rules);
      expect(Object.isFrozen(a.approval)).toBe(true);
      expect(Object.isFrozen(a.constraints)).toBe(true);
    });

    it('is not changed by the order or repetition of risk tags', () => {
      const a = decide(job({ topic: 'job.db.update', risk_tags: ['write', 'prod'] }), policy);
      const b = decide(job({ topic: 'job.db.update', risk_tags: ['prod', 'write', 'prod'] }), policy);
      expect(a.policy_rule_id).toBe(b.policy_rule_id);
    });

    it('merges an allowlist intersection down to no hosts', () => {
      const sut = compile(`version: v1
rules:
  - id: a
    match: {risk_tags: [a]}
    decision: allow_with_constraints
    constraints: {network_allowlist: [x.example]}
  - id: b
    match: {risk_tags: [b]}
    decision: allow_with_constraints
    constraints: {network_allowlist: [y.example], max_runtime_sec: 5}
`);
      const d = decide(job({ risk_tags: ['a', 'b'] }), sut);
      expect(d.constraints).toEqual({ max_runtime_sec: 5, network_allowlist: [] });
      expect(d.decision_summary.next_effect).toBe('Runs job.x.run now, limited to at most 5s, no network');
    });
  });

  describe('topic memo', () => {
    const cases = readdirSync(join(POLICIES, 'cases'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(POLICIES, 'cases', f), 'utf8')) as { policy: string; job: PolicyJob })
      .map((c) => ({ ...c, job: { ...c.job, requested_by: 'golden@example.com' } }));

    it('gives the same decisions with the memo disabled', () => {
      for (const ref of ['approval-policy.yaml', 'default.yaml', 'dir:.']) {
        const set = ref === 'dir:.' ? loadPolicyDir(POLICIES) : loadPolicyFile(join(POLICIES, ref));
        const cached = compilePolicySet(set);
        const uncached = compilePolicySet(set, { topicCacheSize: 0 });
        for (const c of cases) expect(decide(c.job, uncached)).toEqual(decide(c.job, cached));
      }
    });

    it('stays bounded', () => {
      const sut = compile(SYSTEM_APPROVAL, {}, 3);
      for (let i = 0; i < 10; i++) decide(job({ topic: `job.t${i}.read` }), sut);
      expect(sut.system.topicCache!.size).toBeLessThanOrEqual(3);
      expect(decide(job({ topic: 'job.t1.read' }), sut).decision).toBe('ALLOW');
    });
  });
});
