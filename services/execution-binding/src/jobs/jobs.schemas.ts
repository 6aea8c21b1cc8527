import { IdSchema } from '@countersign/contracts';
import { z } from 'zod';

/** The operators' and agents' job API: path parameters and answers (the report body is `ReportBodySchema`). */

export const JobParamsSchema = z.object({ job_id: IdSchema });

const nullableString = z.string().nullable();

export const FactRefSchema = z.object({
  event_id: z.string(),
  received_at: z.string(),
  signature_ok: z.boolean().optional().meta({ description: 'signed facts only: whether the signature verified' }),
});

export const JobStateSchema = z.object({
  job_id: z.string(),
  tenant: nullableString,
  state: z.enum([
    'pending',
    'proposed',
    'decided',
    'awaiting_approval',
    'released',
    'executing',
    'executed',
    'blocked',
  ]),
  job_hash: nullableString.meta({ description: "the executor's own hash of the stored proposal" }),
  decision: nullableString,
  policy_snapshot: nullableString,
  resolution: nullableString,
  facts: z.object({
    proposal: FactRefSchema.nullable(),
    decision: FactRefSchema.nullable(),
    resolution: FactRefSchema.nullable(),
  }),
  block: z
    .object({
      reason_code: z.string().meta({ example: 'HASH_MISMATCH' }),
      detail: z.string(),
      reason_text: nullableString,
    })
    .nullable(),
  execution: z
    .object({
      executor: z.string(),
      kind: z.enum(['http', 'kafka', 'release']),
      state: z.enum(['started', 'pending', 'released', 'succeeded', 'failed', 'unknown']),
      status: z.enum(['SUCCEEDED', 'FAILED', 'UNKNOWN']).nullable(),
      attempts: z.number(),
      error: nullableString,
      result: z.unknown().optional().meta({ description: 'what the executor answered (SUCCEEDED only)' }),
      grant_expires_at: nullableString,
    })
    .nullable(),
  timestamps: z.object({
    first_seen_at: z.string(),
    proposed_at: nullableString,
    decided_at: nullableString,
    resolved_at: nullableString,
    released_at: nullableString,
    executing_at: nullableString,
    executed_at: nullableString,
    blocked_at: nullableString,
    deadline_at: nullableString.meta({ description: 'when a waiting job is blocked INCOMPLETE' }),
  }),
  late_facts: z
    .number()
    .meta({ description: 'facts that arrived after the outcome and were reported (report-only job.blocked)' }),
});
export type JobState = z.infer<typeof JobStateSchema>;

export const ReportAnswerSchema = z.object({
  job_id: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  recorded: z.boolean().meta({ description: 'false when the same outcome had already been recorded' }),
});
