import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DecisionMadeDataSchema, exampleEvents, type JobProposedData } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { runCli } from '../index';

const ROOT = resolve(__dirname, '../../../..');
const POLICIES = join(ROOT, 'policies');
const tmp = mkdtempSync(join(tmpdir(), 'countersign-cli-'));

function file(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

/** A bare job as an operator writes it: the shared fixture's data without the event-only fields. */
const { summary: _summary, proposed_at: _proposedAt, ...job } = exampleEvents['job.proposed'].data as JobProposedData;
const jobFile = file('job.json', job);

function expectOneCleanErrorLine(stderr: string, text: string): void {
  expect(stderr).toContain(text);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('countersign policy eval', () => {
  it('prints one decision.made-shaped JSON object for a policy file', async () => {
    const sut = await run('policy', 'eval', '--policy', join(POLICIES, 'default.yaml'), '--job', jobFile);
    expect(sut.code).toBe(0);
    expect(sut.stderr).toBe('');
    const out = JSON.parse(sut.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([
      'decision',
      'policy_rule_id',
      'policy_reason',
      'matched_rules',
      'policy_snapshot',
      'job_hash',
      'constraints',
      'approval',
      'decision_summary',
    ]);
    expect(out).toMatchObject({
      decision: 'REQUIRE_APPROVAL',
      policy_rule_id: 'prod-write-gate',
      matched_rules: ['prod-write-gate'],
      job_hash: jobHash(job),
      constraints: {},
      approval: {
        approvals_required: 1,
        approver_roles: ['service-owner', 'on-call'],
        sla_seconds: 1800,
        escalate_after_seconds: 900,
        escalation_roles: ['on-call-lead'],
      },
    });
    expect(out['policy_snapshot']).toMatch(/^cfg:system:policy#sha256:[0-9a-f]{64}$/);
    expect(() =>
      DecisionMadeDataSchema.parse({
        ...out,
        job_id: job.job_id,
        tenant: job.tenant,
        decided_at: '2025-01-01T00:00:00Z',
      }),
    ).not.toThrow();
  });

  it('uses the tenant policy from a policy directory', async () => {
    const sut = await run('policy', 'eval', '--policy-dir', POLICIES, '--job', jobFile);
    expect(sut.code).toBe(0);
    expect(JSON.parse(sut.stdout)).toMatchObject({
      decision: 'REQUIRE_APPROVAL',
      policy_rule_id: 'acme-deploy-review',
      matched_rules: ['prod-write-gate', 'acme-deploy-review'],
      policy_snapshot: expect.stringMatching(/^cfg:tenant:acme:policy#sha256:/),
    });
  });

  it.each([
    [
      'a missing job file',
      ['--policy', join(POLICIES, 'default.yaml'), '--job', join(tmp, 'nope.json')],
      'nope.json: cannot read job file: no such file',
    ],
    [
      'a missing policy file',
      ['--policy', join(tmp, 'nope.yaml'), '--job', jobFile],
      'nope.yaml: cannot read policy file: no such file',
    ],
    [
      'a missing policy directory',
      ['--policy-dir', join(tmp, 'nodir'), '--job', jobFile],
      'nodir: cannot read policy directory',
    ],
    [
      'bad YAML',
      ['--policy', file('syntax.yaml', 'version: v1\nrules: [\n'), '--job', jobFile],
      'syntax.yaml: YAML syntax error',
    ],
    [
      'an unknown decision',
      [
        '--policy',
        file('maybe.yaml', 'version: v1\nrules:\n  - id: x\n    match: {}\n    decision: maybe\n'),
        '--job',
        jobFile,
      ],
      'maybe.yaml: rule "x": decision: expected one of allow, allow_with_constraints, require_approval, deny, got "maybe"',
    ],
    [
      'a job without topic',
      ['--policy', join(POLICIES, 'default.yaml'), '--job', file('notopic.json', { ...job, topic: undefined })],
      'notopic.json: invalid job: topic: required (expected string)',
    ],
    [
      'a job that is not JSON',
      ['--policy', join(POLICIES, 'default.yaml'), '--job', file('notjson.json', '{')],
      'notjson.json: invalid JSON',
    ],
    ['neither --policy nor --policy-dir', ['--job', jobFile], 'pass exactly one of --policy FILE or --policy-dir DIR'],
    ['both --policy and --policy-dir', ['--policy', 'a', '--policy-dir', 'b', '--job', jobFile], 'cannot be used with'],
    ['no --job', ['--policy', join(POLICIES, 'default.yaml')], "required option '--job <file>' not specified"],
  ])('exits 2 with one line for %s', async (_what, args, message) => {
    const sut = await run('policy', 'eval', ...args);
    expect(sut.code).toBe(2);
    expect(sut.stdout).toBe('');
    expectOneCleanErrorLine(sut.stderr, message);
  });
});

describe('countersign policy lint', () => {
  it.each([['default.yaml'], ['approval-policy.yaml'], ['']])('passes the shipped policies (%s)', async (target) => {
    const sut = await run('policy', 'lint', join(POLICIES, target));
    expect(sut.code).toBe(0);
    expect(sut.stdout).toMatch(/: 0 errors, 0 warnings\n$/);
  });

  it('exits 1 and prints errors with their location', async () => {
    const bad = file('lint-bad.yaml', 'version: v1\nrules:\n  - id: x\n    match: {}\n    decision: maybe\n');
    const sut = await run('policy', 'lint', bad);
    expect(sut.code).toBe(1);
    expect(sut.stdout).toContain(
      `error: ${bad}: rule "x": decision: expected one of allow, allow_with_constraints, require_approval, deny, got "maybe" (line 5, column 15) [POLICY_INVALID]`,
    );
    expect(sut.stdout).toContain('1 error, 0 warnings');
  });

  it('treats bad YAML as a lint error', async () => {
    const sut = await run('policy', 'lint', file('lint-syntax.yaml', 'version: [\n'));
    expect(sut.code).toBe(1);
    expect(sut.stdout).toContain('YAML syntax error');
  });

  it.each([
    [
      'a shadowed rule',
      'lint-warn.yaml',
      'version: v1\nrules:\n  - id: gate\n    match: {risk_tags: [prod]}\n    decision: deny\n  - id: late\n    match: {risk_tags: [prod, write]}\n    decision: allow\n',
      ['warning: ', 'rule "late": never decides: rule "gate" (deny)', '0 errors, 1 warning'],
    ],
    [
      'topic globs no golden case uses',
      'lint-topics.yaml',
      'version: v1\nrules:\n  - id: r\n    match: {topics: ["job.nowhere.*"]}\n    decision: allow\n',
      ['"job.nowhere.*" matches no topic in the golden cases [TOPIC_GLOB_UNUSED]'],
    ],
  ])('warns about %s and exits 0', async (_what, name, text, warnings) => {
    const sut = await run('policy', 'lint', file(name, text), '--cases', join(POLICIES, 'cases'));
    expect(sut.code).toBe(0);
    for (const warning of warnings) expect(sut.stdout).toContain(warning);
  });

  it('exits 2 for a path that does not exist', async () => {
    const sut = await run('policy', 'lint', join(tmp, 'missing.yaml'));
    expect(sut.code).toBe(2);
    expectOneCleanErrorLine(sut.stderr, 'missing.yaml: no such file or directory');
  });
});

describe('countersign hash', () => {
  it('prints the job hash', async () => {
    const sut = await run('hash', '--job', jobFile);
    expect(sut.code).toBe(0);
    expect(sut.stdout).toBe(`${jobHash(job)}\n`);
  });

  it('covers the requester, and exits 2 for a job without one', async () => {
    const bob = await run('hash', '--job', file('bob.json', { ...job, requested_by: 'bob' }));
    expect(bob.stdout).toBe(`${jobHash({ ...job, requested_by: 'bob' })}\n`);
    expect(bob.stdout).not.toBe(`${jobHash(job)}\n`);
    const { requested_by: _r, ...anonymous } = job;
    const sut = await run('hash', '--job', file('anonymous.json', anonymous));
    expect(sut.code).toBe(2);
    expect(sut.stdout).toBe('');
    expectOneCleanErrorLine(sut.stderr, 'anonymous.json: invalid job: requested_by: required');
  });

  it('exits 2 for an invalid job', async () => {
    const sut = await run('hash', '--job', file('badtags.json', { ...job, risk_tags: 'prod' }));
    expect(sut.code).toBe(2);
    expectOneCleanErrorLine(sut.stderr, 'badtags.json: invalid job: risk_tags:');
  });
});

describe('countersign', () => {
  it('exits 2 for an unknown command, 0 for --help', async () => {
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expectOneCleanErrorLine(unknown.stderr, "unknown command 'frobnicate'");
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('policy');
  });
});
