import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { CodedError } from '@countersign/contracts';

export const ActorClaimsSchema = z.object({
  sub: z.string().min(1).max(256),
  roles: z.array(z.string().min(1).max(64)).max(64),
  tenants: z.array(z.string().min(1).max(128)).max(1000).optional(),
});
export type Actor = z.infer<typeof ActorClaimsSchema>;

export interface TokenVerifierOptions {
  /** HS256 shared secret (local); at least 32 bytes. */
  secret?: string;
  /** JWKS URL (production). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/**
 * Verifies approver bearer tokens. The actor is whoever the token names: request bodies never say
 * who is acting. Fails closed: with no key configured, every request is refused.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey | undefined;

  constructor(private readonly opts: TokenVerifierOptions) {
    if (opts.jwksUrl) this.key = createRemoteJWKSet(new URL(opts.jwksUrl));
    else if (opts.secret) this.key = new TextEncoder().encode(opts.secret);
  }

  async verify(authorization: string | undefined): Promise<Actor> {
    if (!this.key) throw new CodedError('UNAUTHENTICATED', 'no token verification key is configured', 401);
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m?.[1]) throw new CodedError('UNAUTHENTICATED', 'missing bearer token (Authorization: Bearer <JWT>)', 401);
    let payload: JWTPayload;
    try {
      const algorithms = this.opts.jwksUrl ? ['EdDSA', 'ES256', 'RS256'] : ['HS256'];
      const verifyOpts = { algorithms, ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}), ...(this.opts.audience ? { audience: this.opts.audience } : {}) };
      const result =
        typeof this.key === 'function' ? await jwtVerify(m[1], this.key, verifyOpts) : await jwtVerify(m[1], this.key as Uint8Array, verifyOpts);
      payload = result.payload;
    } catch (e) {
      const code = (e as { code?: string }).code;
      const why = code === 'ERR_JWT_EXPIRED' ? 'token expired' : 'invalid token';
      throw new CodedError('UNAUTHENTICATED', why, 401);
    }
    const claims = ActorClaimsSchema.safeParse(payload);
    if (!claims.success) throw new CodedError('UNAUTHENTICATED', 'token lacks valid sub/roles claims', 401);
    return claims.data;
  }
}
