/**
 * The reviewer's bearer token. It lives in sessionStorage only (gone when the tab closes), and a
 * token handed over in a link is taken once and removed from the address bar and history.
 * The payload is decoded to show who is signed in; the API verifies the signature, not the page.
 */

const STORAGE_KEY = 'countersign.reviewer.token';

export interface Identity {
  sub: string;
  roles: string[];
  /** Absent: every tenant. */
  tenants: string[] | undefined;
  /** Expiry in ms since the epoch, if the token has one. */
  expiresAt: number | undefined;
}

export interface Session {
  token: string;
  identity: Identity;
}

export class TokenError extends Error {}

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
export function decodeToken(raw: string): Session {
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
  if (exp !== undefined && exp <= Date.now()) throw new TokenError('This token has expired. Ask for a new one.');
  return {
    token,
    identity: {
      sub: claims['sub'],
      roles: strings(claims['roles']) ?? [],
      tenants: strings(claims['tenants']),
      expiresAt: exp,
    },
  };
}

/**
 * Takes `?token=` (or `#token=`, which never reaches the server or its logs) from the address once
 * and removes it, else the stored token.
 */
export function restoreSession(): { session: Session | null; error: string | null } {
  const url = new URL(window.location.href);
  const inFragment = /^#token=/.test(url.hash);
  const fromUrl = inFragment ? decodeURIComponent(url.hash.slice('#token='.length)) : url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    if (inFragment) url.hash = '';
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
    try {
      return { session: signIn(fromUrl), error: null };
    } catch (e) {
      return { session: null, error: (e as Error).message };
    }
  }
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
