import {
  BaseEnvSchema,
  csvEnv,
  offSwitchEnv,
  portEnv,
  signingKeyEnv,
  TokenAuthEnvShape,
  trustedKeyEnv,
} from '@countersign/config';
import { DEFAULT_REDACT_FIELDS } from '@countersign/contracts';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export const EnvSchema = BaseEnvSchema.extend({
  PORT: portEnv(8084),
  ...TokenAuthEnvShape,
  ...signingKeyEnv('AUDIT', '`audit.recorded`; consumers trust its public key as `TRUST_AUDIT_KEY` (docs/adr/0006)'),
  ...trustedKeyEnv(
    'POLICY_DECISION',
    "policy-decision's public key(s): the signature of every `decision.made` is verified and recorded.",
  ),
  ...trustedKeyEnv(
    'APPROVAL_QUEUE',
    "approval-queue's public key(s): `approval.resolved` and `approval.escalated` are verified and recorded.",
  ),
  ...trustedKeyEnv(
    'EXECUTION_BINDING',
    "execution-binding's public key(s): `job.released`, `job.blocked` and `job.executed` are verified and recorded.",
  ),
  /**
   * The Postgres role every transaction that touches the trail runs as (`SET LOCAL ROLE`). The
   * migration creates `audit_writer` with INSERT and SELECT only; empty disables (not recommended).
   */
  AUDIT_DB_ROLE: z
    .string()
    .regex(/^$|^[a-z_][a-z0-9_]*$/, 'a plain role name (lowercase letters, digits, _)')
    .default('audit_writer')
    .describe(
      'PostgreSQL role every transaction that touches the trail runs as (`SET LOCAL ROLE`); the migration creates `audit_writer` with INSERT and SELECT only. Empty disables it (not recommended).',
    ),
  /** Most records appended in one transaction (group commit). */
  AUDIT_APPEND_BATCH_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(500)
    .describe('Most records appended in one transaction (group commit).'),
  /** Rows per keyset batch when verifying. */
  AUDIT_VERIFY_BATCH: z.coerce
    .number()
    .int()
    .min(100)
    .max(100000)
    .default(5000)
    .describe('Rows read per keyset batch by verify and export.'),
  /** Payload keys whose values audit replaces with `[REDACTED]` before storing, as the queue does (same default list). */
  REDACT_FIELDS: csvEnv(
    DEFAULT_REDACT_FIELDS,
    "Payload keys whose values the audit trail stores as `[REDACTED]` (with the redacted paths and the full proposal's `job_hash`), matched as the queue matches them; the default is the queue's list. Setting it replaces the default list.",
  ),
  /** Keep `payload`s whole in the permanent record, secrets included: an explicit choice, off by default. */
  AUDIT_KEEP_FULL_PAYLOADS: offSwitchEnv(
    '`true` keeps payloads whole in the permanent record, secrets included (an explicit choice; see docs/audit.md). Default: redacted.',
  ),
  /** Worker threads one verify splits the chain across (default: the CPUs, at most 4). */
  AUDIT_VERIFY_WORKERS: z.coerce.number().int().min(1).max(32).default(Math.min(4, availableParallelism())).meta({
    description: 'Worker threads one verification splits the chain across.',
    defaultText: 'the CPUs, at most 4',
  }),
});
export type Env = z.infer<typeof EnvSchema>;
