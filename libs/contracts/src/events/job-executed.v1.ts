import { z } from 'zod';
import { IdSchema, Sha256HexSchema, TimestampSchema } from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const ExecutionStatusSchema = z.enum(['SUCCEEDED', 'FAILED', 'UNKNOWN']);
export type ExecutionStatus = z.infer<typeof ExecutionStatusSchema>;

export const ExecutorKindSchema = z.enum(['http', 'kafka', 'release']);
export type ExecutorKind = z.infer<typeof ExecutorKindSchema>;

export const JobExecutedDataSchema = z.object({
  job_id: IdSchema,
  tenant: IdSchema,
  job_hash: Sha256HexSchema,
  executor: ExecutorKindSchema,
  status: ExecutionStatusSchema,
  result: z.unknown().optional(),
  error: z.string().max(2000).nullable(),
  attempts: z.number().int().min(0),
  executed_at: TimestampSchema,
});
export type JobExecutedData = z.infer<typeof JobExecutedDataSchema>;

export const JobExecutedV1Schema = envelopeSchema(Topics.JobExecuted, JobExecutedDataSchema);
export type JobExecutedV1 = z.infer<typeof JobExecutedV1Schema>;
