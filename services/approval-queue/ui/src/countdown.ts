import { h } from './dom';
import { slaState } from './format';

/** A live "time left" for an item's SLA; `tickCountdowns` keeps every one on the page current. */
export function countdown(due: string, start: string | undefined, extraClass = ''): HTMLElement {
  const el = h('span', { class: `countdown ${extraClass}`.trim(), 'data-due': due, 'data-start': start ?? '' });
  paint(el, Date.now());
  return el;
}

export function tickCountdowns(root: ParentNode = document): void {
  const now = Date.now();
  root.querySelectorAll<HTMLElement>('.countdown[data-due]').forEach((el) => paint(el, now));
}

function paint(el: HTMLElement, now: number): void {
  const state = slaState(el.dataset['due'] ?? '', el.dataset['start'] || undefined, now);
  if (el.textContent !== state.text) el.textContent = state.text;
  el.classList.toggle('urgent', state.urgent);
  el.classList.toggle('overdue', state.overdue);
  el.title = `Due ${new Date(el.dataset['due'] ?? '').toLocaleString()}`;
}
