import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import canonicalize from 'canonicalize';
import { parse as parseYaml } from 'yaml';
import { compilePolicySet, policySnapshots, snapshotFor } from './compile-policy-set';
import { decide } from './decide';
import { loadPolicyDir } from './load-policy-dir';
import { parsePolicy } from './parse-policy';
import { createPolicySet } from './policy-set';

const POLICIES = resolve(__dirname, '../../../policies');

/** Recomputed here from first principles, not with the library's helpers. */
function sha256OfCanonical(value: unknown): string {
  return createHash('sha256').update(canonicalize(value)!, 'utf8').digest('hex');
}

function read(file: string): string {
  return readFileSync(join(POLICIES, file), 'utf8');
}

const job = {
  job_id: 'j1',
  tenant: 'globex',
  agent_id: 'a1',
  topic: 'job.db.read',
  risk_tags: [],
  payload: {},
  requested_by: 'alice',
};

describe('policy snapshots', () => {
  it.each(['approval-policy.yaml', 'default.yaml', 'system.yaml'])(
    '%s: cfg:system:policy#sha256 of the canonical parsed YAML',
    (file) => {
      const text = read(file);
      const sut = compilePolicySet(createPolicySet(parsePolicy(text, file)));
      expect(sut.system.snapshot).toBe(`cfg:system:policy#sha256:${sha256OfCanonical(parseYaml(text))}`);
      expect(decide(job, sut).policy_snapshot).toBe(sut.system.snapshot);
    },
  );

  it('a tenant with its own file: cfg:tenant:<id> over {system, tenant}', () => {
    const sut = compilePolicySet(loadPolicyDir(POLICIES));
    const expected = sha256OfCanonical({
      system: parseYaml(read('system.yaml')),
      tenant: parseYaml(read('tenants/acme.yaml')),
    });
    expect(snapshotFor(sut, 'acme')).toBe(`cfg:tenant:acme:policy#sha256:${expected}`);
    expect(decide({ ...job, tenant: 'acme' }, sut).policy_snapshot).toBe(`cfg:tenant:acme:policy#sha256:${expected}`);
    // Tenants without a file share the system snapshot.
    expect(snapshotFor(sut, 'globex')).toBe(
      `cfg:system:policy#sha256:${sha256OfCanonical(parseYaml(read('system.yaml')))}`,
    );
    expect(policySnapshots(sut).map((s) => s.scope)).toEqual(['system', 'tenant:acme']);
  });

  it('ignores comments, layout and key order, but not content', () => {
    const a = 'version: v1\nrules:\n  - id: r\n    match: {risk_tags: [x]}\n    decision: deny\n';
    const b = '# comment\nrules:\n- decision: deny\n  match:\n    risk_tags:\n      - x\n  id: r\nversion: "v1"\n';
    const c = a.replace('[x]', '[y]');
    const snap = (t: string) => compilePolicySet(createPolicySet(parsePolicy(t, 'p.yaml'))).system.snapshot;
    expect(snap(a)).toBe(snap(b));
    expect(snap(a)).not.toBe(snap(c));
  });
});
