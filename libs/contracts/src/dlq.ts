import { z } from 'zod';
import { Sha256HexSchema } from './common';

/**
 * What a consumer writes to `<topic>.dlq` for a message it could not accept. Secrets stay out by
 * default: the original bytes are kept only when the service runs with `DLQ_KEEP_RAW=true`;
 * otherwise their SHA-256 and length, and (when they parse as JSON) a copy with the payload redacted.
 * Every field added after the first version is optional, so older records still parse.
 */
export const DlqRecordSchema = z.object({
  source_topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  consumer: z.string(),
  error: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  key: z.string().nullable(),
  /** The original bytes, base64 (at most 256 KiB of them); null unless `DLQ_KEEP_RAW=true`. */
  value_base64: z.string().nullable(),
  /** SHA-256 (hex) of the original bytes, whatever they were: proves which message this was. */
  value_sha256: Sha256HexSchema.optional(),
  /** Length of the original value in bytes. */
  value_bytes: z.number().int().min(0).optional(),
  /**
   * The value as parsed JSON, with `data.payload`'s sensitive fields replaced by "[REDACTED]" (a
   * message without a payload is redacted as a whole), numbers with no exact JSON form and nesting
   * past the event limit replaced by markers. Absent when the bytes are not a JSON object.
   */
  value_redacted: z.unknown().optional(),
  /** Where `value_redacted` hides a value (`data.payload.credentials.password`). */
  redacted_fields: z.array(z.string()).optional(),
  /** `job_hash` of the original (unredacted) proposal, when it has one: links the record to the job. */
  payload_job_hash: Sha256HexSchema.optional(),
  /** `message`: the bytes failed size, JSON or contract checks; `handler`: a valid event failed for good. */
  stage: z.enum(['message', 'handler']).optional(),
  headers: z.record(z.string(), z.string()),
  failed_at: z.iso.datetime(),
});
export type DlqRecord = z.infer<typeof DlqRecordSchema>;
