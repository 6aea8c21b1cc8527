import { BaseEnvSchema, portEnv, signingKeyEnv, TokenAuthEnvShape } from '@countersign/config';
import { z } from 'zod';

export const EnvSchema = BaseEnvSchema.extend({
  PORT: portEnv(8082),
  /** Bearer tokens for the evaluate and snapshot API (operator or auditor role): the same settings as approval-queue. */
  ...TokenAuthEnvShape,
  ...signingKeyEnv('POLICY_DECISION', '`decision.made` and `policy.activated`'),
  /** A policy directory (`system.yaml` + `tenants/<tenant>.yaml`); the default is the shipped one. */
  POLICY_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Policy directory (`system.yaml` + `tenants/<tenant>.yaml`); unset: `./policies`, the shipped one.'),
  /** A single policy file instead of a directory (it is the system policy). */
  POLICY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('A single policy file instead of a directory (it is the system policy). Not together with `POLICY_DIR`.'),
  /** How often the policy files are checked for changes. */
  POLICY_RELOAD_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(1000)
    .describe('How often the policy files are checked for changes (a change activates a new snapshot).'),
  /** Proposals of one partition decided at once (their decisions share produce requests). */
  POLICY_DECISION_CONSUME_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(2000)
    .default(200)
    .describe(
      'Proposals of one partition decided at once (kafkajs eachBatch); their decisions share produce requests. 1 decides one at a time.',
    ),
}).refine((e) => !(e.POLICY_DIR && e.POLICY_FILE), {
  message: 'set POLICY_DIR or POLICY_FILE, not both',
  path: ['POLICY_FILE'],
});
export type Env = z.infer<typeof EnvSchema>;
