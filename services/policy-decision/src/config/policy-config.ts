import { resolve } from 'node:path';
import { approverAuthFromEnv, loadEnv, loadSigner, type ApproverAuth } from '@countersign/config';
import type { Signer } from '@countersign/crypto';
import type { PolicySource } from '../policy/policy-store';
import { EnvSchema, type Env } from './env.schema';

/** Injection token of the service's one config object. */
export const POLICY_CONFIG = Symbol('POLICY_CONFIG');

/** Everything policy-decision reads from its environment, validated at boot, secrets included. */
export interface PolicyConfig {
  env: Env;
  /** Where the policies are read from (`POLICY_FILE`, else `POLICY_DIR`, else `./policies`). */
  policySource: PolicySource;
  /** How often the policy files are checked for changes. */
  reloadMs: number;
  /** Signs `decision.made` and `policy.activated`. */
  signer: Signer;
  /** How operator and auditor tokens are verified. */
  approverAuth: ApproverAuth;
}

export function policySource(env: Pick<Env, 'POLICY_FILE' | 'POLICY_DIR'>): PolicySource {
  if (env.POLICY_FILE) return { kind: 'file', path: resolve(env.POLICY_FILE) };
  return { kind: 'dir', path: resolve(env.POLICY_DIR ?? 'policies') };
}

/** Built once in main.ts; a missing or malformed variable or key is a ConfigError naming it, before the service listens. */
export function loadPolicyConfig(vars: NodeJS.ProcessEnv): PolicyConfig {
  const env = loadEnv(EnvSchema, vars);
  return {
    env,
    policySource: policySource(env),
    reloadMs: env.POLICY_RELOAD_MS,
    signer: loadSigner(vars, 'POLICY_DECISION'),
    approverAuth: approverAuthFromEnv(env),
  };
}
