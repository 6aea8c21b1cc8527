import { createHmac } from 'node:crypto';

/** The claims of an approver token; anything else given is put into the payload as it is. */
export interface TokenClaims {
  sub: string;
  roles?: string[];
  /** Every tenant (`['*']`) unless given; `tenants: undefined` leaves the claim out (a token for no tenant). */
  tenants?: string[];
  [claim: string]: unknown;
}

export interface MintOptions {
  /** Seconds from now until `exp`; negative for an expired token. Default one hour. */
  ttlSeconds?: number;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * An HS256 approver JWT as the identity provider mints it. Put together with node:crypto, so it is
 * synchronous (a spec can mint one inline); the services verify with jose, so every spec that uses
 * one also checks that the two agree.
 */
export function mintToken(secret: string, claims: TokenClaims, opts: MintOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url({ alg: 'HS256', typ: 'JWT' });
  const payload = b64url({ iat: now, exp: now + (opts.ttlSeconds ?? 3600), tenants: ['*'], ...claims });
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** The `authorization` header that presents a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
