import { IdSchema, TimestampSchema } from '@countersign/contracts';
import { z } from 'zod';

const seqParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const time = TimestampSchema.transform((v) => new Date(v));

const FilterShape = {
  job_id: IdSchema.optional(),
  tenant: IdSchema.optional(),
  type: z.string().min(1).max(128).optional().meta({ description: 'event_type, e.g. decision.made or rejected_input' }),
  from: time.optional().meta({ description: 'recorded_at >= from (ISO-8601)' }),
  to: time.optional().meta({ description: 'recorded_at < to (ISO-8601)' }),
};

export const ListRecordsQuerySchema = z.object({
  ...FilterShape,
  limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: '1..1000, default 100' }),
  cursor: z
    .string()
    .regex(/^[0-9]{1,16}$/, 'a next_cursor from a previous page')
    .optional()
    .meta({ description: 'next_cursor of the previous page (opaque)' }),
});
export type ListRecordsParams = z.infer<typeof ListRecordsQuerySchema>;

export const ExportQuerySchema = z.object(FilterShape);
export type ExportQuery = z.infer<typeof ExportQuerySchema>;

export const VerifyQuerySchema = z.object({
  from_seq: seqParam.default(1),
  to_seq: seqParam.optional(),
});
export type VerifyQuery = z.infer<typeof VerifyQuerySchema>;

export const JobIdParamSchema = IdSchema;
export const SnapshotIdParamSchema = z.string().min(1).max(300);
