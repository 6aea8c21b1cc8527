import { z } from 'zod';
import { BlockReasonSchema, IdSchema, Sha256HexSchema, TimestampSchema } from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const JobBlockedDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema.nullable(),
  reason_code: BlockReasonSchema,
  detail: z.string().max(2000),
  job_hash: Sha256HexSchema.nullable(),
  /** The reviewer's or policy's own words where there are any, for the agent to adapt. */
  reason_text: z.string().max(2000).nullable(),
  blocked_at: TimestampSchema,
  /**
   * True when this event only reports a fact that arrived after the job already had its outcome
   * (a duplicate or late proposal, decision or resolution): the earlier outcome stands, nothing is
   * un-released or re-executed. Absent or false: this is the job's own outcome.
   */
  report_only: z.boolean().optional(),
});
export type JobBlockedData = z.infer<typeof JobBlockedDataSchema>;

export const JobBlockedV1Schema = envelopeSchema(Topics.JobBlocked, JobBlockedDataSchema);
export type JobBlockedV1 = z.infer<typeof JobBlockedV1Schema>;
