import { canonicalJson, sha256Hex } from './canonical-json';

export interface HashableJob {
  job_id: string;
  tenant: string;
  agent_id: string;
  topic: string;
  risk_tags: readonly string[];
  payload: Record<string, unknown>;
  requested_by: string;
}

/**
 * The fields that define what is being asked and for whom, and nothing else (not the summary, not
 * the time). `requested_by` is in so that an approval covers who asked.
 */
export function jobHashInput(job: HashableJob): Record<string, unknown> {
  // Without this an untyped caller that lost the requester would get a hash of the old definition.
  if (typeof job.requested_by !== 'string') throw new TypeError('job has no requested_by to hash');
  return {
    job_id: job.job_id,
    tenant: job.tenant,
    agent_id: job.agent_id,
    topic: job.topic,
    risk_tags: [...new Set(job.risk_tags)].sort(),
    payload: job.payload,
    requested_by: job.requested_by,
  };
}

/** Lowercase hex SHA-256 of the RFC 8785 canonical JSON of the job's identity, requester and payload. */
export function jobHash(job: HashableJob): string {
  return sha256Hex(canonicalJson(jobHashInput(job)));
}
