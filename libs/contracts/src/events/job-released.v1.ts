import { z } from 'zod';
import {
  AgentIdSchema,
  ConstraintsSchema,
  IdSchema,
  PolicySnapshotSchema,
  Sha256HexSchema,
  TimestampSchema,
} from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

/** A grant: the executor's signed permission for the agent to run exactly the job it proposed. */
export const JobReleasedDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema,
  agent_id: AgentIdSchema,
  job_hash: Sha256HexSchema,
  policy_snapshot: PolicySnapshotSchema,
  constraints: ConstraintsSchema,
  released_at: TimestampSchema,
  expires_at: TimestampSchema,
});
export type JobReleasedData = z.infer<typeof JobReleasedDataSchema>;

export const JobReleasedV1Schema = envelopeSchema(Topics.JobReleased, JobReleasedDataSchema);
export type JobReleasedV1 = z.infer<typeof JobReleasedV1Schema>;
