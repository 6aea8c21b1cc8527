import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadExecutorsConfig, topicMatcher } from './executors.config';

const dir = mkdtempSync(join(tmpdir(), 'eb-exec-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const httpYaml = `executors:\n  - name: h\n    kind: http\n    match: ["job.x.*"]\n    url: https://x.test/hook\n    secret_env: HOOK_SECRET\n`;

describe('topicMatcher', () => {
  it.each([
    ['job.*', 'job.deploy', true],
    ['job.*', 'job.deploy.rollout', false],
    ['job.**', 'job.deploy.rollout', true],
    ['job.*.read', 'job.db.read', true],
    ['job.*.read', 'job.db.x.read', false],
    ['**', 'anything.at.all', true],
  ])('%s vs %s -> %s', (glob, topic, expected) => {
    expect(topicMatcher([glob])(topic)).toBe(expected);
  });

  it('matches any of several globs', () => {
    const sut = topicMatcher(['job.payment.**', 'job.refund.**']);
    expect(sut('job.refund.partial')).toBe(true);
    expect(sut('job.deploy')).toBe(false);
  });
});

describe('loadExecutorsConfig', () => {
  it('loads both shipped files', () => {
    const root = resolve(__dirname, '../../../..');
    const local = loadExecutorsConfig(join(root, 'deploy/local/executors.yaml'), {}, 'development');
    expect(local.executors.map((e) => e.kind)).toEqual(['http', 'kafka', 'release']);
    expect(local.generatedSecrets).toEqual(['EXECUTOR_HTTP_SECRET']);
    const secrets = { EXECUTOR_DEPLOY_SECRET: 'x'.repeat(32), EXECUTOR_PAYMENTS_SECRET: 'y'.repeat(32) };
    const prod = loadExecutorsConfig(join(root, 'deploy/executors.production.yaml'), secrets, 'production');
    expect(prod.executors.find((e) => e.matches('job.payment.refund'))?.name).toBe('payments');
    expect(prod.executors.find((e) => e.matches('job.unknown'))).toBeUndefined();
  });

  it('applies defaults: http not idempotent, kafka idempotent, 30 s timeout', () => {
    const sut = loadExecutorsConfig(
      file('d.yaml', `${httpYaml}  - name: k\n    kind: kafka\n    match: ["**"]\n    topic: d\n`),
      { HOOK_SECRET: 's'.repeat(16) },
      'production',
    );
    expect(sut.executors.map((e) => [e.idempotent, e.timeout_sec])).toEqual([
      [false, 30],
      [true, 30],
    ]);
    expect(sut.secrets.get('HOOK_SECRET')).toBe('s'.repeat(16));
  });

  it('refuses to boot in production without the HMAC secret, naming it', () => {
    expect(() => loadExecutorsConfig(file('p.yaml', httpYaml), {}, 'production')).toThrow(
      /HOOK_SECRET: required by executor h/,
    );
  });

  it('refuses a short secret', () => {
    expect(() => loadExecutorsConfig(file('s.yaml', httpYaml), { HOOK_SECRET: 'short' }, 'development')).toThrow(
      /at least 16/,
    );
  });

  it('generates a random secret outside production', () => {
    const sut = loadExecutorsConfig(file('g.yaml', httpYaml), {}, 'test');
    expect(sut.generatedSecrets).toEqual(['HOOK_SECRET']);
    expect(sut.secrets.get('HOOK_SECRET')).toHaveLength(64);
  });

  it.each([
    ['an unknown kind', 'executors:\n  - name: a\n    kind: ftp\n    match: ["**"]\n', /kind/],
    ['an unknown field', 'executors:\n  - name: a\n    kind: release\n    match: ["**"]\n    url: http://x\n', /url/],
    ['a bad glob', 'executors:\n  - name: a\n    kind: release\n    match: ["job/x"]\n', /match\.0/],
    [
      'glob syntax the policy engine does not accept (braces)',
      'executors:\n  - name: a\n    kind: release\n    match: ["job.{a,b}.x"]\n',
      /executors\.0\.match\.0: expected a topic glob: dot-separated segments/,
    ],
    [
      'a "?" wildcard',
      'executors:\n  - name: a\n    kind: release\n    match: ["job.?"]\n',
      /match\.0: expected a topic glob/,
    ],
    [
      'a duplicate name',
      'executors:\n  - name: a\n    kind: release\n    match: ["**"]\n  - name: a\n    kind: release\n    match: ["x"]\n',
      /duplicate executor name a/,
    ],
    ['a non-http url', httpYaml.replace('https://x.test/hook', 'ftp://x.test/'), /url/],
    ['not YAML', 'executors: [', /not YAML/],
  ])('names the problem for %s', (_what, text, message) => {
    expect(() => loadExecutorsConfig(file('bad.yaml', text), { HOOK_SECRET: 's'.repeat(16) }, 'development')).toThrow(
      message,
    );
  });

  it('names a missing file', () => {
    expect(() => loadExecutorsConfig(join(dir, 'missing.yaml'), {}, 'development')).toThrow(
      /EXECUTORS_FILE: cannot read/,
    );
  });
});
