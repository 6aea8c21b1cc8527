import { z } from 'zod';
import {
  ActionTopicSchema,
  AgentIdSchema,
  IdSchema,
  JsonObjectSchema,
  RiskTagSchema,
  TimestampSchema,
} from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const JobProposedDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema,
  agent_id: AgentIdSchema,
  topic: ActionTopicSchema,
  risk_tags: z.array(RiskTagSchema).max(32),
  payload: JsonObjectSchema,
  summary: z.object({ title: z.string().min(1).max(200), next_effect: z.string().max(500).optional() }).optional(),
  requested_by: IdSchema,
  proposed_at: TimestampSchema,
});
export type JobProposedData = z.infer<typeof JobProposedDataSchema>;

export const JobProposedV1Schema = envelopeSchema(Topics.JobProposed, JobProposedDataSchema);
export type JobProposedV1 = z.infer<typeof JobProposedV1Schema>;
