import { z } from 'zod';
import { IdSchema, PolicySnapshotSchema, Sha256HexSchema, TimestampSchema } from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const ResolutionSchema = z.enum(['APPROVED', 'REJECTED', 'EXPIRED']);
export type Resolution = z.infer<typeof ResolutionSchema>;

export const ApprovalActionSchema = z.object({
  actor: z.string().min(1).max(256),
  role: z.string().min(1).max(64),
  action: z.enum(['approve', 'reject']),
  reason: z.string().max(512).nullable(),
  note: z.string().max(512).nullable(),
  at: TimestampSchema,
});
export type ApprovalAction = z.infer<typeof ApprovalActionSchema>;

export const ApprovalResolvedDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema,
  resolution: ResolutionSchema,
  job_hash: Sha256HexSchema,
  policy_snapshot: PolicySnapshotSchema,
  approvals: z.array(ApprovalActionSchema).max(20),
  resolved_by: z.string().min(1).max(256),
  resolved_comment: z.string().max(512).nullable(),
  resolved_at: TimestampSchema,
});
export type ApprovalResolvedData = z.infer<typeof ApprovalResolvedDataSchema>;

export const ApprovalResolvedV1Schema = envelopeSchema(Topics.ApprovalResolved, ApprovalResolvedDataSchema);
export type ApprovalResolvedV1 = z.infer<typeof ApprovalResolvedV1Schema>;
