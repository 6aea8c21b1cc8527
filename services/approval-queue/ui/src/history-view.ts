import { ApiError, type ApprovalApi } from './api';
import { mountChart, type Bar } from './chart';
import { fill, h } from './dom';
import { formatDuration, formatTime, secondsBetween } from './format';
import { titleOf } from './item-view';
import { explain } from './messages';
import type { ApprovalItem, ApprovalStats } from './types';

const DAYS = 7;

/**
 * Resolved items (resolution, who, why, how long it took) and the queue's stats over the last
 * seven days. The stats endpoint gives the window's median, not one per day, so the per-day
 * medians are computed here from the resolved items themselves.
 */
export class HistoryView {
  readonly el: HTMLElement;
  private readonly heading = h('h1', { id: 'history-heading', tabindex: -1 }, 'History');
  private readonly body = h(
    'div',
    { class: 'history-body', 'aria-busy': 'true' },
    h('p', { class: 'muted' }, 'Loading…'),
  );
  private readonly problem = h('div', { class: 'message error', role: 'alert' });
  private stopCharts: (() => void)[] = [];
  private signature = '';
  private inflight = false;

  constructor(private readonly api: ApprovalApi) {
    const refresh = h('button', { type: 'button', class: 'btn btn-quiet' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh(true));
    this.el = h(
      'section',
      { class: 'history', 'aria-labelledby': 'history-heading' },
      h('div', { class: 'pane-head' }, this.heading, refresh),
      h(
        'p',
        { class: 'muted' },
        `Resolved items you may see, newest first, and how the queue did over the last ${DAYS} days.`,
      ),
      this.problem,
      this.body,
    );
  }

  focusHeading(): void {
    this.heading.focus();
  }

  async refresh(force = false): Promise<void> {
    if (this.inflight) return;
    this.inflight = true;
    try {
      const [items, stats] = await Promise.all([
        this.api.listAll({ includeResolved: true }, 1000),
        this.api.stats(`${DAYS}d`),
      ]);
      this.problem.replaceChildren();
      const resolved = items
        .filter((i) => i.resolution)
        .sort((a, b) => Date.parse(b.resolved_at ?? '') - Date.parse(a.resolved_at ?? ''));
      const signature = JSON.stringify([
        resolved.map((i) => [i.job.id, i.resolution]),
        stats.overall,
        stats.top_rejection_reasons,
      ]);
      if (!force && signature === this.signature) return;
      this.signature = signature;
      this.render(resolved, stats);
    } catch (e) {
      if (e instanceof ApiError && e.status !== 401) this.problem.replaceChildren(h('p', {}, explain(e)));
    } finally {
      this.inflight = false;
    }
  }

  private render(resolved: ApprovalItem[], stats: ApprovalStats): void {
    this.stopCharts.forEach((stop) => stop());
    const o = stats.overall;
    const perDay = h('div', { class: 'chart-box' });
    const reasons = h('div', { class: 'chart-box' });
    fill(
      this.body,
      h(
        'dl',
        { class: 'stats' },
        stat(
          'Median time to decision',
          o.time_to_decision_seconds.median === null ? '—' : formatDuration(o.time_to_decision_seconds.median),
        ),
        stat(
          '90th percentile',
          o.time_to_decision_seconds.p90 === null ? '—' : formatDuration(o.time_to_decision_seconds.p90),
        ),
        stat('Approved', String(o.resolutions.APPROVED)),
        stat('Rejected', String(o.resolutions.REJECTED)),
        stat('SLA breaches (expired)', String(o.sla_breaches)),
        stat(
          'Pending now',
          `${stats.pending.count}${stats.pending.overdue ? ` (${stats.pending.overdue} overdue)` : ''}`,
        ),
      ),
      h(
        'div',
        { class: 'charts' },
        h(
          'figure',
          {},
          h('figcaption', {}, 'Median time to decision per day'),
          h('p', { class: 'muted small' }, 'Of the resolved items listed below.'),
          perDay,
        ),
        h('figure', {}, h('figcaption', {}, `Top rejection reasons`), reasons),
      ),
      stats.by_rule.length ? this.ruleTable(stats) : null,
      h('h2', {}, 'Resolved items'),
      resolved.length ? this.table(resolved) : h('p', { class: 'muted' }, 'Nothing resolved yet.'),
    );
    this.body.removeAttribute('aria-busy');
    this.stopCharts = [
      mountChart(perDay, {
        kind: 'columns',
        title: `Median time to decision per day, last ${DAYS} days`,
        bars: medianPerDay(resolved, Date.parse(stats.to)),
        empty: 'No decisions in the last 7 days.',
      }),
      mountChart(reasons, {
        kind: 'rows',
        title: 'Top rejection reasons',
        tone: 'danger',
        bars: stats.top_rejection_reasons.map((r) => ({
          label: r.reason || '(no reason given)',
          value: r.count,
          valueText: String(r.count),
        })),
        empty: 'No rejections in the last 7 days.',
      }),
    ];
  }

  private ruleTable(stats: ApprovalStats): HTMLElement {
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'rules' },
        h('caption', {}, 'By policy rule'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Rule', 'Approved', 'Rejected', 'Expired', 'Median'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          stats.by_rule.map((r) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, h('code', {}, r.policy_rule_id)),
              h('td', {}, String(r.resolutions.APPROVED)),
              h('td', {}, String(r.resolutions.REJECTED)),
              h('td', {}, String(r.resolutions.EXPIRED)),
              h(
                'td',
                {},
                r.time_to_decision_seconds.median === null ? '—' : formatDuration(r.time_to_decision_seconds.median),
              ),
            ),
          ),
        ),
      ),
    );
  }

  private table(items: ApprovalItem[]): HTMLElement {
    const head = ['Item', 'Resolution', 'Decided by', 'Reasons', 'Time to decision', 'Resolved'];
    return h(
      'table',
      { class: 'resolved-table' },
      h('caption', { class: 'sr-only' }, 'Resolved items, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        items.map((i) => {
          const res = (i.resolution ?? '').toLowerCase();
          const actors = [...new Set([...i.approvals.map((a) => a.actor), ...(i.resolved_by ? [i.resolved_by] : [])])];
          const reasons = [
            ...new Set([...i.approvals.map((a) => a.reason), i.resolved_comment].filter((r): r is string => !!r)),
          ];
          const ttd = secondsBetween(i.pending_since, i.resolved_at);
          return h(
            'tr',
            {},
            h(
              'th',
              { scope: 'row', 'data-label': head[0] },
              h(
                'div',
                {},
                h('span', { class: 'item-title' }, titleOf(i)),
                h('span', { class: 'muted small' }, `${i.tenant} · ${i.topic ?? '—'}`),
              ),
            ),
            cell(head[1], h('span', { class: `badge badge-${res}` }, res)),
            cell(head[2], actors.join(', ') || '—'),
            cell(head[3], reasons.length ? reasons.map((r) => h('span', { class: 'quote block' }, `“${r}”`)) : '—'),
            cell(head[4], ttd === null ? '—' : formatDuration(ttd)),
            cell(head[5], formatTime(i.resolved_at)),
          );
        }),
      ),
    );
  }
}

/** A cell whose content is one block, so narrow screens can put its label beside it. */
function cell(label: string | undefined, ...content: (Node | string | Node[])[]): HTMLElement {
  return h('td', { 'data-label': label }, h('div', {}, ...content));
}

function stat(label: string, value: string): HTMLElement {
  return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value));
}

/** One bar per local day of the window: the median seconds from pending to a human decision. */
export function medianPerDay(resolved: ApprovalItem[], to: number): Bar[] {
  const end = new Date(Number.isFinite(to) ? to : Date.now());
  const days: { key: string; label: string; values: number[] }[] = [];
  for (let d = DAYS - 1; d >= 0; d--) {
    const day = new Date(end.getFullYear(), end.getMonth(), end.getDate() - d);
    days.push({
      key: day.toDateString(),
      label: day.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' }),
      values: [],
    });
  }
  for (const i of resolved) {
    if (i.resolution === 'EXPIRED' || !i.resolved_at) continue;
    const ttd = secondsBetween(i.pending_since, i.resolved_at);
    const bucket = days.find((d) => d.key === new Date(i.resolved_at ?? '').toDateString());
    if (ttd !== null && bucket) bucket.values.push(ttd);
  }
  if (days.every((d) => d.values.length === 0)) return [];
  return days.map((d) => {
    const m = median(d.values);
    return { label: d.label, value: m ?? 0, valueText: m === null ? 'no decisions' : formatDuration(m) };
  });
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}
