import { JobProposedV1Schema } from '@countersign/contracts';
import { InvalidProposalError } from './errors';
import { buildProposal } from './proposal';

const identity = { agentId: 'deploy-bot', tenant: 'acme' };
const now = new Date('2026-11-24T10:00:00.000Z');
const input = {
  topic: 'job.deploy.rollout',
  riskTags: ['prod'],
  payload: { service: 'api' },
  summary: 'Roll out api',
  requestedBy: 'alice',
};

describe('buildProposal', () => {
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
