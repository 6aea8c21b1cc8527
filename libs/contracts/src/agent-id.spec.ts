import { AGENT_ID_MAX_LENGTH, AgentIdSchema, IdSchema } from './common';
import { JobProposedDataSchema } from './events/job-proposed.v1';
import { JobReleasedDataSchema } from './events/job-released.v1';
import { exampleEvents } from './fixtures';

const accepts = (id: string) => AgentIdSchema.safeParse(id).success;
const why = (id: string) => AgentIdSchema.safeParse(id).error?.issues.map((i) => i.message) ?? [];

describe('AgentIdSchema', () => {
  it.each([
    ['a SPIFFE id', 'spiffe://acme.example/ns/prod/sa/deploy-bot'],
    ['a SPIFFE id with no path', 'spiffe://acme.example'],
    ['a SPIFFE id with an opaque path', 'spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453'],
    ['a SPIFFE trust domain with "_" and digits', 'spiffe://k8s_west.10.0.0.1/a.b/c_d'],
    ['a Kafka SASL principal', 'User:deploy-bot'],
    ['a Kafka TLS principal (RFC 2253 DN)', 'User:CN=bot,OU=fleet'],
    ['a multi-valued RDN', 'User:CN=bot+UID=7,OU=fleet,O=acme,C=DE'],
    ['a fleet/agent name', 'fleet-a/1'],
    ['a plain id, as before', 'deploy-bot'],
    ['an e-mail-like id, as before', 'bot@acme.com'],
    ['a "." inside a segment', 'fleet.a/.hidden/v1.2'],
    ['255 characters', `a${'b'.repeat(AGENT_ID_MAX_LENGTH - 1)}`],
  ])('accepts %s', (_what, id) => {
    expect(why(id)).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['256 characters', `a${'b'.repeat(AGENT_ID_MAX_LENGTH)}`],
    ['a space', 'deploy bot'],
    ['a space after a DN comma', 'User:CN=bot, OU=fleet'],
    ['a tab', 'deploy\tbot'],
    ['a newline', 'deploy-bot\n'],
    ['NUL', 'deploy\u0000bot'],
    ['DEL', 'deploy\u007fbot'],
    ['a non-ASCII look-alike (Cyrillic а)', 'deploy-bоt'],
    ['the policy glob character', 'fleet-a/*'],
    ['a percent escape', 'fleet-a%2F1'],
    ['a backslash', 'User:CN=bot\\,OU=fleet'],
    ['a ".." segment', 'fleet-a/../fleet-b/1'],
    ['a "." segment', 'fleet-a/./1'],
    ['a trailing ".." segment', 'spiffe://acme.example/ns/..'],
    ['a trailing "/"', 'fleet-a/1/'],
    ['a SPIFFE id with a trailing "/"', 'spiffe://acme.example/ns/prod/'],
    ['"//" outside the scheme', 'fleet-a//1'],
    ['"://" of another scheme', 'k8s://cluster/ns/prod'],
    ['a leading "/"', '/fleet-a/1'],
    ['an uppercase SPIFFE scheme', 'SPIFFE://acme.example/ns/prod'],
    ['an uppercase SPIFFE trust domain', 'spiffe://ACME.example/ns/prod'],
    ['an empty SPIFFE trust domain', 'spiffe:///ns/prod'],
    ['a SPIFFE trust domain with a port', 'spiffe://acme.example:8443/ns/prod'],
    ['a SPIFFE trust domain with userinfo', 'spiffe://bot@acme.example/ns/prod'],
    ['a SPIFFE path segment with ":"', 'spiffe://acme.example/ns:prod'],
    ['a "spiffe:" id without "//"', 'spiffe:acme.example/ns/prod'],
  ])('refuses %s', (_what, id) => {
    expect(accepts(id)).toBe(false);
    expect(why(id).length).toBeGreaterThan(0);
  });

  it('says why a path is refused', () => {
    expect(why('fleet-a/../b')).toEqual(['no "." or ".." segment']);
    expect(why('fleet-a/')).toEqual(['no trailing "/"']);
    expect(why('fleet-a//1')).toEqual(['no empty segment ("//") outside "spiffe://"']);
    expect(why('spiffe://Acme.example/x')).toEqual([
      'a SPIFFE trust domain is lowercase letters, digits, ".", "_" and "-"',
    ]);
  });

  it('is used for agent_id in job.proposed and job.released; job ids and tenants stay URL-safe ids', () => {
    const agent = 'spiffe://acme.example/ns/prod/sa/deploy-bot';
    const proposed = { ...exampleEvents['job.proposed'].data, agent_id: agent };
    const released = { ...exampleEvents['job.released'].data, agent_id: agent };
    expect(JobProposedDataSchema.parse(proposed).agent_id).toBe(agent);
    expect(JobReleasedDataSchema.parse(released).agent_id).toBe(agent);
    expect(JobProposedDataSchema.safeParse({ ...proposed, job_id: 'fleet-a/1' }).success).toBe(false);
    expect(JobProposedDataSchema.safeParse({ ...proposed, tenant: 'acme/prod' }).success).toBe(false);
    expect(JobProposedDataSchema.safeParse({ ...proposed, requested_by: 'User:CN=bot,OU=fleet' }).success).toBe(false);
    expect(IdSchema.safeParse(agent).success).toBe(false);
  });
});
