import type { KeyObject } from 'node:crypto';
import { JobReleasedV1Schema, type Constraints } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { GrantVerificationError } from './errors';

/** What the agent's function receives: the permission it runs under. */
export interface Grant {
  jobId: string;
  jobHash: string;
  policySnapshot: string;
  constraints: Constraints;
  expiresAt: Date;
  /** Aborts when `constraints.max_runtime_sec` has passed (never, without one): honour it. */
  signal: AbortSignal;
}

export interface ExpectedGrant {
  jobId: string;
  jobHash: string;
  agentId: string;
  tenant: string;
}

/**
 * Checks a `job.released` event before the agent acts on it: signed by a trusted execution-binding
 * key, for this job, this agent and tenant, for the hash of exactly what the agent proposed, and not
 * expired. Throws GrantVerificationError naming the first check that failed.
 */
export function verifyGrant(
  event: Record<string, unknown>,
  expected: ExpectedGrant,
  trusted: readonly KeyObject[],
  now: Date,
): Omit<Grant, 'signal'> {
  const fail = (why: string) => new GrantVerificationError(expected.jobId, why);
  const parsed = JobReleasedV1Schema.safeParse(event);
  if (!parsed.success) throw fail('not a job.released event');
  const signature = verifyEvent(event, trusted);
  if (!signature.ok) throw fail(`signature: ${signature.reason}`);
  const d = parsed.data.data;
  if (d.job_id !== expected.jobId) throw fail(`it is for job ${d.job_id}`);
  if (d.agent_id !== expected.agentId || d.tenant !== expected.tenant)
    throw fail(`it is for agent ${d.agent_id} of ${d.tenant}`);
  if (d.job_hash !== expected.jobHash)
    throw fail(`job hash ${d.job_hash} is not the hash of what was proposed (${expected.jobHash})`);
  const expiresAt = new Date(d.expires_at);
  if (!(expiresAt > now)) throw fail(`expired at ${d.expires_at}`);
  return {
    jobId: d.job_id,
    jobHash: d.job_hash,
    policySnapshot: d.policy_snapshot,
    constraints: d.constraints,
    expiresAt,
  };
}
