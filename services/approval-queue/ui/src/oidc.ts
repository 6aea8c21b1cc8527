import * as oauth from 'oauth4webapi';
import type { UiConfig } from './types';

/**
 * Reviewer sign-in with OpenID Connect: authorization code + PKCE, found by discovery, as a public
 * client (no secret can live in a page). The PKCE verifier, state and nonce of a sign-in in flight and
 * the tokens afterwards live in sessionStorage only: this tab, gone when it closes, never localStorage.
 */

const PENDING_KEY = 'countersign.reviewer.oidc.pending';
const TOKENS_KEY = 'countersign.reviewer.oidc.tokens';

export type OidcSettings = NonNullable<UiConfig['oidc']>;

export interface OidcTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** When the access token was received and when it expires, ms since the epoch. */
  issuedAt: number;
  expiresAt: number;
  /** Who the ID token names, for the page's header (the API acts on the access token's `sub`). */
  name: string | null;
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  /** The `#/…` route to return to. */
  route: string;
}

/** A sign-in problem, in words for the reviewer. */
export class SignInError extends Error {}

const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);

/** The page's own address without query or fragment: the redirect and post-logout URI registered at the provider. */
export function pageUrl(): string {
  return `${window.location.origin}${window.location.pathname}`;
}

function describe(e: unknown, issuer: string): string {
  if (e instanceof SignInError) return e.message;
  if (e instanceof oauth.AuthorizationResponseError) {
    const why = e.error_description ?? e.error;
    return e.error === 'access_denied'
      ? `The identity provider refused the sign-in (${why}).`
      : `The identity provider refused the sign-in: ${why}.`;
  }
  if (e instanceof oauth.ResponseBodyError) {
    return `The identity provider refused the sign-in: ${e.error_description ?? e.error}.`;
  }
  if (e instanceof TypeError) return `The identity provider at ${issuer} could not be reached.`;
  return `Sign-in failed: ${(e as Error).message}`;
}

export class OidcClient {
  private constructor(
    private readonly settings: OidcSettings,
    private readonly as: oauth.AuthorizationServer,
    private readonly insecure: boolean,
  ) {}

  private get client(): oauth.Client {
    return { client_id: this.settings.client_id };
  }

  private get options() {
    return { [oauth.allowInsecureRequests]: this.insecure };
  }

  private get resource(): Record<string, string> {
    return this.settings.resource ? { resource: this.settings.resource } : {};
  }

  /** Reads the provider's discovery document. Plain http only for a provider on this machine (development and tests). */
  static async discover(settings: OidcSettings): Promise<OidcClient> {
    const issuer = new URL(settings.issuer);
    const insecure = issuer.protocol === 'http:' && isLoopback(issuer);
    try {
      const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: insecure });
      return new OidcClient(settings, await oauth.processDiscoveryResponse(issuer, res), insecure);
    } catch (e) {
      if (e instanceof TypeError || e instanceof oauth.ResponseBodyError || e instanceof oauth.OperationProcessingError)
        throw new SignInError(`The identity provider at ${settings.issuer} could not be reached.`);
      throw new SignInError(describe(e, settings.issuer));
    }
  }

  /** Sends the browser to the provider's sign-in page. */
  async startSignIn(route: string): Promise<void> {
    if (!this.as.authorization_endpoint) throw new SignInError('The identity provider offers no sign-in page.');
    const pending: Pending = {
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      verifier: oauth.generateRandomCodeVerifier(),
      route,
    };
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    const url = new URL(this.as.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: this.settings.client_id,
      redirect_uri: pageUrl(),
      response_type: 'code',
      scope: this.settings.scopes,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      ...this.resource,
    }).toString();
    window.location.assign(url.href);
  }

  /**
   * Finishes a sign-in from the provider's redirect (`?code=&state=` or `?error=`): the state must be
   * the one this tab sent, the code is exchanged with the PKCE verifier, the ID token's nonce checked.
   */
  async finishSignIn(callback: URL): Promise<{ tokens: OidcTokens; route: string }> {
    const raw = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    const pending = raw ? (JSON.parse(raw) as Pending) : null;
    if (!pending) {
      throw new SignInError(
        'This sign-in link is stale or was not started in this tab (state mismatch), so it was not used. Sign in again.',
      );
    }
    try {
      let params: URLSearchParams;
      try {
        params = oauth.validateAuthResponse(this.as, this.client, callback, pending.state);
      } catch (e) {
        if (e instanceof oauth.OperationProcessingError && /state/i.test(e.message))
          throw new SignInError(
            'The answer from the identity provider does not belong to the sign-in this tab started (state mismatch). Sign in again.',
          );
        throw e;
      }
      const res = await oauth.authorizationCodeGrantRequest(
        this.as,
        this.client,
        oauth.None(),
        params,
        pageUrl(),
        pending.verifier,
        { additionalParameters: this.resource, ...this.options },
      );
      const result = await oauth.processAuthorizationCodeResponse(this.as, this.client, res, {
        expectedNonce: pending.nonce,
        requireIdToken: true,
      });
      return { tokens: this.store(result, null), route: pending.route };
    } catch (e) {
      throw new SignInError(describe(e, this.settings.issuer));
    }
  }

  /** A new access token from the refresh token (the provider may rotate the refresh token too). */
  async refresh(tokens: OidcTokens): Promise<OidcTokens> {
    if (!tokens.refreshToken) throw new SignInError('Your sign-in has expired. Sign in again.');
    try {
      const res = await oauth.refreshTokenGrantRequest(this.as, this.client, oauth.None(), tokens.refreshToken, {
        additionalParameters: this.resource,
        ...this.options,
      });
      return this.store(await oauth.processRefreshTokenResponse(this.as, this.client, res), tokens);
    } catch (e) {
      if (e instanceof oauth.ResponseBodyError)
        throw new SignInError('Your session with the identity provider has ended. Sign in again.');
      throw new SignInError(describe(e, this.settings.issuer));
    }
  }

  /**
   * Signs out here (the tokens are forgotten and the refresh token revoked where the provider
   * allows), then at the provider when it has an end-session endpoint: the browser goes there.
   */
  async signOut(tokens: OidcTokens | null): Promise<void> {
    forgetTokens();
    if (tokens?.refreshToken && this.as.revocation_endpoint) {
      try {
        const res = await oauth.revocationRequest(this.as, this.client, oauth.None(), tokens.refreshToken, {
          additionalParameters: { token_type_hint: 'refresh_token' },
          ...this.options,
        });
        await oauth.processRevocationResponse(res);
      } catch {
        // Signing out goes on: the provider's own session ends below, and the token is forgotten here.
      }
    }
    if (!this.as.end_session_endpoint) return;
    const url = new URL(this.as.end_session_endpoint);
    url.search = new URLSearchParams({
      client_id: this.settings.client_id,
      post_logout_redirect_uri: pageUrl(),
      ...(tokens?.idToken ? { id_token_hint: tokens.idToken } : {}),
    }).toString();
    window.location.assign(url.href);
  }

  private store(result: oauth.TokenEndpointResponse, previous: OidcTokens | null): OidcTokens {
    const claims = oauth.getValidatedIdTokenClaims(result);
    const pick = (k: string) => (typeof claims?.[k] === 'string' && claims[k] ? (claims[k] as string) : null);
    const now = Date.now();
    const tokens: OidcTokens = {
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? previous?.refreshToken ?? null,
      idToken: result.id_token ?? previous?.idToken ?? null,
      issuedAt: now,
      expiresAt: now + (result.expires_in ?? 300) * 1000,
      name: pick('name') ?? pick('preferred_username') ?? pick('email') ?? previous?.name ?? null,
    };
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    return tokens;
  }
}

/** Whether the address is the provider's redirect back to the page. */
export function isCallback(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

export function storedTokens(): OidcTokens | null {
  const raw = sessionStorage.getItem(TOKENS_KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as OidcTokens;
  } catch {
    forgetTokens();
    return null;
  }
}

export function forgetTokens(): void {
  sessionStorage.removeItem(TOKENS_KEY);
  sessionStorage.removeItem(PENDING_KEY);
}
