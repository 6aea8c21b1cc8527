import { AuditRecordSchema, IdSchema, TimestampSchema } from '@countersign/contracts';
import { z } from 'zod';

/** The queries and answers of the trail's endpoints. */

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const SignatureCheck = z.enum(['verified', 'invalid', 'unsigned']);
const Iso = z.string().meta({ format: 'date-time' });
const f = AuditRecordSchema.shape;

export const AuditRecordViewSchema = AuditRecordSchema.extend({
  seq: f.seq.meta({ description: 'Position in the chain: 1, 2, 3, … with no gaps.' }),
  prev_hash: f.prev_hash.meta({ description: 'record_hash of seq-1; 64 zeros for seq 1.' }),
  record_hash: f.record_hash.meta({
    description: 'SHA-256 of the RFC 8785 canonical JSON of the fields of its format (docs/audit.md).',
  }),
  source_topic: f.source_topic.meta({ example: 'decision.made' }),
  event_type: f.event_type.meta({
    description: 'The event type, or rejected_input / rejected_input.malformed for DLQ messages.',
  }),
  body: z
    .record(z.string(), z.unknown())
    .meta({ description: 'The event as received, its payload redacted by default; for DLQ messages the DlqRecord.' }),
  format: f.format.meta({ description: 'Absent on records written before format 2.' }),
  digest: f.digest.meta({ description: 'SHA-256 of the canonical JSON of the message as received, without trace.' }),
  signature: f.signature.meta({ description: "Audit's check of the producer's signature, made before any redaction." }),
  signature_reason: f.signature_reason.meta({ description: 'Why the signature is invalid.' }),
  redaction: f.redaction.meta({ description: 'The payload paths redacted and the job_hash of the full proposal.' }),
  conflict: f.conflict.meta({
    description: 'On a conflict record: the record first made under the same topic + event_id.',
  }),
}).meta({ description: 'One hash-chained audit record (the data of an audit.recorded event).' });

export const RecordPageSchema = z.object({
  items: z.array(AuditRecordViewSchema),
  next_cursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const VerifyResultSchema = z.union([
  z.object({ ok: z.literal(true), checked: z.number().int(), last_seq: z.number().int() }),
  z.object({
    ok: z.literal(false),
    broken_seq: z.number().int().meta({ description: 'The first seq at which the chain does not verify.' }),
    reason: z.enum(['HASH_MISMATCH', 'PREV_HASH_MISMATCH', 'GAP', 'HEAD_MISMATCH']),
    detail: z.string(),
    checked: z.number().int(),
  }),
]);

export const TimelineStepSchema = z.looseObject({
  kind: z.enum([
    'proposed',
    'decided',
    'escalated',
    'resolved',
    'released',
    'blocked',
    'executed',
    'rejected_input',
    'other',
  ]),
  seq: z.number().int(),
  record_hash: hex64,
  recorded_at: Iso,
  at: z.string().nullable(),
  signature: SignatureCheck.nullable().meta({
    description:
      'signed (on decided, resolved, released) means verified; an invalid step does not count towards outcome.',
  }),
  signature_reason: z.string().nullable(),
  conflict: z.object({ first_seq: z.number().int(), first_digest: hex64, digest: hex64.nullable() }).nullable(),
});

export const TimelineSchema = z.object({
  job_id: z.string(),
  tenant: z.string().nullable(),
  outcome: z.enum([
    'executed',
    'execution_failed',
    'blocked',
    'released',
    'awaiting_approval',
    'decided',
    'proposed',
    'unknown',
  ]),
  policy_snapshot: z.string().nullable(),
  policy_url: z.string().nullable().meta({ description: 'GET it for the policy document that decided the job.' }),
  steps: z.array(TimelineStepSchema).meta({
    description:
      'Proposal, decision (snapshot, rule, policy_url), escalations, approvals (actors, reasons), release, execution or block, in chain order.',
  }),
});

export const PolicySnapshotViewSchema = z.object({
  snapshot_id: z.string().meta({ example: `cfg:system:policy#sha256:${'a'.repeat(64)}` }),
  scope: z.string().meta({ example: 'system' }),
  activated_at: Iso,
  record_seq: z.number().int().meta({ description: 'The audit record of the policy.activated event that carried it.' }),
  document: z.record(z.string(), z.unknown()).meta({ description: 'The canonical policy document.' }),
  document_sha256: hex64,
  matches_snapshot_id: z
    .boolean()
    .meta({ description: 'Whether the document hashes to the id it was activated under.' }),
});
export type PolicySnapshotView = z.infer<typeof PolicySnapshotViewSchema>;

// Queries

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
