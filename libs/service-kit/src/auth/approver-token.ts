import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { DEFAULT_ROLES_CLAIM, DEFAULT_TENANTS_CLAIM, type ApproverAuth } from '@countersign/config';
import { unauthenticated } from './auth.errors';

/** In a token's `tenants` claim: every tenant. It must be written out; a missing claim grants none. */
export const ALL_TENANTS = '*';

export const ActorClaimsSchema = z
  .object({
    sub: z.string().min(1).max(256),
    roles: z.array(z.string().min(1).max(64)).max(64),
    tenants: z.array(z.string().min(1).max(128)).max(1000).optional(),
  })
  // Fail closed: no claim is no tenant; only the explicit wildcard widens to all (`undefined` below).
  .transform(({ tenants, ...rest }) => ({
    ...rest,
    tenants: tenants === undefined ? ([] as string[]) : tenants.includes(ALL_TENANTS) ? undefined : tenants,
  }));
/** Who is acting. `tenants` undefined: every tenant (the token said `"*"`); `[]`: none. */
export type Actor = z.output<typeof ActorClaimsSchema>;

export type TokenVerifierOptions = ApproverAuth;

/**
 * A claim by name or dotted path: `realm_access.roles` reads `{ realm_access: { roles } }`. A claim
 * named exactly so (`https://idp.example/roles`, which has dots of its own) wins over the path.
 */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let at: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The actor's claims from wherever this deployment's IdP puts them (still lists: a lone string is refused). */
function mappedClaims(payload: JWTPayload, opts: TokenVerifierOptions): Record<string, unknown> {
  return {
    sub: payload.sub,
    roles: claimAt(payload, opts.rolesClaim ?? DEFAULT_ROLES_CLAIM),
    tenants: claimAt(payload, opts.tenantsClaim ?? DEFAULT_TENANTS_CLAIM),
  };
}

/** Why jose refused a token, in words an operator can act on (never the token itself). */
function refusal(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === 'missing') return `token lacks the required "${e.claim}" claim`;
    if (e.claim === 'iss' || e.claim === 'aud') return `token "${e.claim}" claim does not match this deployment`;
    return `token "${e.claim}" claim is invalid`;
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not accepted';
  return 'invalid token';
}

/**
 * Verifies approver, operator and auditor bearer tokens. The actor is whoever the token names:
 * request bodies never say who is acting. Fails closed: with no key configured every request is
 * refused, a token without `exp` is refused, and with JWKS `iss` and `aud` must be configured and match.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey | undefined;

  constructor(private readonly opts: TokenVerifierOptions) {
    if (opts.jwksUrl) {
      if (!opts.issuer || !opts.audience) throw new Error('a JWKS token verifier needs an issuer and an audience');
      this.key = createRemoteJWKSet(new URL(opts.jwksUrl));
    } else if (opts.secret) this.key = new TextEncoder().encode(opts.secret);
  }

  async verify(authorization: string | undefined): Promise<Actor> {
    if (!this.key) throw unauthenticated('no token verification key is configured');
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m?.[1]) throw unauthenticated();
    let payload: JWTPayload;
    try {
      const algorithms = this.opts.jwksUrl ? ['EdDSA', 'ES256', 'RS256'] : ['HS256'];
      const requiredClaims = this.opts.jwksUrl ? ['exp', 'iss', 'aud'] : ['exp'];
      const verifyOpts = {
        algorithms,
        requiredClaims,
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
      };
      const result =
        typeof this.key === 'function'
          ? await jwtVerify(m[1], this.key, verifyOpts)
          : await jwtVerify(m[1], this.key, verifyOpts);
      payload = result.payload;
    } catch (e) {
      throw unauthenticated(refusal(e));
    }
    const claims = ActorClaimsSchema.safeParse(mappedClaims(payload, this.opts));
    if (!claims.success) {
      const roles = this.opts.rolesClaim ?? DEFAULT_ROLES_CLAIM;
      const tenants = this.opts.tenantsClaim ?? DEFAULT_TENANTS_CLAIM;
      throw unauthenticated(`token lacks valid sub/${roles}/${tenants} claims`);
    }
    return claims.data;
  }
}
