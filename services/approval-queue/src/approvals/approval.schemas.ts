import { ConstraintsSchema, DecisionSummarySchema, IdSchema } from '@countersign/contracts';
import { z } from 'zod';
import { MAX_TEXT_BYTES } from '../shared/core/redact-text';

/** The policy decision a queue item carries, as the list and a job's decisions both show it. */
const DecisionShape = {
  decision: z.string(),
  policy_snapshot: z.string(),
  policy_rule_id: z.string(),
  policy_reason: z.string(),
  matched_rules: z.array(z.string()),
  job_hash: z.string(),
  constraints: ConstraintsSchema.nullable(),
};

const boundedText = (what: string) =>
  z
    .string()
    .max(MAX_TEXT_BYTES)
    .refine(
      (s) => Buffer.byteLength(s, 'utf8') <= MAX_TEXT_BYTES,
      `${what} must be at most ${MAX_TEXT_BYTES} bytes (UTF-8)`,
    );

/**
 * Refuses any other body field by name (`actor: not accepted ...`), where `.strict()` would only say
 * "(body)": in particular the actor, which is always the token's subject.
 */
function onlyFields<S extends z.ZodRawShape>(shape: S) {
  const allowed = new Set(Object.keys(shape));
  return z
    .looseObject(shape)
    .superRefine((body, ctx) => {
      for (const key of Object.keys(body)) {
        if (!allowed.has(key))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `not accepted: the body takes only ${[...allowed].join(' and ')} (the actor is the token subject)`,
          });
      }
    })
    .meta({ additionalProperties: false });
}

/** Approve: reason and note optional. */
export const ApproveBodySchema = onlyFields({
  reason: boundedText('reason').nullish().meta({ description: 'why (at most 512 bytes; secrets are redacted)' }),
  note: boundedText('note')
    .nullish()
    .meta({ description: 'anything else for the record (at most 512 bytes; secrets are redacted)' }),
});
export type ApproveBody = z.infer<typeof ApproveBodySchema>;

export const RejectBodySchema = onlyFields({
  reason: z
    .string({ error: 'required: a rejection needs a reason' })
    .max(MAX_TEXT_BYTES)
    .refine((s) => s.trim().length > 0, 'required: a rejection needs a reason')
    .refine(
      (s) => Buffer.byteLength(s, 'utf8') <= MAX_TEXT_BYTES,
      `reason must be at most ${MAX_TEXT_BYTES} bytes (UTF-8)`,
    ),
  note: boundedText('note').nullish(),
});

export const JobParamsSchema = z.object({ job_id: IdSchema });

export const ListQuerySchema = z.object({
  include_resolved: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  tenant: IdSchema.optional(),
  topic: z.string().min(1).max(200).optional(),
  risk_tag: z.string().min(1).max(64).optional(),
  role: z.string().min(1).max(64).optional().meta({ description: 'only items this role may approve' }),
  rule_id: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional().meta({ description: 'next_cursor of the previous page' }),
});
export type ListQuery = z.infer<typeof ListQuerySchema>;

const Iso = z.string().meta({ format: 'date-time' });
const ResolutionEnum = z.enum(['APPROVED', 'REJECTED', 'EXPIRED']);

export const ActionViewSchema = z.object({
  actor: z.string(),
  role: z.string(),
  action: z.enum(['approve', 'reject']),
  reason: z.string().nullable(),
  note: z.string().nullable(),
  at: Iso,
});

export const HistoryViewSchema = z.object({
  job_id: z.string(),
  resolution: z.string(),
  actor: z.string().nullable(),
  reason: z.string().nullable(),
  at: Iso,
});

export const ApprovalItemViewSchema = z.object({
  job: z.object({ id: z.string(), state: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']) }),
  tenant: z.string(),
  topic: z.string().nullable(),
  agent_id: z.string().nullable(),
  risk_tags: z.array(z.string()),
  requested_by: z.string().nullable(),
  proposal_received: z
    .boolean()
    .meta({ description: 'false until job.proposed arrived; approval is refused (PROPOSAL_PENDING) meanwhile' }),
  summary: z.object({ title: z.string(), next_effect: z.string().optional() }).nullable(),
  payload: z
    .record(z.string(), z.unknown())
    .nullable()
    .meta({ description: 'the proposal payload with sensitive fields replaced by "[REDACTED]"' }),
  redacted_fields: z
    .array(z.string())
    .meta({ description: 'paths of the redacted payload fields, e.g. credentials.password' }),
  ...DecisionShape,
  approval_required: z.boolean(),
  decision_summary: DecisionSummarySchema,
  approvals: z.array(ActionViewSchema),
  approvals_required: z.number().int(),
  approver_roles: z.array(z.string()),
  escalation_roles: z.array(z.string()),
  decided_at: Iso,
  pending_since: Iso,
  due_at: Iso,
  escalated_at: Iso.nullable(),
  resolution: ResolutionEnum.nullable(),
  resolved_by: z.string().nullable(),
  resolved_comment: z.string().nullable(),
  resolved_at: Iso.nullable(),
  history: z
    .array(HistoryViewSchema)
    .meta({ description: 'up to 5 earlier resolutions of the same topic for the same agent' }),
});
export type ApprovalItemView = z.infer<typeof ApprovalItemViewSchema>;

export const ApprovalPageSchema = z.object({
  items: z.array(ApprovalItemViewSchema),
  next_cursor: z.string().nullable(),
});
export type ApprovalPage = z.infer<typeof ApprovalPageSchema>;

export const ReviewResultSchema = z.object({
  job: z.object({ id: z.string(), state: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']) }),
  action: ActionViewSchema,
  approvals: z.array(ActionViewSchema),
  approvals_required: z.number().int(),
  resolution: ResolutionEnum.nullable(),
  resolved_by: z.string().nullable(),
  resolved_comment: z.string().nullable(),
  resolved_at: Iso.nullable(),
});
export type ReviewResult = z.infer<typeof ReviewResultSchema>;

export const JobDecisionsSchema = z.object({
  job_id: z.string(),
  tenant: z.string().nullable(),
  state: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'NOT_REQUIRED']),
  decision: z.object({
    ...DecisionShape,
    approval: z.record(z.string(), z.unknown()).nullable(),
    decision_summary: DecisionSummarySchema,
    decided_at: Iso,
  }),
  approvals: z.array(ActionViewSchema),
  escalated_at: Iso.nullable(),
  resolution: z
    .object({
      resolution: ResolutionEnum,
      resolved_by: z.string(),
      resolved_comment: z.string().nullable(),
      resolved_at: Iso,
    })
    .nullable(),
});
export type JobDecisions = z.infer<typeof JobDecisionsSchema>;
