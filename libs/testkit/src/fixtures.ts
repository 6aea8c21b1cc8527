import { randomUUID } from 'node:crypto';
import type { DecisionMadeData, JobProposedData, JobProposedV1 } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';

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

/** The system policy snapshot the decisions below name. */
export const TEST_SNAPSHOT = `cfg:system:policy#sha256:${'a'.repeat(64)}`;

/**
 * `decision.made` data for `job` (its id, tenant and hash) that allows it under TEST_SNAPSHOT by the
 * rule `test-rule`, decided now, unless `over` says otherwise.
 */
export function decisionData(job: JobProposedData, over: Partial<DecisionMadeData> = {}): DecisionMadeData {
  return {
    job_id: job.job_id,
    tenant: job.tenant,
    decision: 'ALLOW',
    policy_snapshot: TEST_SNAPSHOT,
    policy_rule_id: 'test-rule',
    policy_reason: 'test policy',
    matched_rules: ['test-rule'],
    job_hash: jobHash(job),
    constraints: {},
    approval: null,
    decision_summary: { title: 't', why: 'w', next_effect: 'n' },
    decided_at: new Date().toISOString(),
    ...over,
  };
}
