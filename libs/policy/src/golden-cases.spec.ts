import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DecisionMadeDataSchema, JobProposedDataSchema } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { compilePolicySet, type CompiledPolicySet } from './compile-policy-set';
import { decide } from './decide';
import { loadPolicyDir, loadPolicyFile } from './load-policy-dir';
import type { HashablePolicyJob, PolicyJob } from './policy.types';

const POLICIES = resolve(__dirname, '../../../policies');
const CASES = join(POLICIES, 'cases');

interface GoldenCase {
  name: string;
  description?: string;
  policy: string;
  job: PolicyJob & { requested_by?: string };
  expect: {
    decision: string;
    policy_rule_id: string;
    matched_rules?: string[];
    constraints?: unknown;
    approval?: unknown;
  };
}

const compiled = new Map<string, CompiledPolicySet>();
function policyFor(ref: string): CompiledPolicySet {
  let c = compiled.get(ref);
  if (!c) {
    const set = ref.startsWith('dir:')
      ? loadPolicyDir(join(POLICIES, ref.slice(4)))
      : loadPolicyFile(join(POLICIES, ref));
    c = compilePolicySet(set);
    compiled.set(ref, c);
  }
  return c;
}

const files = readdirSync(CASES)
  .filter((f) => f.endsWith('.json'))
  .sort();
const cases = files.map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(CASES, f), 'utf8')) as GoldenCase) }));

describe('golden cases (policies/cases)', () => {
  it('has at least 25 cases with unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    // The requester decides nothing, but the job hash covers it; a case may name its own.
    const job: HashablePolicyJob = { requested_by: 'golden@example.com', ...c.job };
    // Every case's job must be a valid proposal, so cases cannot drift from the contract.
    JobProposedDataSchema.parse({ ...job, proposed_at: '2025-01-01T00:00:00Z' });
    const sut = decide(job, policyFor(c.policy));

    expect(sut.decision).toBe(c.expect.decision);
    expect(sut.policy_rule_id).toBe(c.expect.policy_rule_id);
    if (c.expect.matched_rules !== undefined) expect(sut.matched_rules).toEqual(c.expect.matched_rules);
    if (c.expect.constraints !== undefined) expect(sut.constraints).toEqual(c.expect.constraints);
    if (c.expect.approval !== undefined) expect(sut.approval).toEqual(c.expect.approval);
    expect(sut.approval === null).toBe(sut.decision !== 'REQUIRE_APPROVAL');
    expect(sut.job_hash).toBe(jobHash(job));
    const tenantFile = c.policy.startsWith('dir:') && policyFor(c.policy).tenants.has(c.job.tenant);
    expect(
      sut.policy_snapshot.startsWith(
        tenantFile ? `cfg:tenant:${c.job.tenant}:policy#sha256:` : 'cfg:system:policy#sha256:',
      ),
    ).toBe(true);

    // The output lines up with the decision.made event data.
    expect(() =>
      DecisionMadeDataSchema.parse({
        ...sut,
        job_id: c.job.job_id,
        tenant: c.job.tenant,
        decided_at: '2025-01-01T00:00:00Z',
      }),
    ).not.toThrow();
  });
});
