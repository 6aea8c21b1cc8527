import { readFileSync } from 'node:fs';
import { z } from 'zod';

const csv = z
  .string()
  .min(1)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** `PORT` with the service's own default. */
export function portEnv(port: number) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(port)
    .describe('HTTP port of the API, `/healthz`, `/readyz` and `/api/docs`.');
}

/** A comma-separated list (blanks dropped) defaulting to `defaults`; setting it replaces the whole list. */
export function csvEnv(defaults: readonly string[], description: string) {
  return z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .default([...defaults])
    .describe(description);
}

/** An opt-in switch: exactly `true` or `false` (nothing else is read as either), off by default. */
export function offSwitchEnv(description: string) {
  return z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(description);
}

/** A size in bytes, 1 KiB to 100 MiB, 1 MiB by default. */
const byteSize = (description: string) =>
  z.coerce.number().int().min(1024).max(104857600).default(1048576).describe(description);

export const KAFKA_SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** Variables every service reads. Each service extends this with its own. */
export const BaseEnvSchema = z.object({
  PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .describe('HTTP port of the API, `/healthz`, `/readyz` and `/api/docs`.'),
  HOST: z.string().default('0.0.0.0').describe('Interface the HTTP server binds to.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level (JSON lines on stdout).'),
  KAFKA_BROKERS: csv.default(['127.0.0.1:9092']).describe('Kafka bootstrap servers, comma-separated `host:port`.'),
  KAFKA_CLIENT_ID: z.string().optional().describe('Kafka client id; defaults to the service name.'),
  /** Consumer group; replicas of one service share it and so share the partitions. */
  KAFKA_GROUP_ID: z
    .string()
    .optional()
    .describe(
      "Kafka consumer group; defaults to the service name. Replicas share it and so share the partitions. With broker ACLs, it must start with the service's principal name.",
    ),
  /** How long the group coordinator waits for a silent member before giving its partitions to the others. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(6000)
    .max(300000)
    .default(30000)
    .describe(
      "How long the group coordinator waits for a silent consumer (a crashed replica) before handing its partitions to the others; a restarted process also waits this long for its partitions. Must lie within the broker's group.min/max.session.timeout.ms (6 s to 30 min by default).",
    ),
  /**
   * Partitions whose batches a consumer handles at once (kafkajs `partitionsConsumedConcurrently`);
   * each partition's own messages still start in order. A fetch's batches are all handled before the
   * next fetch, so with few concurrent partitions small batches queue behind each other. The default
   * covers three topics of six partitions (bench/reports/e2e.md: 50/s ALLOW p50 ~0.6 s with 18 against
   * ~0.9-1.2 s with 3).
   */
  KAFKA_PARTITIONS_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(18)
    .describe(
      "Partitions whose batches the consumer handles at once (kafkajs partitionsConsumedConcurrently); each partition's messages still start in order.",
    ),
  DATABASE_URL: z
    .string()
    .url()
    .default('postgres://postgres@127.0.0.1:5432/countersign')
    .describe('PostgreSQL connection URL. Each service migrates and uses only its own schema.'),
  DATABASE_POOL_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .describe('Most PostgreSQL connections in the pool.'),
  /**
   * How often the outbox sweep looks for rows whose publish right after commit was not confirmed
   * (one cheap statement per look); the hot path does not wait for it (ADR 0008).
   */
  OUTBOX_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(60000)
    .default(500)
    .describe(
      'How often the outbox sweep looks (one cheap statement) for rows whose publish right after commit was not confirmed; the hot path never waits for it (ADR 0008).',
    ),
  /** How old an unpublished outbox row must be before the sweep sends it: younger ones are still in flight. */
  OUTBOX_RELAY_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(600000)
    .default(2000)
    .describe(
      'How old an unpublished outbox row must be before the sweep sends it: younger rows are still being published by the process that committed them. A crash between commit and publish delays those events by about this much; shorter graces send more duplicates while the broker is slow to confirm.',
    ),
  /**
   * How often consumer offsets are committed, in one request for all of a consumer's partitions;
   * 0 commits after every batch (kafkajs' own `autoCommitInterval` does not apply to batch consumers). Consumers are idempotent, so a crash only redelivers what arrived since the last commit;
   * committing per batch costs a broker request per partition per batch (ADR 0008).
   */
  KAFKA_COMMIT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60000)
    .default(1000)
    .describe(
      "How often consumer offsets are committed, in one request for all of a member's partitions, and once more when the group rebalances and before a member leaves it; 0 commits after every batch (kafkajs' own autoCommitInterval does not apply to batch consumers). A crash redelivers what arrived since the last commit (every consumer is idempotent).",
    ),
  /** Largest Kafka message value a consumer accepts; larger ones go to the DLQ before they are parsed. */
  MAX_MESSAGE_BYTES: byteSize(
    "Largest Kafka message value a consumer accepts, in bytes; a larger one goes to `<topic>.dlq` unparsed, with its size and the limit as the reason. Keep it at or below the broker's `max.message.bytes`.",
  ),
  /**
   * Keep the original bytes of a message sent to `<topic>.dlq` (`value_base64`). Off by default: a bad
   * proposal may carry secrets, and the DLQ (and audit's copy of it) is a permanent record; records
   * always keep the bytes' SHA-256 and length and, for JSON, a copy with the payload redacted.
   */
  DLQ_KEEP_RAW: flag
    .default(false)
    .describe(
      "Keep the original bytes of a message sent to `<topic>.dlq` (`value_base64`, at most 256 KiB). Off by default: a refused proposal may carry secrets and the DLQ (and the audit trail that records it) is permanent. Records always keep the bytes' SHA-256 and length and, for JSON, a copy with the payload redacted (`REDACT_FIELDS` where the service has it) and the `job_hash` of the original (docs/events.md).",
    ),
  /** Largest HTTP request body accepted; larger ones get 413 PAYLOAD_TOO_LARGE. */
  MAX_BODY_BYTES: byteSize(
    'Largest HTTP request body accepted, in bytes; a larger one gets 413 `PAYLOAD_TOO_LARGE` naming the limit.',
  ),
  // Broker authentication and transport security; checked together by kafkaSecurityFromEnv (a plain
  // object stays extendable, so the cross-field rules cannot live in a refinement here).
  KAFKA_SASL_MECHANISM: z
    .enum(KAFKA_SASL_MECHANISMS)
    .optional()
    .describe(
      'SASL mechanism for the broker: `scram-sha-512` (what the secure profile and Strimzi use), `scram-sha-256` or `plain` (only over TLS). Unset: no SASL. Needs `KAFKA_SASL_USERNAME` and a password.',
    ),
  KAFKA_SASL_USERNAME: z
    .string()
    .min(1)
    .optional()
    .describe(
      "SASL username: the service's own Kafka principal (`policy-decision`, `approval-queue`, `execution-binding`, `audit`).",
    ),
  KAFKA_SASL_PASSWORD: z
    .string()
    .min(1)
    .optional()
    .describe('SASL password, inline. Prefer `KAFKA_SASL_PASSWORD_FILE`; setting both is an error.'),
  KAFKA_SASL_PASSWORD_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Path of a file holding the SASL password (a trailing newline is ignored).'),
  KAFKA_SSL: flag.default(false).describe('Connect to Kafka over TLS.'),
  KAFKA_SSL_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('PEM CA bundle that signed the broker certificates (replaces the system CAs). Needs `KAFKA_SSL=true`.'),
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
  if (result.success) {
    // A service's env: fail at boot on an incomplete SASL/TLS setup, not at the first connect.
    if (typeof result.data === 'object' && result.data !== null && 'KAFKA_BROKERS' in result.data)
      kafkaSecurityFromEnv(env);
    return result.data;
  }
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

/** SASL credentials and TLS for the Kafka clients, resolved from the environment (secrets read from files). */
export interface KafkaSecuritySettings {
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  /** Present when the connection uses TLS; `ca` replaces the system CAs when set. */
  ssl?: { ca?: string };
}

const SecuritySchema = BaseEnvSchema.pick({
  KAFKA_SASL_MECHANISM: true,
  KAFKA_SASL_USERNAME: true,
  KAFKA_SASL_PASSWORD: true,
  KAFKA_SASL_PASSWORD_FILE: true,
  KAFKA_SSL: true,
  KAFKA_SSL_CA_FILE: true,
});

/**
 * Reads and checks the Kafka security variables together: a mechanism needs a username and a
 * password (inline or `_FILE`), credentials need a mechanism, a CA file needs `KAFKA_SSL=true`.
 * Anything half-configured is a ConfigError naming the variable, never a silent plaintext connection.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecuritySettings {
  const parsed = loadEnv(SecuritySchema, env);
  const problems: string[] = [];
  const mechanism = parsed.KAFKA_SASL_MECHANISM;
  const hasPassword = parsed.KAFKA_SASL_PASSWORD !== undefined || parsed.KAFKA_SASL_PASSWORD_FILE !== undefined;
  if (parsed.KAFKA_SASL_PASSWORD !== undefined && parsed.KAFKA_SASL_PASSWORD_FILE !== undefined) {
    problems.push('KAFKA_SASL_PASSWORD_FILE: set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both');
  }
  if (mechanism) {
    if (!parsed.KAFKA_SASL_USERNAME)
      problems.push(`KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set (not set)`);
    if (!hasPassword)
      problems.push(
        `KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE): required when KAFKA_SASL_MECHANISM is set (not set)`,
      );
  } else if (parsed.KAFKA_SASL_USERNAME !== undefined || hasPassword) {
    problems.push(
      `KAFKA_SASL_MECHANISM: required when SASL credentials are set, one of ${KAFKA_SASL_MECHANISMS.join(', ')} (not set)`,
    );
  }
  if (parsed.KAFKA_SSL_CA_FILE !== undefined && !parsed.KAFKA_SSL) {
    problems.push('KAFKA_SSL: must be true when KAFKA_SSL_CA_FILE is set');
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);

  const settings: KafkaSecuritySettings = {};
  if (mechanism && parsed.KAFKA_SASL_USERNAME) {
    // A password file written by `echo` or an editor ends with a newline that is not part of the password.
    const password = parsed.KAFKA_SASL_PASSWORD ?? (readSecret(env, 'KAFKA_SASL_PASSWORD') ?? '').replace(/\r?\n$/, '');
    if (!password) throw new ConfigError('invalid configuration:\n  KAFKA_SASL_PASSWORD_FILE: the file is empty');
    settings.sasl = { mechanism, username: parsed.KAFKA_SASL_USERNAME, password };
  }
  if (parsed.KAFKA_SSL) {
    settings.ssl = {};
    if (parsed.KAFKA_SSL_CA_FILE) {
      try {
        settings.ssl.ca = readFileSync(parsed.KAFKA_SSL_CA_FILE, 'utf8');
      } catch (e) {
        throw new ConfigError(
          `invalid configuration:\n  KAFKA_SSL_CA_FILE: cannot read ${parsed.KAFKA_SSL_CA_FILE}: ${(e as Error).message}`,
        );
      }
    }
  }
  return settings;
}
