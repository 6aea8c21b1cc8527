import { BaseEnvSchema, TokenAuthEnvShape } from '@countersign/bus';
import { z } from 'zod';

export const EnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(8083),
  /** Facts of one partition handled at once; they are recorded together in batch passes. */
  EXECUTION_BINDING_CONSUME_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(32)
    .describe(
      'Facts of one partition handled at once; concurrent facts are recorded together, one transaction per batch pass.',
    ),
  /** Bearer tokens for the job state API (operator or auditor role): the same settings as approval-queue. */
  ...TokenAuthEnvShape,
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Executors per topic glob (YAML, validated at boot). Relative paths are resolved from the working directory. */
  EXECUTORS_FILE: z.string().min(1).default('deploy/local/executors.yaml'),
  /** A job whose proposal or decision is still missing this long after its first fact is blocked INCOMPLETE. */
  INCOMPLETE_AFTER_MS: z.coerce.number().int().min(100).default(600_000),
  /** How often the sweeper looks for INCOMPLETE jobs, due retries, lost executions and unreported grants. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
  /** Added to an attempt's timeout before a `started` execution is considered abandoned by a dead process. */
  EXECUTION_LEASE_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  /** After a grant expires, how long the agent still has to report the outcome before it is recorded UNKNOWN. */
  RELEASE_REPORT_GRACE_SEC: z.coerce.number().int().min(0).default(3600),
  /** Test-only (honoured only with NODE_ENV=test): exit(137) right after an execution is recorded, before its side effect. */
  EXECUTOR_TEST_CRASH_AFTER_RECORD: z.enum(['0', '1']).default('0'),
});
export type Env = z.infer<typeof EnvSchema>;
