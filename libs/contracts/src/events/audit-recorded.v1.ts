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
  /** The original event as received (for DLQ records: the DLQ envelope); its payload redacted unless kept whole. */
  body: z.unknown(),
  /**
   * Format 2 records (docs/audit.md) add what audit found, all covered by record_hash; format 1
   * records have none of these fields and hash without them.
   */
  format: z.literal(2).optional(),
  kind: z.enum(['event', 'conflict', 'rejected_input']).nullable().optional(),
  /** SHA-256 of the canonical JSON of the message as received, `trace` excluded. */
  digest: Sha256HexSchema.nullable().optional(),
  /** The producer's signature, checked by audit with the producer's trusted key before anything was redacted. */
  signature: z.enum(['verified', 'invalid', 'unsigned']).nullable().optional(),
  signature_reason: z.string().nullable().optional(),
  /** The payload paths redacted from `body`, and the job_hash of the full proposal. */
  redaction: z
    .object({ fields: z.array(z.string()), job_hash: Sha256HexSchema.nullable() })
    .nullable()
    .optional(),
  /** On a conflict record: the record first made under the same topic + event_id, and its digest. */
  conflict: z
    .object({ first_seq: z.number().int().min(1), first_digest: Sha256HexSchema })
    .nullable()
    .optional(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const AuditRecordedV1Schema = envelopeSchema(Topics.AuditRecorded, AuditRecordSchema);
export type AuditRecordedV1 = z.infer<typeof AuditRecordedV1Schema>;
