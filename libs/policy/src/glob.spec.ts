import { TOPIC_GLOB, compileIdGlobs, compileTopicGlobs, idGlobCovers, topicGlobCovers } from './glob';

describe('topic globs', () => {
  it.each([
    ['job.*.read', 'job.db.read', true],
    ['job.*.read', 'job.read', false],
    ['job.*.read', 'job.db.x.read', false],
    ['job.deploy.*', 'job.deploy.rollout', true],
    ['job.deploy.*', 'job.deploy', false],
    ['job.deploy.*', 'job.deploy.canary.rollout', false],
    ['job.deploy.**', 'job.deploy', true],
    ['job.deploy.**', 'job.deploy.canary.rollout', true],
    ['job.deploy.**', 'job.deployer.x', false],
    ['job.**.export', 'job.export', true],
    ['job.**.export', 'job.crm.contacts.export', true],
    ['job.**.export', 'job.crm.exports', false],
    ['**.export', 'export', true],
    ['**.export', 'job.a.export', true],
    ['**', 'anything.at.all', true],
    ['job.**.**.x', 'job.x', true],
    ['job.deploy-*.run', 'job.deploy-eu.run', true],
    ['job.deploy-*.run', 'job.deploy.run', false],
    ['job.db.read', 'job.db.read', true],
    ['job.db.read', 'job.dbxread', false],
    ['job.db.read', 'JOB.db.read', false],
  ])('%s vs %s -> %s', (glob, topic, expected) => {
    expect(compileTopicGlobs([glob])!.test(topic)).toBe(expected);
  });

  it('compiles a list into one alternation and null into "any"', () => {
    const sut = compileTopicGlobs(['job.*.read', 'job.*.list'])!;
    expect(sut.test('job.a.list')).toBe(true);
    expect(sut.test('job.a.write')).toBe(false);
    expect(compileTopicGlobs(null)).toBeNull();
  });

  it.each([
    ['job.**', 'job.deploy.*', true],
    ['job.*.*', 'job.deploy.*', true],
    ['job.deploy.*', 'job.deploy.rollout', true],
    ['job.deploy.*', 'job.deploy.**', false],
    ['job.deploy.rollout', 'job.deploy.*', false],
    ['**', 'job.**.export', true],
    ['job.**.export', 'job.crm.export', true],
    ['job.deploy-*', 'job.deploy-eu', true],
    ['job.deploy-*', 'job.*', false],
  ])('%s covers %s -> %s', (outer, inner, expected) => {
    expect(topicGlobCovers(outer, inner)).toBe(expected);
  });
});

describe('TOPIC_GLOB (the one topic-glob syntax: policy rules and executors)', () => {
  it.each(['**', 'job.*', 'job.**', 'job.**.export', 'job.deploy-*.run', 'job_a.b-c.*'])('accepts %s', (glob) => {
    expect(TOPIC_GLOB.test(glob)).toBe(true);
  });

  it.each([
    ['braces', 'job.{a,b}.x'],
    ['a ? wildcard', 'job.?'],
    ['a character class', 'job.[ab]'],
    ['a / separator', 'job/x'],
    ['an empty segment', 'job..x'],
    ['a trailing dot', 'job.'],
    ['negation', '!job.x'],
    ['the empty string', ''],
  ])('refuses %s', (_what, glob) => {
    expect(TOPIC_GLOB.test(glob)).toBe(false);
  });
});

describe('id globs', () => {
  it('treats ids as flat strings', () => {
    const sut = compileIdGlobs(['sandbox-*', 'ops.bot'])!;
    expect(sut.test('sandbox-42')).toBe(true);
    expect(sut.test('sandbox-a.b')).toBe(true);
    expect(sut.test('ops.bot')).toBe(true);
    expect(sut.test('opsxbot')).toBe(false);
    expect(idGlobCovers('*', 'x')).toBe(true);
    expect(idGlobCovers('trial-*', 'trial-co')).toBe(true);
    expect(idGlobCovers('trial-co', 'trial-*')).toBe(false);
  });
});
