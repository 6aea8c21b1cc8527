import { z } from 'zod';
import { Sha256HexSchema, TimestampSchema } from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const AuditRecordSchema = z.object({
  seq: z.number().int().min(1),
  prev_hash: Sha256HexSchema,
  record_hash: Sha256HexSchema,
  source_topic: z.string(),
  source_event_id: z.string().nullable(),
  event_type: z.string(),
  job_id: z.string().nullable(),
  tenant: z.string().nullable(),
  recorded_at: TimestampSchema,
  /** The original event as received (for DLQ records: the DLQ envelope). */
  body: z.unknown(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const AuditRecordedV1Schema = envelopeSchema(Topics.AuditRecorded, AuditRecordSchema);
export type AuditRecordedV1 = z.infer<typeof AuditRecordedV1Schema>;
