import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { GatewayConfigError } from './gateway-config.error';
import { GatewayConfigSchema, type GatewayConfig } from './gateway-config.schema';

/** A validated configuration with its files read and its paths made absolute. */
export interface ResolvedGatewayConfig extends GatewayConfig {
  /** The PEM text of execution-binding's public key(s). */
  trustedExecutorKeys: string;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${NAME}` in every string inside `value`; a variable that is not set is an issue, not "". */
function expand(value: unknown, path: string, env: NodeJS.ProcessEnv, issues: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_all, variable: string) => {
      const v = env[variable];
      if (v === undefined) issues.push(`${path}: environment variable ${variable} is not set`);
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expand(v, `${path}.${i}`, env, issues));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v, `${path}.${k}`, env, issues)]));
  return value;
}

/**
 * `${NAME}` in a server's `env` and `headers` and in `countersign.kafka` is replaced from the
 * gateway's environment, so tokens and passwords stay out of the file.
 */
function expandVariables(config: GatewayConfig, env: NodeJS.ProcessEnv, issues: string[]): void {
  for (const [name, server] of Object.entries(config.servers)) {
    if (server.env) server.env = expand(server.env, `servers.${name}.env`, env, issues) as Record<string, string>;
    if (server.headers)
      server.headers = expand(server.headers, `servers.${name}.headers`, env, issues) as Record<string, string>;
  }
  if (config.countersign.kafka)
    config.countersign.kafka = expand(config.countersign.kafka, 'countersign.kafka', env, issues) as Record<
      string,
      unknown
    >;
}

/** Parses and validates the YAML text of a configuration; no file is read. */
export function parseGatewayConfig(text: string, source: string, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new GatewayConfigError(source, [`not valid YAML: ${(e as Error).message}`]);
  }
  const parsed = GatewayConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new GatewayConfigError(
      source,
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`),
    );
  }
  const issues: string[] = [];
  expandVariables(parsed.data, env, issues);
  if (issues.length > 0) throw new GatewayConfigError(source, issues);
  return parsed.data;
}

/** Reads the configuration file, the key file it names, and makes its paths relative to the file. */
export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedGatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new GatewayConfigError(file, [
      `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    ]);
  }
  const config = parseGatewayConfig(text, file, env);
  const base = dirname(resolve(file));
  let keys = config.countersign.trusted_executor_keys;
  const keyFile = config.countersign.trusted_executor_keys_file;
  if (keyFile !== undefined) {
    const path = resolve(base, keyFile);
    try {
      keys = readFileSync(path, 'utf8');
    } catch (e) {
      throw new GatewayConfigError(file, [
        `countersign.trusted_executor_keys_file: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      ]);
    }
  }
  if (!keys?.includes('-----BEGIN PUBLIC KEY-----'))
    throw new GatewayConfigError(file, ['countersign.trusted_executor_keys: no PEM public key found']);
  for (const server of Object.values(config.servers)) if (server.cwd) server.cwd = resolve(base, server.cwd);
  if (config.approval.policy_dir) config.approval.policy_dir = resolve(base, config.approval.policy_dir);
  return { ...config, trustedExecutorKeys: keys };
}
