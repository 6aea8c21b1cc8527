import { z } from 'zod';
import {
  ApprovalRequirementSchema,
  ConstraintsSchema,
  DecisionSchema,
  DecisionSummarySchema,
  IdSchema,
  PolicySnapshotSchema,
  Sha256HexSchema,
  TimestampSchema,
} from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const DecisionMadeDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema,
  decision: DecisionSchema,
  policy_snapshot: PolicySnapshotSchema,
  policy_rule_id: z.string().min(1).max(128),
  policy_reason: z.string().max(2000),
  matched_rules: z.array(z.string().min(1).max(128)),
  job_hash: Sha256HexSchema,
  constraints: ConstraintsSchema,
  approval: ApprovalRequirementSchema.nullable(),
  decision_summary: DecisionSummarySchema,
  decided_at: TimestampSchema,
});
export type DecisionMadeData = z.infer<typeof DecisionMadeDataSchema>;

export const DecisionMadeV1Schema = envelopeSchema(Topics.DecisionMade, DecisionMadeDataSchema);
export type DecisionMadeV1 = z.infer<typeof DecisionMadeV1Schema>;
