import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import {
  approverAuthFromEnv,
  loadEnv,
  loadSigner,
  loadTrustedKeys,
  readSecret,
  type ApproverAuth,
} from '@countersign/config';
import type { Signer } from '@countersign/crypto';
import { EnvSchema, type Env } from './env.schema';
import { loadExecutorsConfig, type ExecutorsConfig } from './executors.config';

/** Injection token of the service's one config object. */
export const BINDING_CONFIG = Symbol('BINDING_CONFIG');

export interface BindingKeys {
  /** Signs grants (`job.released`) and kafka dispatches. */
  signer: Signer;
  /** Trusted for `decision.made`. */
  policyDecision: KeyObject[];
  /** Trusted for `approval.resolved`. */
  approvalQueue: KeyObject[];
  /** Our own grant keys: the current signer plus, during a rotation, the previous ones in TRUST_EXECUTION_BINDING_KEY. */
  ownGrants: KeyObject[];
}

/** Everything execution-binding reads from its environment, validated at boot, secrets included. */
export interface BindingConfig {
  env: Env;
  keys: BindingKeys;
  executors: ExecutorsConfig;
  /** How operator and auditor tokens are verified. */
  approverAuth: ApproverAuth;
}

export const SCHEMA = 'execution_binding';
/** The consumer name under which processed facts are recorded, each per (topic, event_id) with its digest. */
export const CONSUMER = 'execution-binding';
export const PRODUCER = 'execution-binding';

/** Loads every key at boot; a missing or malformed one is a ConfigError naming the variable. */
export function loadBindingKeys(vars: NodeJS.ProcessEnv): BindingKeys {
  const signer = loadSigner(vars, 'EXECUTION_BINDING');
  const previous = readSecret(vars, 'TRUST_EXECUTION_BINDING_KEY') ? loadTrustedKeys(vars, 'EXECUTION_BINDING') : [];
  return {
    signer,
    policyDecision: loadTrustedKeys(vars, 'POLICY_DECISION'),
    approvalQueue: loadTrustedKeys(vars, 'APPROVAL_QUEUE'),
    ownGrants: [signer.publicKey, ...previous],
  };
}

/**
 * Built once in main.ts; a missing or malformed variable, key, executor or token setting is a
 * ConfigError naming it, before the service listens. The executors' HMAC secrets are the variables
 * their `secret_env` names in EXECUTORS_FILE.
 */
export function loadBindingConfig(vars: NodeJS.ProcessEnv): BindingConfig {
  const env = loadEnv(EnvSchema, vars);
  const keys = loadBindingKeys(vars);
  return {
    env,
    keys,
    executors: loadExecutorsConfig(resolve(env.EXECUTORS_FILE), vars, env.NODE_ENV),
    approverAuth: approverAuthFromEnv(env),
  };
}
