import type { KeyObject } from 'node:crypto';
import {
  approverAuthFromEnv,
  ConfigError,
  DEFAULT_ROLES_CLAIM,
  DEFAULT_TENANTS_CLAIM,
  loadEnv,
  loadSigner,
  loadTrustedKeys,
  type ApproverAuth,
} from '@countersign/config';
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
  /** What the reviewers' page needs to sign in (served unauthenticated at /api/v1/ui-config). */
  ui: UiSignInConfig;
}

export interface UiSignInConfig {
  /** Null: no OpenID provider configured (the page says so, or offers only the dev form). */
  oidc: { issuer: string; clientId: string; scopes: string; resource: string | null } | null;
  rolesClaim: string;
  tenantsClaim: string;
  devTokenForm: boolean;
}

/** The page's sign-in settings; an issuer without a client id (or the reverse) is a ConfigError. */
export function uiSignIn(env: Env, auth: ApproverAuth): UiSignInConfig {
  const { UI_OIDC_ISSUER: issuer, UI_OIDC_CLIENT_ID: clientId } = env;
  if (!issuer !== !clientId) {
    throw new ConfigError(
      'invalid configuration:\n  UI_OIDC_ISSUER and UI_OIDC_CLIENT_ID: set both or neither (the page signs in with both)',
    );
  }
  return {
    oidc:
      issuer && clientId
        ? { issuer, clientId, scopes: env.UI_OIDC_SCOPES, resource: env.UI_OIDC_RESOURCE ?? null }
        : null,
    rolesClaim: auth.rolesClaim ?? DEFAULT_ROLES_CLAIM,
    tenantsClaim: auth.tenantsClaim ?? DEFAULT_TENANTS_CLAIM,
    devTokenForm: env.UI_DEV_TOKEN_FORM,
  };
}

/** Built once in main.ts; a missing or malformed variable or key is a ConfigError naming it, before the service listens. */
export function loadQueueConfig(vars: NodeJS.ProcessEnv): QueueConfig {
  const env = loadEnv(EnvSchema, vars);
  const approverAuth = approverAuthFromEnv(env);
  return {
    env,
    signer: loadSigner(vars, 'APPROVAL_QUEUE'),
    decisionKeys: loadTrustedKeys(vars, 'POLICY_DECISION'),
    approverAuth,
    ui: uiSignIn(env, approverAuth),
  };
}
