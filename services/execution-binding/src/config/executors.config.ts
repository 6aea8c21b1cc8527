import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TOPIC_GLOB, TOPIC_GLOB_SYNTAX, compileTopicGlobs } from '@countersign/policy';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Named `ConfigError` so `runMain` prints it as one readable line, like the bus's own; defined here so
 * this pure loader (and its unit specs) need not import the Nest adapter library.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * A topic glob in the policy's own syntax (`*` one segment, `**` any number, `deploy-*` within one
 * segment), so an executor's `match` and a rule's `match.topics` mean the same thing. Anything else
 * (braces, `?`, `/`) is refused at boot rather than silently read another way.
 */
const TopicGlobSchema = z.string().min(1).max(200).regex(TOPIC_GLOB, `expected ${TOPIC_GLOB_SYNTAX}`);

const RetrySchema = z
  .object({
    max_attempts: z.number().int().min(1).max(100).default(5),
    initial_backoff_ms: z.number().int().min(10).max(3_600_000).default(500),
    max_backoff_ms: z.number().int().min(10).max(86_400_000).default(60_000),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetrySchema>;

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ and -'),
  match: z.array(TopicGlobSchema).min(1),
  /** Upper bound on one attempt; the decision's `max_runtime_sec` can only shorten it. */
  timeout_sec: z.number().int().min(1).max(3600).default(30),
  retry: RetrySchema.default({ max_attempts: 5, initial_backoff_ms: 500, max_backoff_ms: 60_000 }),
};

const HttpExecutorSchema = z
  .object({
    ...common,
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }).describe('where the approved job is POSTed'),
    /** Name of the environment variable holding the HMAC secret (never the secret itself). */
    secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'),
    /** True only when the target dedupes on `Idempotency-Key`: then failures are retried with backoff. */
    idempotent: z.boolean().default(false),
  })
  .strict();

const KafkaExecutorSchema = z
  .object({
    ...common,
    kind: z.literal('kafka'),
    topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
    /** Workers dedupe on the dispatch's deterministic event id, so re-sending is safe by default. */
    idempotent: z.boolean().default(true),
  })
  .strict();

const ReleaseExecutorSchema = z
  .object({
    ...common,
    kind: z.literal('release'),
    /** How long the agent may take to start the released action. */
    grant_ttl_sec: z.number().int().min(1).max(86_400).default(900),
    idempotent: z.literal(false).default(false),
  })
  .strict();

export const ExecutorSchema = z.discriminatedUnion('kind', [
  HttpExecutorSchema,
  KafkaExecutorSchema,
  ReleaseExecutorSchema,
]);
export type ExecutorConfig = z.infer<typeof ExecutorSchema>;
export type HttpExecutorConfig = z.infer<typeof HttpExecutorSchema>;
export type KafkaExecutorConfig = z.infer<typeof KafkaExecutorSchema>;
export type ReleaseExecutorConfig = z.infer<typeof ReleaseExecutorSchema>;

export const ExecutorsFileSchema = z
  .object({ executors: z.array(ExecutorSchema) })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.executors.forEach((e, i) => {
      if (seen.has(e.name))
        ctx.addIssue({ code: 'custom', path: ['executors', i, 'name'], message: `duplicate executor name ${e.name}` });
      seen.add(e.name);
    });
  });

/** A loaded executor with its compiled topic matcher. */
export type RoutedExecutor = ExecutorConfig & { matches: (topic: string) => boolean };

export interface ExecutorsConfig {
  file: string;
  /** In file order: the first executor whose globs match a job's topic runs it. */
  executors: RoutedExecutor[];
  /** HMAC secrets by environment variable name. */
  secrets: ReadonlyMap<string, string>;
  /** Secret names that were missing and replaced by a random one (development only). */
  generatedSecrets: string[];
}

/** A predicate for a list of topic globs (any of them), on the policy engine's matcher. */
export function topicMatcher(globs: readonly string[]): (topic: string) => boolean {
  const re = compileTopicGlobs(globs)!;
  return (topic) => re.test(topic);
}

/**
 * Reads and validates the executors file once at boot; every problem is a ConfigError naming the
 * file and the field. An http executor's secret must be set in production; elsewhere a missing one
 * is replaced by a random secret, which fails closed at the receiver (it cannot verify the call).
 */
export function loadExecutorsConfig(file: string, env: NodeJS.ProcessEnv, nodeEnv: string): ExecutorsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  EXECUTORS_FILE: cannot read ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  EXECUTORS_FILE ${file}: not YAML: ${(e as Error).message}`);
  }
  const parsed = ExecutorsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues
      .slice(0, 20)
      .map((i) => `  ${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const secrets = new Map<string, string>();
  const generatedSecrets: string[] = [];
  for (const e of parsed.data.executors) {
    if (e.kind !== 'http' || secrets.has(e.secret_env)) continue;
    const value = env[e.secret_env];
    if (value && value.length >= 16) {
      secrets.set(e.secret_env, value);
    } else if (value) {
      throw new ConfigError(
        `invalid configuration:\n  ${e.secret_env}: the HMAC secret of executor ${e.name} must be at least 16 characters`,
      );
    } else if (nodeEnv === 'production') {
      throw new ConfigError(
        `invalid configuration:\n  ${e.secret_env}: required by executor ${e.name} (the HMAC secret for its calls) (not set)`,
      );
    } else {
      secrets.set(e.secret_env, randomBytes(32).toString('hex'));
      generatedSecrets.push(e.secret_env);
    }
  }
  return {
    file,
    executors: parsed.data.executors.map((e) => ({ ...e, matches: topicMatcher(e.match) })),
    secrets,
    generatedSecrets,
  };
}
