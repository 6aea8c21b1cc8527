import '../styles.css';
import { ApiError, ApprovalApi } from './api';
import {
  decodeToken,
  restoreSession,
  signIn,
  signOut,
  takeFragmentToken,
  TokenError,
  useClaimPaths,
  type Session,
} from './auth';
import { tickCountdowns } from './countdown';
import { byId, h } from './dom';
import { HistoryView } from './history-view';
import { explain } from './messages';
import { forgetTokens, isCallback, OidcClient, SignInError, storedTokens, type OidcTokens } from './oidc';
import { QueueView } from './queue-view';
import type { UiConfig } from './types';

const POLL_MS = 3000;
const HISTORY_POLL_MS = 15000;
/** An access token is renewed when this share of its lifetime has passed. */
const REFRESH_AT = 0.75;

async function fetchUiConfig(): Promise<UiConfig> {
  const res = await fetch(new URL('api/v1/ui-config', document.baseURI), { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as UiConfig;
}

type Route = { view: 'queue'; jobId: string | null } | { view: 'history' };

function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'history') return { view: 'history' };
  return { view: 'queue', jobId: parts[0] === 'queue' && parts[1] ? decodeURIComponent(parts[1]) : null };
}

/** The page: sign-in, then the queue and history views, switched by the address's `#/…` route. */
class ReviewerApp {
  private session: Session | null = null;
  private readonly main = byId('main');
  private readonly live = byId('live');
  private readonly nav = byId('nav');
  private readonly who = byId('who');
  private readonly api = new ApprovalApi(
    () => this.session?.token ?? null,
    (e) => this.expire(e),
  );
  private queue: QueueView | null = null;
  private history: HistoryView | null = null;
  private route: Route = parseRoute(window.location.hash);
  private pollTimer: number | undefined;
  private lastHistoryPoll = 0;
  private config: UiConfig | null = null;
  private oidc: OidcClient | null = null;
  /** The OpenID Connect tokens, when signed in that way (null for a pasted development token). */
  private tokens: OidcTokens | null = null;
  private refreshTimer: number | undefined;

  async start(): Promise<void> {
    byId('skip').addEventListener('click', (e) => {
      e.preventDefault();
      this.main.focus();
    });
    window.addEventListener('hashchange', () => this.onRoute());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.poll();
    });
    window.setInterval(() => tickCountdowns(), 1000);
    try {
      this.config = await fetchUiConfig();
    } catch {
      this.showSignIn('The approval queue could not be reached to learn how to sign in. Reload the page to try again.');
      return;
    }
    const config = this.config;
    useClaimPaths({ roles: config.roles_claim, tenants: config.tenants_claim });
    const url = new URL(window.location.href);
    if (isCallback(url)) {
      // The code is single-use, but it should not linger in the address bar or history either.
      window.history.replaceState(window.history.state, '', `${url.pathname}${url.hash}`);
      await this.finishSignIn(url);
      return;
    }
    const stored = config.oidc ? storedTokens() : null;
    if (stored) {
      await this.resume(stored);
      return;
    }
    if (config.dev_token_form) {
      const { session, error } = restoreSession();
      if (session) this.enter(session, false);
      else this.showSignIn(error);
      return;
    }
    this.showSignIn(this.dropTokenLink(url));
  }

  /** Without the development form a `#token=` link is not taken: it is removed from the address, and the reviewer told why. */
  private dropTokenLink(url: URL): string | null {
    const fragment = takeFragmentToken(url.hash);
    if (fragment.token === null && !url.searchParams.has('token')) return null;
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${fragment.rest}`);
    return 'Token links are only accepted in development mode. Sign in with your identity provider.';
  }

  private async client(): Promise<OidcClient> {
    if (this.oidc) return this.oidc;
    if (!this.config?.oidc) throw new SignInError('Sign-in is not configured for this approval queue.');
    this.oidc = await OidcClient.discover(this.config.oidc);
    return this.oidc;
  }

  private async finishSignIn(url: URL): Promise<void> {
    try {
      const client = await this.client();
      const { tokens, route } = await client.finishSignIn(url);
      if (route) window.history.replaceState(window.history.state, '', `${window.location.pathname}${route}`);
      this.enterWithTokens(tokens, true);
    } catch (e) {
      forgetTokens();
      this.showSignIn(e instanceof SignInError ? e.message : 'Sign-in failed. Try again.');
    }
  }

  private async resume(tokens: OidcTokens): Promise<void> {
    try {
      const fresh = tokens.expiresAt - Date.now() < 30000 ? await (await this.client()).refresh(tokens) : tokens;
      this.enterWithTokens(fresh, false);
    } catch (e) {
      forgetTokens();
      this.showSignIn(e instanceof SignInError ? e.message : 'Your sign-in has expired. Sign in again.');
    }
  }

  private enterWithTokens(tokens: OidcTokens, announce: boolean): void {
    let session: Session;
    try {
      session = decodeToken(tokens.accessToken, tokens.name);
    } catch (e) {
      forgetTokens();
      const why = e instanceof TokenError ? e.message : '';
      this.showSignIn(
        `The identity provider's access token cannot be used by the approval queue (${why || 'not a JWT'}). An operator must configure it to issue JWT access tokens for this API.`,
      );
      return;
    }
    this.tokens = tokens;
    this.enter(session, announce);
    if (announce) this.announce(`Signed in as ${session.identity.name ?? session.identity.sub}.`);
    this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    window.clearTimeout(this.refreshTimer);
    const tokens = this.tokens;
    if (!tokens) return;
    const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
    const due = tokens.issuedAt + lifetime * REFRESH_AT - Date.now();
    this.refreshTimer = window.setTimeout(() => void this.refresh(), Math.max(0, due));
  }

  private async refresh(): Promise<void> {
    const tokens = this.tokens;
    if (!tokens || !this.session) return;
    try {
      const fresh = await (await this.client()).refresh(tokens);
      const session = decodeToken(fresh.accessToken, fresh.name);
      this.tokens = fresh;
      this.session = session;
      document.body.dataset['tokenRefreshed'] = String(Date.now());
      this.scheduleRefresh();
    } catch (e) {
      if (this.tokens === tokens)
        this.leave(e instanceof Error ? e.message : 'Your sign-in has expired. Sign in again.');
    }
  }

  announce = (message: string): void => {
    // Re-setting the same text would not be announced again: clear first.
    this.live.textContent = '';
    window.setTimeout(() => (this.live.textContent = message), 50);
  };

  private enter(session: Session, moveFocus: boolean): void {
    this.session = session;
    const me = session.identity;
    const signOutButton = h('button', { type: 'button', class: 'btn btn-quiet', id: 'sign-out' }, 'Sign out');
    signOutButton.addEventListener('click', () => this.leave());
    this.who.replaceChildren(
      h(
        'div',
        { class: 'who-text' },
        h(
          'span',
          { class: 'who-name', title: me.sub },
          h('span', { class: 'sr-only' }, 'Signed in as '),
          me.name ?? me.sub,
        ),
        h(
          'span',
          { class: 'who-roles' },
          me.roles.length ? `Roles: ${me.roles.join(', ')}` : 'No roles',
          ' · ',
          me.tenants?.includes('*') ? 'All tenants' : `Tenants: ${me.tenants?.join(', ') || 'none'}`,
        ),
      ),
      signOutButton,
    );
    this.who.hidden = false;
    this.nav.hidden = false;
    this.queue = new QueueView({ api: this.api, me, announce: this.announce, setCount: (n) => this.setCount(n) });
    this.history = new HistoryView(this.api);
    if (!window.location.hash) window.history.replaceState(window.history.state, '', '#/queue');
    this.route = parseRoute(window.location.hash);
    this.render(moveFocus);
    this.schedulePoll();
  }

  private leave(message: string | null = null): void {
    signOut();
    const tokens = this.tokens;
    this.tokens = null;
    window.clearTimeout(this.refreshTimer);
    forgetTokens();
    // Signing out by choice also ends the provider's session (the browser goes there and back).
    if (!message && tokens) void this.endProviderSession(tokens);
    this.session = null;
    window.clearTimeout(this.pollTimer);
    this.queue = null;
    this.history = null;
    this.who.hidden = true;
    this.who.replaceChildren();
    this.nav.hidden = true;
    delete document.body.dataset['view'];
    document.title = 'Sign in · Countersign reviewer';
    this.showSignIn(message, true);
    if (!message) this.announce('Signed out.');
  }

  /** After a reload the provider may not have been discovered yet: discover it first. */
  private async endProviderSession(tokens: OidcTokens): Promise<void> {
    try {
      await (await this.client()).signOut(tokens);
    } catch {
      // The tab has already forgotten the tokens; the provider session ends when it expires.
    }
  }

  private expire(e: ApiError): void {
    if (this.session) this.leave(explain(e));
  }

  private onRoute(): void {
    if (!this.session) return;
    const next = parseRoute(window.location.hash);
    const viewChanged = next.view !== this.route.view;
    this.route = next;
    if (viewChanged) this.render(true);
    else if (next.view === 'queue') void this.queue?.open(next.jobId);
  }

  private render(moveFocus: boolean): void {
    const r = this.route;
    // The queue is a two-pane, fixed-height layout on wide screens; history scrolls as a page.
    document.body.dataset['view'] = r.view;
    for (const link of this.nav.querySelectorAll('a')) {
      if (link.dataset['view'] === r.view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (r.view === 'history' && this.history) {
      this.main.replaceChildren(this.history.el);
      document.title = 'History · Countersign reviewer';
      void this.history.refresh();
      this.lastHistoryPoll = Date.now();
      if (moveFocus) this.history.focusHeading();
    } else if (r.view === 'queue' && this.queue) {
      const queue = this.queue;
      this.main.replaceChildren(queue.el);
      void queue.refresh().then(() => {
        if (r.jobId) void queue.open(r.jobId);
        else if (moveFocus) queue.focusHeading();
      });
    }
  }

  private setCount(n: number): void {
    byId('queue-count').textContent = String(n);
    if (this.route.view === 'queue') document.title = `Queue (${n}) · Countersign reviewer`;
  }

  private schedulePoll(): void {
    window.clearTimeout(this.pollTimer);
    this.pollTimer = window.setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    if (!this.session) return;
    try {
      if (document.hidden) return;
      if (this.route.view === 'queue') await this.queue?.refresh();
      else if (Date.now() - this.lastHistoryPoll >= HISTORY_POLL_MS) {
        this.lastHistoryPoll = Date.now();
        await this.history?.refresh();
      }
    } finally {
      if (this.session) this.schedulePoll();
    }
  }

  private showSignIn(message: string | null, moveFocus = false): void {
    const config = this.config;
    // With only the development form, a problem belongs to its field; otherwise it stands above.
    const formOnly = !!config?.dev_token_form && !config.oidc;
    const error = h('p', { id: 'signin-error', class: 'field-error', role: 'alert' }, formOnly ? '' : (message ?? ''));
    const parts: HTMLElement[] = [];
    if (config?.oidc) {
      const button = h(
        'button',
        { type: 'button', class: 'btn btn-primary', id: 'sso-sign-in' },
        'Sign in with your identity provider',
      );
      button.addEventListener('click', () => void this.startSignIn(button, error));
      parts.push(h('div', { class: 'signin-sso' }, button));
    } else if (config && !config.dev_token_form) {
      parts.push(
        h(
          'p',
          { class: 'muted' },
          'Sign-in is not configured for this approval queue: an operator must set UI_OIDC_ISSUER and UI_OIDC_CLIENT_ID.',
        ),
      );
    }
    parts.push(error);
    if (config?.dev_token_form) parts.push(this.tokenForm(formOnly ? message : null));
    const heading = h('h1', { id: 'signin-heading', tabindex: -1 }, 'Sign in to review');
    this.main.replaceChildren(
      h(
        'section',
        { class: 'signin', 'aria-labelledby': 'signin-heading' },
        heading,
        h(
          'p',
          {},
          'Agents propose; policy decides; you approve only what the risk needs a person for. Nothing runs before your decision.',
        ),
        ...parts,
      ),
    );
    if (moveFocus) heading.focus();
  }

  private async startSignIn(button: HTMLButtonElement, error: HTMLElement): Promise<void> {
    error.textContent = '';
    button.disabled = true;
    try {
      await (await this.client()).startSignIn(window.location.hash);
    } catch (e) {
      error.textContent = e instanceof SignInError ? e.message : 'Sign-in could not start. Try again.';
      button.disabled = false;
    }
  }

  /** Development mode only: paste a token. */
  private tokenForm(message: string | null): HTMLElement {
    const field = h('textarea', {
      id: 'token',
      name: 'token',
      rows: 5,
      required: true,
      spellcheck: 'false',
      autocomplete: 'off',
      autocapitalize: 'off',
      'aria-describedby': 'token-help token-error',
    });
    const error = h('p', { id: 'token-error', class: 'field-error', role: 'alert' }, message ?? '');
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
    const form = h(
      'form',
      { class: 'signin-form', id: 'dev-token-form', novalidate: true },
      h('label', { for: 'token' }, 'Bearer token (development mode)'),
      h(
        'p',
        { id: 'token-help', class: 'muted' },
        'Paste the token (a JWT) from your identity provider. It stays in this browser tab only and is forgotten when you close it.',
      ),
      field,
      error,
      submit,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.trySignIn(field, error, submit);
    });
    if (message) field.setAttribute('aria-invalid', 'true');
    return form;
  }

  private async trySignIn(field: HTMLTextAreaElement, error: HTMLElement, submit: HTMLButtonElement): Promise<void> {
    error.textContent = '';
    field.removeAttribute('aria-invalid');
    if (!field.value.trim()) {
      field.setAttribute('aria-invalid', 'true');
      error.textContent = 'Paste your bearer token first.';
      field.focus();
      return;
    }
    let session: Session;
    try {
      session = signIn(field.value);
    } catch (e) {
      field.setAttribute('aria-invalid', 'true');
      error.textContent = e instanceof TokenError ? e.message : 'That token could not be read.';
      field.focus();
      return;
    }
    // Ask the API once so a token it does not accept is caught here, not on the first poll.
    submit.disabled = true;
    const probe = new ApprovalApi(
      () => session.token,
      () => undefined,
    );
    try {
      await probe.list({ limit: 1 });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        signOut();
        field.setAttribute('aria-invalid', 'true');
        error.textContent =
          'The approval queue did not accept this token (wrong signature, issuer or audience, or expired).';
        submit.disabled = false;
        field.focus();
        return;
      }
      // Any other problem (network, 5xx) shows up in the queue view, which keeps retrying.
    }
    this.enter(session, true);
    this.announce(`Signed in as ${session.identity.sub}.`);
  }
}

void new ReviewerApp().start();
