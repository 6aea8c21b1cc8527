import {
  AGENT_GLOB,
  ID_GLOB,
  TOPIC_GLOB,
  compileIdGlobs,
  compileTopicGlobs,
  idGlobCovers,
  topicGlobCovers,
} from './glob';

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

describe('agent globs', () => {
  it('name workload identities; "*" crosses "/"', () => {
    const sut = compileIdGlobs(['spiffe://acme.example/ns/prod/*', 'fleet-a/*', 'User:CN=*,OU=fleet'])!;
    expect(sut.test('spiffe://acme.example/ns/prod/sa/deploy-bot')).toBe(true);
    expect(sut.test('spiffe://acme.example/ns/prod/x')).toBe(true);
    expect(sut.test('spiffe://acme.example/ns/staging/sa/deploy-bot')).toBe(false);
    expect(sut.test('spiffe://acme.example/ns/production/sa/deploy-bot')).toBe(false);
    expect(sut.test('spiffe://other.example/ns/prod/sa/deploy-bot')).toBe(false);
    expect(sut.test('fleet-a/1')).toBe(true);
    expect(sut.test('fleet-a/eu/7')).toBe(true);
    expect(sut.test('fleet-ab/1')).toBe(false);
    expect(sut.test('User:CN=bot,OU=fleet')).toBe(true);
    expect(sut.test('User:CN=bot,OU=fleet-b')).toBe(false);
  });

  it('treat "+", "=" and "," as literals', () => {
    const sut = compileIdGlobs(['User:CN=bot+UID=7,OU=*'])!;
    expect(sut.test('User:CN=bot+UID=7,OU=fleet')).toBe(true);
    expect(sut.test('User:CN=bottUID=7,OU=fleet')).toBe(false);
  });

  it('cover narrower agent globs and ids', () => {
    expect(idGlobCovers('spiffe://acme.example/*', 'spiffe://acme.example/ns/prod/sa/bot')).toBe(true);
    expect(idGlobCovers('fleet-a/*', 'fleet-b/1')).toBe(false);
  });

  it.each(['spiffe://acme.example/ns/prod/*', 'fleet-a/*', 'User:CN=bot,OU=fleet', 'a+b=c', '*'])(
    'accepts %s as an agent glob',
    (glob) => {
      expect(AGENT_GLOB.test(glob)).toBe(true);
    },
  );

  it.each(['fleet a/*', 'fleet-a/\n', 'fleet-a/?', 'fleet-a/[12]', 'fleet%2Fa', ''])(
    'refuses %j as an agent glob',
    (glob) => {
      expect(AGENT_GLOB.test(glob)).toBe(false);
    },
  );

  it('leave tenant globs as they were: no "/"', () => {
    expect(ID_GLOB.test('trial-*')).toBe(true);
    expect(ID_GLOB.test('acme/prod')).toBe(false);
  });
});
