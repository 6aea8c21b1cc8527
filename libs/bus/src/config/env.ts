import { readFileSync } from 'node:fs';
import { z } from 'zod';

const csv = z
  .string()
  .min(1)
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/** Variables every service reads. Each service extends this with its own. */
export const BaseEnvSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().optional(),
  /** Consumer group; replicas of one service share it and so share the partitions. */
  KAFKA_GROUP_ID: z.string().optional(),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/countersign'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60000).default(250),
});
export type BaseEnv = z.infer<typeof BaseEnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validates the environment once at boot. The message names every bad variable and what it
 * expected, so an operator can fix the deployment without reading code.
 */
export function loadEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const name = i.path.join('.') || '(environment)';
    const value = i.path.length ? env[String(i.path[0])] : undefined;
    return `  ${name}: ${i.message}${value === undefined ? ' (not set)' : ''}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** A PEM given inline or as a file path (`X` or `X_FILE`); files keep keys out of the process list. */
export function readSecret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const inline = env[name];
  if (inline) return inline.replace(/\\n/g, '\n');
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  ${name}_FILE: cannot read ${file}: ${(e as Error).message}`);
  }
}
