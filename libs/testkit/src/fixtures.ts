import { randomUUID } from 'node:crypto';
import type { JobProposedData, JobProposedV1 } from '@countersign/contracts';

/** A job id no other test uses. */
export function jobId(prefix = 'job'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A valid `job.proposed` event (unsigned, as agents send them): a production config write, unless `data` says otherwise. */
export function proposal(data: Partial<JobProposedData> = {}): JobProposedV1 {
  return {
    event_id: randomUUID(),
    type: 'job.proposed',
    schema_version: 1,
    occurred_at: new Date().toISOString(),
    producer: 'test-agent',
    data: {
      job_id: jobId(),
      tenant: 'acme',
      agent_id: 'agent-1',
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      payload: { key: 'feature.x', value: true },
      summary: { title: 'Turn on feature x in production' },
      requested_by: 'alice@acme.test',
      proposed_at: new Date().toISOString(),
      ...data,
    },
  };
}
