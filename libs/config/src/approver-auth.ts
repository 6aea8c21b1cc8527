import { z } from 'zod';
import { ConfigError, readSecret } from './env';

const MIN_SECRET_BYTES = 32;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : undefined));

/** A claim name or dotted path (`realm_access.roles`); a URL-shaped name (`https://x.example/roles`) is allowed too. */
const claimPath = z
  .string()
  .max(200)
  .regex(/^[^\s.][^\s]*$/, 'a claim name or a dotted path such as realm_access.roles')
  .refine((v) => !v.endsWith('.') && !v.includes('..'), 'a claim name or a dotted path such as realm_access.roles')
  .optional();

export const DEFAULT_ROLES_CLAIM = 'roles';
export const DEFAULT_TENANTS_CLAIM = 'tenants';

/**
 * How bearer tokens are verified, the same variables in every service that takes tokens
 * (approval-queue, audit, execution-binding, policy-decision): spread into a service's EnvSchema.
 */
export const TokenAuthEnvShape = {
  /** Local HS256 secret (at least 32 bytes); production uses APPROVER_JWKS_URL instead. */
  APPROVER_JWT_SECRET: optionalText.describe(
    'HS256 secret (at least 32 bytes) that verifies bearer tokens (approver, operator, auditor), for local use. Exactly one of this, `APPROVER_JWT_SECRET_FILE` or `APPROVER_JWKS_URL` is required; every service that takes tokens gets the same setting.',
  ),
  APPROVER_JWT_SECRET_FILE: optionalText.describe('Path of a file holding `APPROVER_JWT_SECRET`.'),
  APPROVER_JWKS_URL: optionalText
    .pipe(z.url().optional())
    .describe(
      'JWKS URL of the identity provider that signs bearer tokens (production); needs `APPROVER_JWT_ISSUER` and `APPROVER_JWT_AUDIENCE`.',
    ),
  APPROVER_JWT_ISSUER: optionalText.describe(
    'Expected `iss` of tokens: required with `APPROVER_JWKS_URL`, checked when set.',
  ),
  APPROVER_JWT_AUDIENCE: optionalText.describe(
    'Expected `aud` of tokens: required with `APPROVER_JWKS_URL`, checked when set.',
  ),
  APPROVER_ROLES_CLAIM: optionalText
    .pipe(claimPath)
    .describe(
      'Where a token carries its roles (default `roles`): a claim name or a dotted path into nested claims, e.g. `realm_access.roles` (Keycloak) or `groups` (Okta). A claim named exactly so wins over the path.',
    ),
  APPROVER_TENANTS_CLAIM: optionalText
    .pipe(claimPath)
    .describe(
      'Where a token carries its tenants (default `tenants`), as for `APPROVER_ROLES_CLAIM`, e.g. `countersign.tenants`. A missing claim grants no tenant; `"*"` grants all.',
    ),
};

/** How approver (operator, auditor) bearer tokens are verified: a JWKS URL with issuer and audience, or an HS256 secret. */
export interface ApproverAuth {
  /** HS256 shared secret (local); at least 32 bytes. */
  secret?: string;
  /** JWKS URL (production); then issuer and audience are required and checked. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Claim name or dotted path of the roles (default `roles`). */
  rolesClaim?: string;
  /** Claim name or dotted path of the tenants (default `tenants`). */
  tenantsClaim?: string;
}

export interface TokenAuthEnv {
  APPROVER_JWT_SECRET?: string | undefined;
  APPROVER_JWT_SECRET_FILE?: string | undefined;
  APPROVER_JWKS_URL?: string | undefined;
  APPROVER_JWT_ISSUER?: string | undefined;
  APPROVER_JWT_AUDIENCE?: string | undefined;
  APPROVER_ROLES_CLAIM?: string | undefined;
  APPROVER_TENANTS_CLAIM?: string | undefined;
}

const invalid = (line: string) => new ConfigError(`invalid configuration:\n  ${line}`);

/**
 * The verifier settings, checked at boot so a misdeployed service never starts accepting no one or
 * anyone: exactly one of the secret and the JWKS URL; a secret of at least 32 bytes; with JWKS, an
 * issuer and an audience (a token from the same IdP for another application must not pass).
 */
export function approverAuthFromEnv(env: TokenAuthEnv): ApproverAuth {
  const secret = readSecret(
    { APPROVER_JWT_SECRET: env.APPROVER_JWT_SECRET, APPROVER_JWT_SECRET_FILE: env.APPROVER_JWT_SECRET_FILE },
    'APPROVER_JWT_SECRET',
  )?.trim();
  const jwksUrl = env.APPROVER_JWKS_URL;
  if (jwksUrl && secret) {
    throw invalid(
      'APPROVER_JWKS_URL and APPROVER_JWT_SECRET(_FILE): set exactly one (JWKS in production, the secret locally)',
    );
  }
  if (!jwksUrl && !secret) {
    throw invalid(
      'APPROVER_JWT_SECRET (or APPROVER_JWT_SECRET_FILE) or APPROVER_JWKS_URL: required, how bearer tokens are verified (not set)',
    );
  }
  if (secret && Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw invalid(`APPROVER_JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (jwksUrl && (!env.APPROVER_JWT_ISSUER || !env.APPROVER_JWT_AUDIENCE)) {
    throw invalid(
      'APPROVER_JWT_ISSUER and APPROVER_JWT_AUDIENCE: required with APPROVER_JWKS_URL (tokens must name this deployment)',
    );
  }
  return {
    ...(jwksUrl ? { jwksUrl } : { secret }),
    ...(env.APPROVER_JWT_ISSUER ? { issuer: env.APPROVER_JWT_ISSUER } : {}),
    ...(env.APPROVER_JWT_AUDIENCE ? { audience: env.APPROVER_JWT_AUDIENCE } : {}),
    ...(env.APPROVER_ROLES_CLAIM ? { rolesClaim: env.APPROVER_ROLES_CLAIM } : {}),
    ...(env.APPROVER_TENANTS_CLAIM ? { tenantsClaim: env.APPROVER_TENANTS_CLAIM } : {}),
  };
}
