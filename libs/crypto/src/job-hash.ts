import { canonicalJson, sha256Hex } from './canonical-json';

export interface HashableJob {
  job_id: string;
  tenant: string;
  agent_id: string;
  topic: string;
  risk_tags: readonly string[];
  payload: Record<string, unknown>;
}

/** The fields that define what is being asked, and nothing else (not the summary, not the time). */
export function jobHashInput(job: HashableJob): Record<string, unknown> {
  return {
    job_id: job.job_id,
    tenant: job.tenant,
    agent_id: job.agent_id,
    topic: job.topic,
    risk_tags: [...new Set(job.risk_tags)].sort(),
    payload: job.payload,
  };
}

/** Lowercase hex SHA-256 of the RFC 8785 canonical JSON of the job's identity and payload. */
export function jobHash(job: HashableJob): string {
  return sha256Hex(canonicalJson(jobHashInput(job)));
}
