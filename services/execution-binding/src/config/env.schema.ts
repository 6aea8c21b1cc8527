import { BaseEnvSchema, portEnv, signingKeyEnv, TokenAuthEnvShape, trustedKeyEnv } from '@countersign/config';
import { z } from 'zod';

export const EnvSchema = BaseEnvSchema.extend({
  PORT: portEnv(8083),
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
  ...signingKeyEnv('EXECUTION_BINDING', 'grants and outcomes'),
  ...trustedKeyEnv('POLICY_DECISION', "policy-decision's public key(s): decisions are verified before binding."),
  ...trustedKeyEnv('APPROVAL_QUEUE', "approval-queue's public key(s): approvals are verified before binding."),
  ...trustedKeyEnv(
    'EXECUTION_BINDING',
    'Its own earlier public key(s), so records signed before a key rotation still verify.',
    { required: false },
  ),
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe(
      "`production` refuses to start when an executor's HMAC secret is missing (elsewhere a random one is generated) and ignores test-only switches.",
    ),
  /** Executors per topic glob (YAML, validated at boot). Relative paths are resolved from the working directory. */
  EXECUTORS_FILE: z
    .string()
    .min(1)
    .default('deploy/local/executors.yaml')
    .describe(
      'YAML file of executors per topic glob, validated at boot; relative paths resolve from the working directory.',
    ),
  /** A job whose proposal or decision is still missing this long after its first fact is blocked INCOMPLETE. */
  INCOMPLETE_AFTER_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(600_000)
    .describe(
      'A job whose proposal or decision is still missing this long after its first fact is blocked `INCOMPLETE`.',
    ),
  /** How often the sweeper looks for INCOMPLETE jobs, due retries, lost executions and unreported grants. */
  SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(600_000)
    .default(1000)
    .describe(
      'How often the sweeper looks for `INCOMPLETE` jobs, due retries, abandoned executions and unreported grants.',
    ),
  /** Added to an attempt's timeout before a `started` execution is considered abandoned by a dead process. */
  EXECUTION_LEASE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe("Added to an attempt's timeout before a `started` execution counts as abandoned by a dead process."),
  /** After a grant expires, how long the agent still has to report the outcome before it is recorded UNKNOWN. */
  RELEASE_REPORT_GRACE_SEC: z.coerce
    .number()
    .int()
    .min(0)
    .default(3600)
    .describe(
      'After a grant expires, how long the agent still has to report the outcome before it is recorded `UNKNOWN`.',
    ),
  /** Test-only (honoured only with NODE_ENV=test): exit(137) right after an execution is recorded, before its side effect. */
  EXECUTOR_TEST_CRASH_AFTER_RECORD: z
    .enum(['0', '1'])
    .default('0')
    .describe(
      'Test only (honoured only with `NODE_ENV=test`): exit right after an execution is recorded, before its side effect.',
    ),
});
export type Env = z.infer<typeof EnvSchema>;
