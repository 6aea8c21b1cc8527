import { z } from 'zod';
import { DecisionSummarySchema, IdSchema, TimestampSchema } from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const ApprovalEscalatedDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema,
  escalation_roles: z.array(z.string().min(1).max(64)),
  due_at: TimestampSchema,
  approvals_so_far: z.number().int().min(0),
  approvals_required: z.number().int().min(1),
  decision_summary: DecisionSummarySchema,
  escalated_at: TimestampSchema,
});
export type ApprovalEscalatedData = z.infer<typeof ApprovalEscalatedDataSchema>;

export const ApprovalEscalatedV1Schema = envelopeSchema(Topics.ApprovalEscalated, ApprovalEscalatedDataSchema);
export type ApprovalEscalatedV1 = z.infer<typeof ApprovalEscalatedV1Schema>;
