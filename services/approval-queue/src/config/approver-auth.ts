import { ConfigError, readSecret, type TokenVerifierOptions } from '@countersign/bus';
import type { Env } from './env.schema';

const MIN_SECRET_BYTES = 32;

/**
 * How approver tokens are verified: a JWKS URL in production, an HS256 secret locally. Fails fast
 * when neither (or both) is configured, so a misdeployed queue never starts accepting no one or anyone.
 */
export function approverAuthOptions(env: Env): TokenVerifierOptions {
  const secret = readSecret({ APPROVER_JWT_SECRET: env.APPROVER_JWT_SECRET, APPROVER_JWT_SECRET_FILE: env.APPROVER_JWT_SECRET_FILE }, 'APPROVER_JWT_SECRET')?.trim();
  const jwksUrl = env.APPROVER_JWKS_URL;
  if (jwksUrl && secret) {
    throw new ConfigError('invalid configuration:\n  APPROVER_JWKS_URL and APPROVER_JWT_SECRET(_FILE): set exactly one (JWKS in production, the secret locally)');
  }
  if (!jwksUrl && !secret) {
    throw new ConfigError(
      'invalid configuration:\n  APPROVER_JWT_SECRET (or APPROVER_JWT_SECRET_FILE) or APPROVER_JWKS_URL: required, how approver tokens are verified (not set)',
    );
  }
  if (secret && Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new ConfigError(`invalid configuration:\n  APPROVER_JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return {
    ...(jwksUrl ? { jwksUrl } : { secret }),
    ...(env.APPROVER_JWT_ISSUER ? { issuer: env.APPROVER_JWT_ISSUER } : {}),
    ...(env.APPROVER_JWT_AUDIENCE ? { audience: env.APPROVER_JWT_AUDIENCE } : {}),
  };
}
