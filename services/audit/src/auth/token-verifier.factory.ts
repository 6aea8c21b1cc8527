import { tokenVerifierFromEnv, type TokenVerifier } from '@countersign/bus';
import type { Env } from '../config/env.schema';

/** Auditor tokens: the shared rule (HS256 secret locally, JWKS with issuer and audience in production, never both). */
export function tokenVerifierFrom(env: Env): TokenVerifier {
  return tokenVerifierFromEnv(env);
}
