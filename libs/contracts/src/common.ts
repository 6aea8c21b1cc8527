import { z } from 'zod';

/** Identifiers that travel as Kafka keys, URL segments and database keys. */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'letters, digits and . _ : @ - only');

/** Action classes are dot-separated segments, e.g. `job.deploy.rollout`; no globs in a job. */
export const ActionTopicSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i, 'dot-separated segments of letters, digits, _ and -');

export const RiskTagSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_:-]*$/i, 'letters, digits, _ : - only');

export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');

export const PolicySnapshotSchema = z
  .string()
  .regex(
    /^cfg:(system|tenant:[A-Za-z0-9][A-Za-z0-9._:@-]*):policy#sha256:[0-9a-f]{64}$/,
    'cfg:system:policy#sha256:<hex> or cfg:tenant:<id>:policy#sha256:<hex>',
  );

export const TimestampSchema = z.iso.datetime({ offset: true });

export const JsonObjectSchema = z.record(z.string(), z.unknown());

export const DecisionSchema = z.enum(['ALLOW', 'ALLOW_WITH_CONSTRAINTS', 'REQUIRE_APPROVAL', 'DENY']);
export type Decision = z.infer<typeof DecisionSchema>;

export const ConstraintsSchema = z
  .object({
    max_runtime_sec: z.number().int().positive().optional(),
    network_allowlist: z.array(z.string().min(1).max(253)).optional(),
  })
  .strict();
export type Constraints = z.infer<typeof ConstraintsSchema>;

export const DecisionSummarySchema = z.object({
  title: z.string().max(500),
  why: z.string().max(2000),
  next_effect: z.string().max(1000),
});
export type DecisionSummary = z.infer<typeof DecisionSummarySchema>;

export const ApprovalRequirementSchema = z.object({
  approvals_required: z.number().int().min(1).max(10),
  approver_roles: z.array(z.string().min(1).max(64)),
  sla_seconds: z.number().int().positive(),
  escalate_after_seconds: z.number().int().positive().nullable(),
  escalation_roles: z.array(z.string().min(1).max(64)),
});
export type ApprovalRequirement = z.infer<typeof ApprovalRequirementSchema>;

export const BlockReasonSchema = z.enum([
  'DENIED',
  'REJECTED',
  'EXPIRED',
  'HASH_MISMATCH',
  'SNAPSHOT_MISMATCH',
  'BAD_SIGNATURE',
  'DUPLICATE',
  'UNEXPECTED_RESOLUTION',
  'INCOMPLETE',
  'CONSTRAINT_VIOLATION',
  'NO_EXECUTOR',
  /** A second event under a known (topic, event_id) with a different body: a forgery attempt. */
  'EVENT_ID_CONFLICT',
  /** The proposal carries what no executor may receive (`__proto__`, `constructor`, `prototype` keys). */
  'UNSAFE_PAYLOAD',
]);
export type BlockReason = z.infer<typeof BlockReasonSchema>;
