import { z } from 'zod';

/** What a consumer writes to `<topic>.dlq` for a message it could not accept. */
export const DlqRecordSchema = z.object({
  source_topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  consumer: z.string(),
  error: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  key: z.string().nullable(),
  /** The original bytes, base64, so nothing about the bad message is lost. */
  value_base64: z.string().nullable(),
  headers: z.record(z.string(), z.string()),
  failed_at: z.iso.datetime(),
});
export type DlqRecord = z.infer<typeof DlqRecordSchema>;
