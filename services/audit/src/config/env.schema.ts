import { BaseEnvSchema, TokenAuthEnvShape } from '@countersign/bus';
import { DEFAULT_REDACT_FIELDS } from '@countersign/contracts';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

export const EnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(8084),
  ...TokenAuthEnvShape,
  /**
   * The Postgres role every transaction that touches the trail runs as (`SET LOCAL ROLE`). The
   * migration creates `audit_writer` with INSERT and SELECT only; empty disables (not recommended).
   */
  AUDIT_DB_ROLE: z
    .string()
    .regex(/^$|^[a-z_][a-z0-9_]*$/, 'a plain role name (lowercase letters, digits, _)')
    .default('audit_writer'),
  /** Most records appended in one transaction (group commit). */
  AUDIT_APPEND_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(500),
  /** Rows per keyset batch when verifying. */
  AUDIT_VERIFY_BATCH: z.coerce.number().int().min(100).max(100000).default(5000),
  /** Payload keys whose values audit replaces with `[REDACTED]` before storing, as the queue does (same default list). */
  REDACT_FIELDS: csv.default([...DEFAULT_REDACT_FIELDS]),
  /** Keep `payload`s whole in the permanent record, secrets included: an explicit choice, off by default. */
  AUDIT_KEEP_FULL_PAYLOADS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Worker threads one verify splits the chain across (default: the CPUs, at most 4). */
  AUDIT_VERIFY_WORKERS: z.coerce.number().int().min(1).max(32).default(Math.min(4, availableParallelism())),
});
export type Env = z.infer<typeof EnvSchema>;
