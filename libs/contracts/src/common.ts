import { z } from 'zod';

/** Identifiers that travel as Kafka keys, URL segments and database keys. */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'letters, digits and . _ : @ - only');

/** The longest agent id: a DNS-length name, room for a SPIFFE id or a TLS principal's DN. */
export const AGENT_ID_MAX_LENGTH = 255;

/** Every character an agent id may use (ASCII only, so no look-alike letters). */
export const AGENT_ID_CHARS = /^[A-Za-z0-9][A-Za-z0-9._:@=,+/-]*$/;

const SPIFFE_PREFIX = 'spiffe://';
const SPIFFE_TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SPIFFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Why `id` is not a well-formed agent id beyond its characters, or `null`. Agent ids are workload
 * identities: SPIFFE ids (checked against the SPIFFE-ID spec: lowercase trust domain, path segments
 * of `[A-Za-z0-9._-]`), Kafka principals (`User:CN=bot,OU=fleet`) and `fleet/agent` names. `/`
 * separates segments, so no empty, `.` or `..` segment and no trailing `/`: two spellings of one
 * path (`a//b`, `a/./b`, `a/`) could otherwise pose as different agents, or one as another.
 */
export function agentIdProblem(id: string): string | null {
  if (id.endsWith('/')) return 'no trailing "/"';
  let path = id;
  if (/^spiffe:/i.test(id)) {
    if (!id.startsWith(SPIFFE_PREFIX)) return 'a SPIFFE id starts with "spiffe://" (lowercase)';
    const rest = id.slice(SPIFFE_PREFIX.length);
    const slash = rest.indexOf('/');
    const domain = slash === -1 ? rest : rest.slice(0, slash);
    if (!SPIFFE_TRUST_DOMAIN.test(domain))
      return 'a SPIFFE trust domain is lowercase letters, digits, ".", "_" and "-"';
    if (slash === -1) return null;
    path = rest.slice(slash + 1);
    if (path.split('/').some((seg) => seg !== '' && !SPIFFE_SEGMENT.test(seg)))
      return 'a SPIFFE path segment is letters, digits, ".", "_" and "-"';
  }
  const segments = path.split('/');
  if (segments.includes('')) return 'no empty segment ("//") outside "spiffe://"';
  if (segments.some((seg) => seg === '.' || seg === '..')) return 'no "." or ".." segment';
  return null;
}

/**
 * Agent ids: 1-255 ASCII letters, digits and `. _ : @ = , + - /`, starting with a letter or digit,
 * with the path rules of {@link agentIdProblem}. Never whitespace, control characters, `*` (the
 * policy glob character), `%` or a backslash (escapes that would spell one id two ways). Unlike {@link IdSchema},
 * not URL-safe: an agent id travels in bodies and Kafka values, never as a key or a URL segment.
 */
export const AgentIdSchema = z
  .string()
  .min(1)
  .max(AGENT_ID_MAX_LENGTH)
  .regex(AGENT_ID_CHARS, 'letters, digits and . _ : @ = , + - / only, starting with a letter or digit')
  .superRefine((id, ctx) => {
    const problem = agentIdProblem(id);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description:
      'the proposing agent: a SPIFFE id, a Kafka principal (User:CN=bot,OU=fleet) or a fleet/agent name; ' +
      '1-255 of letters, digits and . _ : @ = , + - /, starting with a letter or digit; ' +
      'no empty, "." or ".." segment and no trailing "/"',
    example: 'spiffe://acme.example/ns/prod/sa/deploy-bot',
  });

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
