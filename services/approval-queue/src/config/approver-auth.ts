import { tokenVerifierOptions, type TokenVerifierOptions } from '@countersign/bus';
import type { Env } from './env.schema';

/**
 * How approver tokens are verified: the shared rule of every service that takes tokens (a JWKS URL
 * with issuer and audience in production, an HS256 secret locally, never both; fails fast at boot).
 */
export function approverAuthOptions(env: Env): TokenVerifierOptions {
  return tokenVerifierOptions(env);
}
