import '../styles.css';
import { ApiError, ApprovalApi } from './api';
import { restoreSession, signIn, signOut, TokenError, type Session } from './auth';
import { tickCountdowns } from './countdown';
import { byId, h } from './dom';
import { HistoryView } from './history-view';
import { explain } from './messages';
import { QueueView } from './queue-view';

const POLL_MS = 3000;
const HISTORY_POLL_MS = 15000;

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

  start(): void {
    byId('skip').addEventListener('click', (e) => {
      e.preventDefault();
      this.main.focus();
    });
    window.addEventListener('hashchange', () => this.onRoute());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.poll();
    });
    window.setInterval(() => tickCountdowns(), 1000);
    const { session, error } = restoreSession();
    if (session) this.enter(session, false);
    else this.showSignIn(error);
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
        h('span', { class: 'who-name' }, h('span', { class: 'sr-only' }, 'Signed in as '), me.sub),
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
      { class: 'signin-form', novalidate: true },
      h('label', { for: 'token' }, 'Bearer token'),
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
        form,
      ),
    );
    if (message) field.setAttribute('aria-invalid', 'true');
    if (moveFocus) heading.focus();
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

new ReviewerApp().start();
