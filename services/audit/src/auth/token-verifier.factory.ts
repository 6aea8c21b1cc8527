import { ConfigError, readSecret, TokenVerifier } from '@countersign/bus';
import type { Env } from '../config/env.schema';

/** Auditor tokens: HS256 with `APPROVER_JWT_SECRET[_FILE]` locally, `APPROVER_JWKS_URL` in production. */
export function tokenVerifierFrom(env: Env, raw: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const secret = env.APPROVER_JWKS_URL ? undefined : readSecret(raw, 'APPROVER_JWT_SECRET')?.trim();
  if (secret !== undefined && Buffer.byteLength(secret) < 32) {
    throw new ConfigError('invalid configuration:\n  APPROVER_JWT_SECRET: must be at least 32 bytes');
  }
  return new TokenVerifier({
    ...(secret ? { secret } : {}),
    ...(env.APPROVER_JWKS_URL ? { jwksUrl: env.APPROVER_JWKS_URL } : {}),
    ...(env.APPROVER_JWT_ISSUER ? { issuer: env.APPROVER_JWT_ISSUER } : {}),
    ...(env.APPROVER_JWT_AUDIENCE ? { audience: env.APPROVER_JWT_AUDIENCE } : {}),
  });
}
