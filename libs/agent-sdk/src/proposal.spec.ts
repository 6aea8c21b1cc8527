import { JobProposedV1Schema, MAX_PAYLOAD_DEPTH, parseEvent } from '@countersign/contracts';
import { generateSigningKeyPair } from '@countersign/crypto';
import { Countersign } from './countersign';
import { InvalidProposalError, ProposalTooLargeError } from './errors';
import { DEFAULT_MAX_PROPOSAL_BYTES, buildProposal, serializeProposal } from './proposal';

const identity = { agentId: 'deploy-bot', tenant: 'acme' };
const now = new Date('2026-11-24T10:00:00.000Z');
const input = {
  topic: 'job.deploy.rollout',
  riskTags: ['prod'],
  payload: { service: 'api' },
  summary: 'Roll out api',
  requestedBy: 'alice',
};

/** `depth` nested objects, the outermost counting as 1. */
const nested = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < depth; i++) v = { d: v };
  return v;
};
const cyclic = () => {
  const o: Record<string, unknown> = {};
  o['self'] = o;
  return o;
};

describe('buildProposal', () => {
  it('carries a SPIFFE agent id as it is, through the wire form and back', () => {
    const agentId = 'spiffe://acme.example/ns/prod/sa/deploy-bot';
    const sut = buildProposal(input, { agentId, tenant: 'acme' }, now);
    const back = parseEvent('job.proposed', serializeProposal(sut));
    expect(back.ok && back.event.data.agent_id).toBe(agentId);
  });

  it('builds a valid job.proposed for this agent and tenant', () => {
    const sut = buildProposal(input, identity, now);
    expect(JobProposedV1Schema.parse(sut)).toEqual(sut);
    expect(sut.data).toMatchObject({
      tenant: 'acme',
      agent_id: 'deploy-bot',
      topic: 'job.deploy.rollout',
      risk_tags: ['prod'],
      summary: { title: 'Roll out api' },
      requested_by: 'alice',
      proposed_at: now.toISOString(),
    });
    expect(sut.data.job_id).toMatch(/^job-[0-9a-f-]{36}$/);
  });

  it('keeps a given job id and a structured summary', () => {
    const sut = buildProposal(
      { ...input, jobId: 'my-job-1', summary: { title: 't', nextEffect: 'api v2 live' } },
      identity,
      now,
    );
    expect(sut.data.job_id).toBe('my-job-1');
    expect(sut.data.summary).toEqual({ title: 't', next_effect: 'api v2 live' });
  });

  it.each([
    ['a glob topic', { topic: 'job.*' }, 'topic'],
    ['an empty requester', { requestedBy: '' }, 'requested_by'],
    ['a bad risk tag', { riskTags: ['no spaces'] }, 'risk_tags.0'],
    ['a bad job id', { jobId: 'has space' }, 'job_id'],
    ['a payload that is not plain JSON', { payload: { at: new Date(0), f: undefined } }, 'payload'],
    ['a NUL character the services cannot store', { payload: { note: 'a\u0000b' } }, 'payload.note'],
    ['a lone surrogate that cannot be hashed', { summary: 'x\ud800' }, 'summary.title'],
    ['Infinity, which JSON cannot carry', { payload: { n: Infinity } }, 'payload.n'],
    ['NaN', { payload: { n: [1, NaN] } }, 'payload.n[1]'],
    ['an integer beyond 2^53, which the gate would read differently', { payload: { n: 2 ** 53 + 2 } }, 'payload.n'],
    [
      'a payload nested deeper than MAX_PAYLOAD_DEPTH',
      { payload: nested(MAX_PAYLOAD_DEPTH + 1) },
      `payload${'.d'.repeat(MAX_PAYLOAD_DEPTH)}`,
    ],
  ])('refuses %s, naming the field, before anything is sent', (_what, over, path) => {
    try {
      buildProposal({ ...input, ...over } as typeof input, identity, now);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidProposalError);
      expect((e as InvalidProposalError).issues.map((i) => i.path)).toContain(path);
    }
  });
});

describe('buildProposal and the gate agree (one shared rule)', () => {
  it(`sends a payload exactly ${MAX_PAYLOAD_DEPTH} deep, which the gate accepts`, () => {
    const text = serializeProposal(buildProposal({ ...input, payload: nested(MAX_PAYLOAD_DEPTH) }, identity, now));
    expect(parseEvent('job.proposed', text).ok).toBe(true);
  });

  it('refuses a cyclic payload as nested too deep instead of looping', () => {
    expect(() => buildProposal({ ...input, payload: cyclic() }, identity, now)).toThrow(/nested deeper than 66 levels/);
  });

  it('refuses with a clear message naming the rule', () => {
    expect(() => buildProposal({ ...input, payload: { n: Infinity } }, identity, now)).toThrow(
      /^invalid proposal: payload\.n: number is not finite \(Infinity\)/,
    );
  });

  it('keeps __proto__, constructor and prototype keys as given (the gate denies them visibly), at the top level too', () => {
    const payload = JSON.parse('{"__proto__":{"admin":true},"constructor":1}') as Record<string, unknown>;
    const text = serializeProposal(buildProposal({ ...input, payload }, identity, now));
    expect(text).toContain('"payload":{"__proto__":{"admin":true},"constructor":1}');
    const r = parseEvent('job.proposed', text);
    expect(r.ok && Object.keys(r.event.data.payload)).toEqual(['__proto__', 'constructor']);
  });

  it('sends -0 as 0, as the gate reads it', () => {
    expect(serializeProposal(buildProposal({ ...input, payload: { n: -0 } }, identity, now))).toContain(
      '"payload":{"n":0}',
    );
  });
});

describe('serializeProposal', () => {
  const sized = (bytes: number) => buildProposal({ ...input, payload: { blob: 'x'.repeat(bytes) } }, identity, now);

  it('returns the JSON the broker gets when it fits', () => {
    const event = sized(100);
    expect(JSON.parse(serializeProposal(event))).toEqual(event);
  });

  it('refuses a proposal over 1 MiB by default, naming its size and the limit', () => {
    const event = sized(DEFAULT_MAX_PROPOSAL_BYTES);
    const bytes = Buffer.byteLength(JSON.stringify(event));
    expect(() => serializeProposal(event)).toThrow(ProposalTooLargeError);
    expect(() => serializeProposal(event)).toThrow(
      `proposal is ${bytes} bytes serialized, over the 1048576-byte limit (maxProposalBytes); nothing was sent`,
    );
  });

  it('takes another limit, counting UTF-8 bytes rather than characters', () => {
    const event = buildProposal({ ...input, payload: { text: 'é'.repeat(600) } }, identity, now);
    const bytes = Buffer.byteLength(JSON.stringify(event));
    expect(() => serializeProposal(event, bytes)).not.toThrow();
    expect(() => serializeProposal(event, bytes - 1)).toThrow(
      expect.objectContaining({ code: 'PROPOSAL_TOO_LARGE', bytes, limit: bytes - 1 }) as Error,
    );
  });
});

describe('Countersign.propose', () => {
  const keys = generateSigningKeyPair();
  const options = {
    // Nothing listens here: a proposal that reached the network step would fail differently.
    brokers: ['127.0.0.1:1'],
    agentId: 'deploy-bot',
    tenant: 'acme',
    trustedExecutorKeys: keys.publicKeyPem,
    kafka: { retry: { retries: 0 }, connectionTimeout: 200 },
  };

  it('refuses an oversized proposal before it connects or sends anything', async () => {
    const sut = new Countersign({ ...options, maxProposalBytes: 2048 });
    try {
      await expect(sut.propose({ ...input, payload: { blob: 'x'.repeat(4096) } })).rejects.toMatchObject({
        code: 'PROPOSAL_TOO_LARGE',
        limit: 2048,
      });
    } finally {
      await sut.close();
    }
  });

  it.each(['spiffe://acme.example/ns/prod/sa/deploy-bot', 'User:CN=bot,OU=fleet', 'fleet-a/1'])(
    'takes the workload identity %s as agentId',
    (agentId) => {
      expect(() => new Countersign({ ...options, agentId })).not.toThrow();
    },
  );

  it.each(['fleet-a/*', 'fleet-a/../b', 'fleet-a/', 'deploy bot', ''])('refuses agentId %j', (agentId) => {
    expect(() => new Countersign({ ...options, agentId })).toThrow(/^agentId: /);
  });

  it('keeps the tenant a URL-safe id', () => {
    expect(() => new Countersign({ ...options, tenant: 'acme/prod' })).toThrow(/^tenant: /);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxProposalBytes %p', (maxProposalBytes) => {
    expect(() => new Countersign({ ...options, maxProposalBytes })).toThrow(/maxProposalBytes/);
  });
});
