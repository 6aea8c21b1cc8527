import { escalationMessage } from './escalation-webhook';

describe('escalationMessage', () => {
  it('is a Slack-compatible text naming the job, progress, deadline and roles', () => {
    const msg = escalationMessage({
      job_id: 'j1',
      tenant: 'acme',
      escalation_roles: ['oncall', 'sre-lead'],
      due_at: '2026-01-01T10:10:00.000Z',
      approvals_so_far: 1,
      approvals_required: 2,
      decision_summary: { title: 'Roll out v2', why: 'prod', next_effect: 'deploy' },
      escalated_at: '2026-01-01T10:05:00.000Z',
    });
    expect(Object.keys(msg)).toEqual(['text']);
    expect(msg.text).toContain('"Roll out v2"');
    expect(msg.text).toContain('job j1');
    expect(msg.text).toContain('1 of 2 approvals');
    expect(msg.text).toContain('2026-01-01T10:10:00.000Z');
    expect(msg.text).toContain('oncall, sre-lead');
  });
});
