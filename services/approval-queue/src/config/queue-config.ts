import type { KeyObject } from 'node:crypto';
import { approverAuthFromEnv, loadEnv, loadSigner, loadTrustedKeys, type ApproverAuth } from '@countersign/config';
import type { Signer } from '@countersign/crypto';
import { EnvSchema, type Env } from './env.schema';

/** Injection token of the service's one config object. */
export const QUEUE_CONFIG = Symbol('QUEUE_CONFIG');

/** Everything approval-queue reads from its environment, validated at boot, secrets included. */
export interface QueueConfig {
  env: Env;
  /** Signs `approval.resolved` and `approval.escalated`. */
  signer: Signer;
  /** Trusted for `decision.made`. */
  decisionKeys: KeyObject[];
  /** How approver tokens are verified. */
  approverAuth: ApproverAuth;
}

/** Built once in main.ts; a missing or malformed variable or key is a ConfigError naming it, before the service listens. */
export function loadQueueConfig(vars: NodeJS.ProcessEnv): QueueConfig {
  const env = loadEnv(EnvSchema, vars);
  return {
    env,
    signer: loadSigner(vars, 'APPROVAL_QUEUE'),
    decisionKeys: loadTrustedKeys(vars, 'POLICY_DECISION'),
    approverAuth: approverAuthFromEnv(env),
  };
}
