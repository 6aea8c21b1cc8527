import { ApiError, type ApprovalApi } from './api';
import type { Identity } from './auth';
import { countdown } from './countdown';
import { fill, h } from './dom';
import { formatTime, plural } from './format';
import { explain } from './messages';
import { renderJson } from './payload';
import type { ActionView, ApprovalItem, ReviewResult } from './types';

export interface DetailContext {
  api: ApprovalApi;
  me: Identity;
  announce(message: string): void;
  /** After a decision was recorded (or refused because the item is gone): refresh the queue. */
  onChanged(): void;
}

const MAX_TEXT = 512;

export const sameActor = (a: string | null | undefined, b: string | null | undefined): boolean =>
  !!a && !!b && a.trim().toLowerCase() === b.trim().toLowerCase();

export function titleOf(item: ApprovalItem): string {
  return item.decision_summary.title || item.summary?.title || item.job.id;
}

export function tagList(tags: readonly string[]): HTMLElement {
  return h(
    'ul',
    { class: 'tags', 'aria-label': 'Risk tags' },
    tags.length
      ? tags.map((t) => h('li', { class: `tag tag-${t.replace(/[^a-z0-9-]/gi, '')}` }, t))
      : h('li', { class: 'tag' }, 'untagged'),
  );
}

export function approvalsProgress(count: number, required: number): string {
  return `${count} of ${required} ${required === 1 ? 'approval' : 'approvals'}`;
}

/** One item opened: everything a reviewer needs to decide, then the decision itself. */
export class ItemDetail {
  readonly el: HTMLElement;
  private item: ApprovalItem;
  private readonly heading: HTMLHeadingElement;
  private readonly progress = h('span', { class: 'progress' });
  private readonly approvalsSection = h('div');
  private readonly decideSection = h('section', { class: 'decide', 'aria-labelledby': 'decide-heading' });
  private readonly errorBox = h('div', { class: 'message error', role: 'alert', id: 'decide-error' });
  private readonly resultBox = h('div', { class: 'message ok', role: 'status', id: 'decide-result' });
  private reason: HTMLTextAreaElement | undefined;
  private busy = false;

  constructor(
    item: ApprovalItem,
    private readonly ctx: DetailContext,
  ) {
    this.item = item;
    this.heading = h('h2', { id: 'detail-title', tabindex: -1 }, titleOf(item));
    this.el = this.render();
  }

  get jobId(): string {
    return this.item.job.id;
  }

  focusHeading(): void {
    this.heading.focus();
  }

  /** A fresher copy from the poll: only what others can change, so a half-typed reason survives. */
  update(item: ApprovalItem): void {
    const before = JSON.stringify([this.item.approvals, this.item.job.state]);
    this.item = item;
    if (JSON.stringify([item.approvals, item.job.state]) === before) return;
    this.renderApprovals();
    if (item.resolution) this.showResolved();
  }

  /** The item left the pending queue without our doing: someone else resolved it, or it expired. */
  gone(): void {
    if (this.item.resolution || this.busy) return;
    this.decideSection.replaceChildren(
      h('h3', { id: 'decide-heading' }, 'Your decision'),
      h(
        'p',
        { class: 'message info', role: 'status' },
        'This item is no longer waiting: someone else resolved it, or its time ran out. Check the History tab for the outcome.',
      ),
    );
  }

  private render(): HTMLElement {
    const it = this.item;
    const redacted = new Set(it.redacted_fields);
    return h(
      'article',
      { class: 'detail', 'aria-labelledby': 'detail-title' },
      h('a', { href: '#/queue', class: 'back' }, '← Back to the queue'),
      h(
        'header',
        { class: 'detail-head' },
        h('p', { class: 'eyebrow' }, `${it.tenant} · ${it.topic ?? 'topic not known yet'}`),
        this.heading,
        tagList(it.risk_tags),
        h(
          'dl',
          { class: 'facts' },
          fact('Time left', countdown(it.due_at, it.pending_since)),
          fact('Approvals', this.progress),
          fact('Proposed by', `${it.agent_id ?? 'unknown agent'} for ${it.requested_by ?? 'unknown requester'}`),
        ),
      ),
      section(
        'Why it needs you',
        h('p', { class: 'why' }, it.decision_summary.why || it.policy_reason),
        h('h4', {}, 'What happens next'),
        h('p', {}, it.decision_summary.next_effect || 'The proposed action runs once approved.'),
        it.summary?.next_effect ? h('p', { class: 'muted' }, `The agent says: ${it.summary.next_effect}`) : null,
      ),
      section(
        'Policy',
        h(
          'dl',
          { class: 'pairs' },
          it.policy_reason && it.policy_reason !== it.decision_summary.why ? pair('Reason', it.policy_reason) : null,
          pair('Rule', h('code', {}, it.policy_rule_id || '—')),
          it.matched_rules && it.matched_rules.length > 1
            ? pair('All matching rules', it.matched_rules.join(', '))
            : null,
          pair(
            'Who may approve',
            it.approver_roles.length ? it.approver_roles.join(' or ') : 'approver (the default role)',
          ),
          pair('Due', formatTime(it.due_at)),
        ),
      ),
      section(
        'Payload',
        it.payload ? renderJson(it.payload, redacted) : h('p', {}, 'The agent’s proposal has not arrived yet.'),
        it.redacted_fields.length
          ? h(
              'p',
              { class: 'redaction-note' },
              h('mark', { class: 'j-redacted' }, 'Redacted'),
              ` ${plural(it.redacted_fields.length, 'value')} hidden from reviewers: `,
              it.redacted_fields.map((f, i) => [i ? ', ' : '', h('code', {}, f)]),
            )
          : null,
      ),
      section('Approvals so far', this.approvalsSection),
      section(
        'Precedent',
        it.history.length
          ? h(
              'ul',
              { class: 'history-list' },
              it.history.map((p) =>
                h(
                  'li',
                  {},
                  h('span', { class: `badge badge-${p.resolution.toLowerCase()}` }, p.resolution.toLowerCase()),
                  ' ',
                  p.actor ? `by ${p.actor}` : '',
                  p.reason ? h('span', { class: 'quote' }, ` “${p.reason}”`) : '',
                  h('span', { class: 'muted' }, ` · ${formatTime(p.at)} · `, h('code', {}, p.job_id)),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No earlier decisions for this agent and topic.'),
      ),
      section(
        'Binding',
        h(
          'p',
          { class: 'muted' },
          'The executor runs the job only if its own hash of the proposal and the policy version match these.',
        ),
        h(
          'dl',
          { class: 'pairs' },
          copyPair('Policy snapshot', it.policy_snapshot, this.ctx),
          copyPair('Job hash', it.job_hash, this.ctx),
        ),
        it.constraints && Object.keys(it.constraints).length
          ? [h('h4', {}, 'Constraints'), renderJson(it.constraints, new Set())]
          : null,
      ),
      this.renderDecide(),
    );
  }

  private renderApprovals(): void {
    const it = this.item;
    const approvals = it.approvals.filter((a) => a.action === 'approve').length;
    this.progress.textContent = approvalsProgress(approvals, it.approvals_required);
    this.approvalsSection.replaceChildren(
      it.approvals.length
        ? h('ul', { class: 'actions-list' }, it.approvals.map(actionItem))
        : h(
            'p',
            { class: 'muted' },
            `None yet. ${plural(it.approvals_required, 'approval')} needed${it.approver_roles.length ? ` from ${it.approver_roles.join(' or ')}` : ''}, by different people.`,
          ),
    );
  }

  private renderDecide(): HTMLElement {
    this.renderApprovals();
    if (this.item.resolution) {
      this.showResolved();
      return this.decideSection;
    }
    const me = this.ctx.me;
    const mine = this.item.approvals.find((a) => sameActor(a.actor, me.sub));
    const hints: (string | null)[] = [
      sameActor(this.item.requested_by, me.sub) ? 'You are the requester of this action.' : null,
      mine
        ? `You already ${mine.action === 'approve' ? 'approved' : 'rejected'} this at ${formatTime(mine.at)}.`
        : null,
    ];
    const reason = h('textarea', {
      id: 'reason',
      name: 'reason',
      rows: 2,
      maxlength: MAX_TEXT,
      'aria-describedby': 'reason-help reason-error',
    });
    const reasonError = h('p', { id: 'reason-error', class: 'field-error' });
    const note = h('textarea', {
      id: 'note',
      name: 'note',
      rows: 2,
      maxlength: MAX_TEXT,
      'aria-describedby': 'note-help',
    });
    reason.addEventListener('input', () => {
      if (reason.value.trim()) {
        reason.removeAttribute('aria-invalid');
        reasonError.textContent = '';
      }
    });
    this.reason = reason;
    const approve = h('button', { type: 'button', class: 'btn btn-approve', id: 'approve' }, 'Approve');
    const reject = h('button', { type: 'button', class: 'btn btn-reject', id: 'reject' }, 'Reject');
    approve.addEventListener('click', () => void this.decide('approve', reason, note, reasonError));
    reject.addEventListener('click', () => void this.decide('reject', reason, note, reasonError));
    fill(
      this.decideSection,
      h('h3', { id: 'decide-heading' }, 'Your decision'),
      hints.filter(Boolean).map((t) => h('p', { class: 'hint' }, t)),
      h(
        'div',
        { class: 'decide-fields' },
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'reason' }, 'Reason ', h('span', { class: 'field-note' }, '(required to reject)')),
          reason,
          h(
            'p',
            { id: 'reason-help', class: 'sr-only' },
            'Why you decide this way; it is recorded and shown to the requester. Required to reject.',
          ),
          reasonError,
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'note' }, 'Note ', h('span', { class: 'field-note' }, '(optional)')),
          note,
          h('p', { id: 'note-help', class: 'sr-only' }, 'Anything else for the record.'),
        ),
      ),
      h('div', { class: 'decide-actions' }, approve, reject),
      this.errorBox,
      this.resultBox,
    );
    return this.decideSection;
  }

  private async decide(
    action: 'approve' | 'reject',
    reason: HTMLTextAreaElement,
    note: HTMLTextAreaElement,
    reasonError: HTMLElement,
  ): Promise<void> {
    if (this.busy) return;
    this.errorBox.replaceChildren();
    this.resultBox.replaceChildren();
    if (action === 'reject' && !reason.value.trim()) {
      reason.setAttribute('aria-invalid', 'true');
      reasonError.textContent = 'Give a reason to reject: the requester needs to know why.';
      reason.focus();
      return;
    }
    this.busy = true;
    const buttons = this.decideSection.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    this.decideSection.setAttribute('aria-busy', 'true');
    try {
      const result = await this.ctx.api.review(this.item.job.id, action, {
        reason: reason.value.trim() || null,
        note: note.value.trim() || null,
      });
      this.applyResult(result);
      this.ctx.onChanged();
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e));
      this.errorBox.replaceChildren(
        h('p', {}, explain(err, this.item)),
        h('p', { class: 'code' }, `Code: ${err.code}`),
      );
      if (err.code === 'ALREADY_RESOLVED' || err.code === 'NOT_FOUND') this.ctx.onChanged();
    } finally {
      this.busy = false;
      this.decideSection.removeAttribute('aria-busy');
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  private applyResult(r: ReviewResult): void {
    this.item = {
      ...this.item,
      job: r.job,
      approvals: r.approvals,
      approvals_required: r.approvals_required,
      resolution: r.resolution,
      resolved_by: r.resolved_by,
      resolved_comment: r.resolved_comment,
      resolved_at: r.resolved_at,
    };
    this.renderApprovals();
    const approvals = r.approvals.filter((a) => a.action === 'approve').length;
    let text: string;
    if (r.resolution === 'APPROVED')
      text = 'Approved. That was the last approval needed: the job goes to its executor now.';
    else if (r.resolution === 'REJECTED') text = 'Rejected. Nothing runs, and the agent is told why.';
    else if (r.resolution === 'EXPIRED') text = 'Too late: the time to decide ran out, so the job will not run.';
    else
      text = `Your approval is recorded (${approvalsProgress(approvals, r.approvals_required)}). It still needs ${plural(r.approvals_required - approvals, 'more approval')} from someone else.`;
    if (r.resolution) this.showResolved(text);
    else {
      this.resultBox.replaceChildren(h('p', {}, text));
      this.decideSection.querySelectorAll('textarea').forEach((t) => (t.value = ''));
    }
    this.ctx.announce(text);
  }

  private showResolved(message?: string): void {
    const it = this.item;
    const res = it.resolution ?? 'APPROVED';
    this.decideSection.replaceChildren(
      h('h3', { id: 'decide-heading' }, 'Decision'),
      h(
        'div',
        { class: `resolved resolved-${res.toLowerCase()}`, role: 'status' },
        message ? h('p', { class: 'resolved-message' }, message) : null,
        h(
          'p',
          {},
          h('span', { class: `badge badge-${res.toLowerCase()}` }, res.toLowerCase()),
          it.resolved_by ? ` by ${it.resolved_by}` : '',
          it.resolved_at ? ` · ${formatTime(it.resolved_at)}` : '',
        ),
        it.resolved_comment ? h('p', { class: 'quote' }, `“${it.resolved_comment}”`) : null,
      ),
    );
  }

  hasDraft(): boolean {
    return !!this.reason?.value.trim();
  }
}

function actionItem(a: ActionView): HTMLElement {
  return h(
    'li',
    {},
    h(
      'span',
      { class: `badge badge-${a.action === 'approve' ? 'approved' : 'rejected'}` },
      a.action === 'approve' ? 'approved' : 'rejected',
    ),
    ` by ${a.actor} `,
    h('span', { class: 'muted' }, `as ${a.role} · ${formatTime(a.at)}`),
    a.reason ? h('p', { class: 'quote' }, `“${a.reason}”`) : null,
    a.note ? h('p', { class: 'muted' }, `Note: ${a.note}`) : null,
  );
}

let sectionSeq = 0;
function section(title: string, ...body: (Node | Node[] | null)[]): HTMLElement {
  const id = `sec-${++sectionSeq}`;
  return h('section', { class: 'detail-section', 'aria-labelledby': id }, h('h3', { id }, title), ...body);
}

function fact(label: string, value: Node | string): HTMLElement {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

function pair(label: string, value: Node | string): HTMLElement {
  return h('div', { class: 'pair' }, h('dt', {}, label), h('dd', {}, value));
}

function copyPair(label: string, value: string, ctx: Pick<DetailContext, 'announce'>): HTMLElement {
  const button = h(
    'button',
    { type: 'button', class: 'btn btn-small', 'aria-label': `Copy the ${label.toLowerCase()}` },
    'Copy',
  );
  button.addEventListener('click', () => {
    void copyText(value).then((ok) => {
      button.textContent = ok ? 'Copied' : 'Copy failed';
      ctx.announce(ok ? `${label} copied.` : `Could not copy the ${label.toLowerCase()}; select it and copy by hand.`);
      window.setTimeout(() => (button.textContent = 'Copy'), 2000);
    });
  });
  return h(
    'div',
    { class: 'pair' },
    h('dt', {}, label),
    h('dd', { class: 'copyable' }, h('code', { class: 'hash' }, value || '—'), value ? button : null),
  );
}

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  const area = h('textarea', { class: 'sr-only', 'aria-hidden': 'true', tabindex: -1 });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
