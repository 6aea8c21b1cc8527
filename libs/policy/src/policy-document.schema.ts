import { AGENT_ID_MAX_LENGTH } from '@countersign/contracts';
import { z } from 'zod';
import { parseDuration } from './duration';
import { AGENT_GLOB, ID_GLOB, TOPIC_GLOB, TOPIC_GLOB_SYNTAX } from './glob';

/** Zod schemas for a policy file as written. Cross-field rules live in `parse-policy.ts`. */

export const RULE_DECISIONS = ['allow', 'allow_with_constraints', 'require_approval', 'deny'] as const;

const RuleIdSchema = z
  .string()
  .max(128, 'expected at most 128 characters')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    'expected letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
  )
  // Built-in checks decide under `countersign:` ids (countersign:reserved-key); no rule may pose as one.
  .refine((id) => !id.startsWith('countersign:'), 'the "countersign:" prefix is reserved for built-in checks');

const TopicGlobSchema = z
  .string()
  .max(200, 'expected at most 200 characters')
  .regex(TOPIC_GLOB, `expected ${TOPIC_GLOB_SYNTAX}`);

const TenantGlobSchema = z
  .string()
  .max(128, 'expected at most 128 characters')
  .regex(ID_GLOB, 'expected an id glob: letters, digits, ".", "_", ":", "@", "-" and "*"');

const AgentGlobSchema = z
  .string()
  .max(AGENT_ID_MAX_LENGTH, `expected at most ${AGENT_ID_MAX_LENGTH} characters`)
  .regex(AGENT_GLOB, 'expected an agent glob: letters, digits, ".", "_", ":", "@", "=", ",", "+", "-", "/" and "*"');

const RiskTagSchema = z
  .string()
  .max(64, 'expected at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9_:-]*$/i, 'expected a risk tag: letters, digits, "_", ":" or "-"');

const RoleSchema = z
  .string()
  .max(64, 'expected at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'expected a role name: letters, digits, ".", "_", ":" or "-"');

const DurationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== null, 'expected a duration like 30s, 15m, 1h or 2d');

const nonEmptyList = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).min(1, `expected at least one ${what} (omit the field to match any)`);

export const MatchSchema = z.strictObject({
  topics: nonEmptyList(TopicGlobSchema, 'topic glob').optional(),
  risk_tags: z.array(RiskTagSchema).optional(),
  agents: nonEmptyList(AgentGlobSchema, 'agent glob').optional(),
  tenants: nonEmptyList(TenantGlobSchema, 'tenant glob').optional(),
});

export const ConstraintsInputSchema = z.strictObject({
  max_runtime_sec: z.int().positive('expected a positive number of seconds').optional(),
  network_allowlist: z
    .array(z.string().min(1, 'expected a host name').max(253, 'expected at most 253 characters'))
    .optional(),
});

export const ApprovalInputSchema = z.strictObject({
  approvals_required: z.int().min(1, 'expected 1 to 10').max(10, 'expected 1 to 10').optional(),
  approver_roles: z.array(RoleSchema).optional(),
  sla: DurationSchema.optional(),
  escalate_after: DurationSchema.optional(),
  escalation_roles: z.array(RoleSchema).optional(),
});

const DecisionInputSchema = z.enum(RULE_DECISIONS);
const ReasonSchema = z.string().max(2000, 'expected at most 2000 characters');

export const RuleInputSchema = z.strictObject({
  id: RuleIdSchema,
  match: MatchSchema,
  decision: DecisionInputSchema,
  reason: ReasonSchema.optional(),
  constraints: ConstraintsInputSchema.optional(),
  approval: ApprovalInputSchema.optional(),
});

export const DefaultInputSchema = z.strictObject({
  decision: DecisionInputSchema,
  reason: ReasonSchema.optional(),
  constraints: ConstraintsInputSchema.optional(),
  approval: ApprovalInputSchema.optional(),
});

export const PolicyDocumentInputSchema = z.strictObject({
  version: z.literal('v1'),
  default: DefaultInputSchema.optional(),
  rules: z.array(RuleInputSchema).optional(),
});

export type ConstraintsInput = z.infer<typeof ConstraintsInputSchema>;
export type ApprovalInput = z.infer<typeof ApprovalInputSchema>;
export type RuleInput = z.infer<typeof RuleInputSchema>;
export type DefaultInput = z.infer<typeof DefaultInputSchema>;
export type PolicyDocumentInput = z.infer<typeof PolicyDocumentInputSchema>;
