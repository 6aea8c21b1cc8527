import { ApiError, type ApprovalApi, type QueueFilters } from './api';
import type { Identity } from './auth';
import { countdown } from './countdown';
import { h } from './dom';
import { plural } from './format';
import { ItemDetail, approvalsProgress, tagList, titleOf } from './item-view';
import { explain } from './messages';
import type { ApprovalItem } from './types';

export interface QueueContext {
  api: ApprovalApi;
  me: Identity;
  announce(message: string): void;
  setCount(count: number): void;
}

const byUrgency = (a: ApprovalItem, b: ApprovalItem) =>
  Date.parse(a.due_at) - Date.parse(b.due_at) || a.job.id.localeCompare(b.job.id);

/**
 * The pending items routed to this reviewer (the API filters by the token), most urgent first,
 * kept current by polling. Cards are updated in place, keyed by job id, so polling never steals
 * focus or scroll position.
 */
export class QueueView {
  readonly el: HTMLElement;
  private items: ApprovalItem[] = [];
  private loaded = false;
  private readonly cards = new Map<string, { li: HTMLLIElement; signature: string }>();
  private readonly list = h('ol', { class: 'queue-list', 'aria-labelledby': 'queue-heading' });
  private readonly summary = h('p', { class: 'queue-summary', id: 'queue-summary' });
  private readonly empty = h('p', { class: 'empty', hidden: true });
  private readonly problem = h('div', { class: 'message error', role: 'alert' });
  private readonly detailPane = h('div', { class: 'detail-pane', id: 'detail' });
  private readonly heading = h('h1', { id: 'queue-heading', tabindex: -1 }, 'Waiting for your decision');
  private readonly filters: Required<Record<keyof QueueFilters, HTMLInputElement>>;
  private readonly suggestions = { tenant: new Set<string>(), topic: new Set<string>(), risk_tag: new Set<string>() };
  private detail: ItemDetail | null = null;
  private openId: string | null = null;
  private seen = new Set<string>();
  private inflight = false;
  private again = false;
  private filterKey = '';

  constructor(private readonly ctx: QueueContext) {
    const input = (key: keyof QueueFilters, label: string, placeholder: string) => {
      const el = h('input', {
        id: `filter-${key}`,
        name: key,
        type: 'search',
        list: `options-${key}`,
        autocomplete: 'off',
        placeholder,
      });
      el.addEventListener('change', () => void this.refresh());
      return {
        el,
        field: h(
          'div',
          { class: 'field' },
          h('label', { for: `filter-${key}` }, label),
          el,
          h('datalist', { id: `options-${key}` }),
        ),
      };
    };
    const tenant = input('tenant', 'Tenant', 'any');
    const topic = input('topic', 'Topic', 'any');
    const risk = input('risk_tag', 'Risk tag', 'any');
    this.filters = { tenant: tenant.el, topic: topic.el, risk_tag: risk.el };
    const clearButton = h('button', { type: 'reset', class: 'btn btn-quiet' }, 'Clear filters');
    const form = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter the queue' },
      tenant.field,
      topic.field,
      risk.field,
      clearButton,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.refresh();
    });
    form.addEventListener('reset', () => window.setTimeout(() => void this.refresh(), 0));
    this.detailPane.append(this.placeholder());
    this.el = h(
      'div',
      { class: 'queue-layout' },
      h(
        'section',
        { class: 'queue-pane', 'aria-labelledby': 'queue-heading' },
        h('div', { class: 'pane-head' }, this.heading, this.summary),
        form,
        this.problem,
        this.empty,
        this.list,
      ),
      this.detailPane,
    );
  }

  focusHeading(): void {
    this.heading.focus();
  }

  /** Opens an item (or none) as the route says. */
  async open(jobId: string | null): Promise<void> {
    this.openId = jobId;
    this.el.classList.toggle('has-detail', jobId !== null);
    this.markSelected();
    if (jobId === null) {
      const previous = this.detail?.jobId;
      this.detail = null;
      this.detailPane.replaceChildren(this.placeholder());
      const card = previous ? this.cards.get(previous)?.li.querySelector('a') : null;
      if (card && window.matchMedia('(max-width: 800px)').matches) card.focus();
      return;
    }
    if (!this.loaded) await this.refresh();
    let item = this.items.find((i) => i.job.id === jobId);
    if (!item) item = await this.findResolved(jobId);
    if (this.openId !== jobId) return;
    if (!item) {
      this.detail = null;
      this.detailPane.replaceChildren(
        h(
          'div',
          { class: 'detail' },
          h('a', { href: '#/queue', class: 'back' }, '← Back to the queue'),
          h('h2', { id: 'detail-title', tabindex: -1 }, 'Not in your queue'),
          h(
            'p',
            {},
            `Job ${jobId} is not waiting for you: it may have been resolved, or your roles and tenants do not cover it.`,
          ),
        ),
      );
      this.detailPane.querySelector<HTMLElement>('h2')?.focus();
      return;
    }
    this.detail = new ItemDetail(item, {
      api: this.ctx.api,
      me: this.ctx.me,
      announce: this.ctx.announce,
      onChanged: () => void this.refresh(),
    });
    this.detailPane.replaceChildren(this.detail.el);
    this.detailPane.scrollTop = 0;
    this.detail.focusHeading();
  }

  async refresh(): Promise<void> {
    if (this.inflight) {
      // A filter changed (or a decision landed) mid-request: read again once this one is done.
      this.again = true;
      return;
    }
    this.inflight = true;
    try {
      const filters: QueueFilters = {
        tenant: this.filters.tenant.value,
        topic: this.filters.topic.value,
        risk_tag: this.filters.risk_tag.value,
      };
      const key = JSON.stringify(filters);
      const items = (await this.ctx.api.listAll({ ...filters, includeResolved: false }, 500)).filter(
        (i) => i.job.state === 'PENDING',
      );
      this.problem.replaceChildren();
      this.apply(items.sort(byUrgency), key === this.filterKey);
      this.filterKey = key;
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) this.problem.replaceChildren(h('p', {}, explain(e)));
    } finally {
      this.inflight = false;
    }
    if (this.again) {
      this.again = false;
      await this.refresh();
    }
  }

  /** `sameFilters`: an item missing now left the queue, rather than being filtered out. */
  private apply(items: ApprovalItem[], sameFilters: boolean): void {
    const fresh = this.loaded && sameFilters ? items.filter((i) => !this.seen.has(i.job.id)) : [];
    const gone = sameFilters ? this.items.filter((i) => !items.some((n) => n.job.id === i.job.id)) : [];
    this.items = items;
    this.loaded = true;
    for (const i of items) this.seen.add(i.job.id);
    this.learnSuggestions(items);

    const focused = document.activeElement;
    const keep = new Set(items.map((i) => i.job.id));
    for (const [id, card] of this.cards) {
      if (!keep.has(id)) {
        card.li.remove();
        this.cards.delete(id);
      }
    }
    let restoreFocus: string | null = null;
    for (const [index, item] of items.entries()) {
      const signature = JSON.stringify([
        item.approvals.length,
        item.due_at,
        item.decision_summary,
        item.risk_tags,
        item.requested_by,
        item.agent_id,
      ]);
      let card = this.cards.get(item.job.id);
      if (!card || card.signature !== signature) {
        const li = this.card(item);
        if (card) {
          if (card.li.contains(focused)) restoreFocus = item.job.id;
          card.li.replaceWith(li);
        }
        card = { li, signature };
        this.cards.set(item.job.id, card);
      }
      if (this.list.children[index] !== card.li) {
        if (card.li.contains(focused)) restoreFocus = item.job.id;
        this.list.insertBefore(card.li, this.list.children[index] ?? null);
      }
    }
    if (restoreFocus) this.cards.get(restoreFocus)?.li.querySelector('a')?.focus();
    if (focused && !focused.isConnected) this.heading.focus();
    this.markSelected();

    const hasFilter = Object.values(this.filters).some((f) => f.value.trim());
    this.empty.hidden = items.length > 0;
    this.empty.textContent = hasFilter
      ? 'Nothing matches these filters. Clear them to see the whole queue.'
      : 'Nothing is waiting for you. New items appear here on their own.';
    this.summary.textContent = `${plural(items.length, 'item')} pending${hasFilter ? ' (filtered)' : ''} · updated ${new Date().toLocaleTimeString()}`;
    this.ctx.setCount(items.length);

    if (fresh.length) {
      this.ctx.announce(
        fresh.length === 1 ? `New in the queue: ${titleOf(fresh[0]!)}.` : `${fresh.length} new items in the queue.`,
      );
    }
    const open = this.openId ? items.find((i) => i.job.id === this.openId) : undefined;
    if (open) this.detail?.update(open);
    else if (this.detail && gone.some((i) => i.job.id === this.detail?.jobId)) this.detail.gone();
  }

  private card(item: ApprovalItem): HTMLLIElement {
    const approvals = item.approvals.filter((a) => a.action === 'approve').length;
    return h(
      'li',
      { class: 'card', 'data-job': item.job.id },
      h(
        'h2',
        { class: 'card-title' },
        h('a', { href: `#/queue/${encodeURIComponent(item.job.id)}`, class: 'card-link' }, titleOf(item)),
      ),
      h('p', { class: 'why' }, item.decision_summary.why || item.policy_reason),
      item.decision_summary.next_effect
        ? h('p', { class: 'effect' }, h('span', { class: 'label' }, 'Next: '), item.decision_summary.next_effect)
        : null,
      tagList(item.risk_tags),
      h(
        'dl',
        { class: 'card-facts' },
        h('div', {}, h('dt', {}, 'Time left'), h('dd', {}, countdown(item.due_at, item.pending_since))),
        h('div', {}, h('dt', {}, 'Approvals'), h('dd', {}, approvalsProgress(approvals, item.approvals_required))),
        h('div', {}, h('dt', {}, 'Rule'), h('dd', {}, h('code', {}, item.policy_rule_id || '—'))),
        h(
          'div',
          { class: 'wide' },
          h('dt', {}, 'Proposed by'),
          h('dd', {}, `${item.agent_id ?? 'unknown agent'} for ${item.requested_by ?? 'unknown requester'}`),
        ),
        h(
          'div',
          { class: 'wide' },
          h('dt', {}, 'Tenant · topic'),
          h('dd', {}, `${item.tenant} · ${item.topic ?? '—'}`),
        ),
      ),
    );
  }

  private markSelected(): void {
    for (const [id, { li }] of this.cards) {
      const selected = id === this.openId;
      li.classList.toggle('selected', selected);
      const a = li.querySelector('a');
      if (selected) a?.setAttribute('aria-current', 'true');
      else a?.removeAttribute('aria-current');
    }
  }

  private learnSuggestions(items: ApprovalItem[]): void {
    for (const i of items) {
      this.suggestions.tenant.add(i.tenant);
      if (i.topic) this.suggestions.topic.add(i.topic);
      for (const t of i.risk_tags) this.suggestions.risk_tag.add(t);
    }
    for (const key of ['tenant', 'topic', 'risk_tag'] as const) {
      const list = this.el.querySelector(`#options-${key}`);
      const values = [...this.suggestions[key]].sort();
      if (list && list.children.length !== values.length)
        list.replaceChildren(...values.map((v) => h('option', { value: v })));
    }
  }

  /** A deep link to an item no longer pending: show it read-only if the reviewer may still see it. */
  private async findResolved(jobId: string): Promise<ApprovalItem | undefined> {
    try {
      return (await this.ctx.api.listAll({ includeResolved: true }, 1000)).find((i) => i.job.id === jobId);
    } catch {
      return undefined;
    }
  }

  private placeholder(): HTMLElement {
    return h(
      'div',
      { class: 'detail-placeholder' },
      h('p', {}, 'Select an item to see its payload, the policy that gated it and its precedent, and to decide.'),
    );
  }
}
