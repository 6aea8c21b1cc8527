/**
 * The reviewer's bearer token: from OpenID Connect sign-in (oidc.ts), or in development mode pasted
 * or handed over in a link's fragment (`#token=`, taken once and removed from the address bar and
 * history). It lives in sessionStorage only (gone when the tab closes).
 * The payload is decoded to show who is signed in; the API verifies the signature, not the page.
 */

const STORAGE_KEY = 'countersign.reviewer.token';

export const QUERY_TOKEN_REFUSED =
  "A token in the link's query (?token=) is not accepted: it reaches servers and their logs. Use a #token= link or paste the token.";

export interface Identity {
  sub: string;
  /** A display name (the ID token's), when sign-in gave one; else the page shows `sub`. */
  name: string | null;
  roles: string[];
  /** The `tenants` claim as written (absent: no tenant, `["*"]`: every tenant; the API decides). */
  tenants: string[] | undefined;
  /** Expiry in ms since the epoch (a token without one is refused). */
  expiresAt: number | undefined;
}

export interface Session {
  token: string;
  identity: Identity;
}

export class TokenError extends Error {}

/** Where this deployment's tokens carry roles and tenants (APPROVER_ROLES_CLAIM / APPROVER_TENANTS_CLAIM). */
export interface ClaimPaths {
  roles: string;
  tenants: string;
}
export const DEFAULT_CLAIMS: ClaimPaths = { roles: 'roles', tenants: 'tenants' };
let claimPaths = DEFAULT_CLAIMS;

/** Set once from the queue's sign-in settings, before any token is read. */
export function useClaimPaths(paths: ClaimPaths): void {
  claimPaths = paths;
}

/** A claim by exact name, else by dotted path (`realm_access.roles`), as the API reads it. */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let at: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function base64UrlDecode(part: string): string {
  const b64 = part
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : undefined;

/** Reads who the token says you are. Throws a TokenError in plain words when it is not a JWT. */
export function decodeToken(raw: string, name: string | null = null): Session {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[1]) {
    throw new TokenError('That is not a bearer token: expected three dot-separated parts (a JWT).');
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
  } catch {
    throw new TokenError('The token could not be read: its payload is not JSON.');
  }
  if (typeof claims['sub'] !== 'string' || !claims['sub'])
    throw new TokenError('The token names no reviewer (no "sub" claim).');
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] * 1000 : undefined;
  // The API refuses a token that never expires; say so here rather than after the first request.
  if (exp === undefined)
    throw new TokenError('This token has no expiry ("exp" claim), so it is not accepted. Ask for a new one.');
  if (exp <= Date.now()) throw new TokenError('This token has expired. Ask for a new one.');
  return {
    token,
    identity: {
      sub: claims['sub'],
      name,
      roles: strings(claimAt(claims, claimPaths.roles)) ?? [],
      tenants: strings(claimAt(claims, claimPaths.tenants)),
      expiresAt: exp,
    },
  };
}

/**
 * Splits a `token=` parameter off a fragment: `#token=<jwt>`, or after a route, `#/queue/<id>?token=<jwt>`.
 * `rest` is the fragment without it (the route), `''` when nothing is left.
 */
export function takeFragmentToken(hash: string): { token: string | null; rest: string } {
  const m = /(^#|[?&])token=([^&]*)/.exec(hash);
  if (!m) return { token: null, rest: hash };
  const atStart = m[1] === '#';
  const before = hash.slice(0, m.index + (atStart ? 1 : 0));
  const after = hash.slice(m.index + m[0].length);
  const rest = (before + (atStart ? after.replace(/^&/, '') : after)).replace(/[?&]$/, '');
  return { token: m[2] ?? '', rest: rest === '#' ? '' : rest };
}

/**
 * Takes a token from the address fragment once and removes it, else the stored token. The fragment
 * never reaches a server, a proxy or its logs; a `?token=` in the query string does, so it is never
 * read (and is stripped from the address all the same, so it does not linger in history or bookmarks).
 */
export function restoreSession(): { session: Session | null; error: string | null } {
  const url = new URL(window.location.href);
  const inQuery = url.searchParams.has('token');
  const fragment = takeFragmentToken(url.hash);
  if (inQuery || fragment.token !== null) {
    url.searchParams.delete('token');
    url.hash = fragment.rest;
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  if (fragment.token !== null) {
    try {
      return { session: signIn(decodeURIComponent(fragment.token)), error: null };
    } catch (e) {
      return {
        session: null,
        error: e instanceof URIError ? 'The token in the link is garbled.' : (e as Error).message,
      };
    }
  }
  if (inQuery) return { session: null, error: QUERY_TOKEN_REFUSED };
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored) return { session: null, error: null };
  try {
    return { session: decodeToken(stored), error: null };
  } catch (e) {
    sessionStorage.removeItem(STORAGE_KEY);
    return { session: null, error: (e as Error).message };
  }
}

export function signIn(raw: string): Session {
  const session = decodeToken(raw);
  sessionStorage.setItem(STORAGE_KEY, session.token);
  return session;
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
