import type { ApprovalEscalatedData } from '@countersign/contracts';
import type { Logger } from 'pino';

/** The Slack-compatible message (`{ "text": ... }`) for an escalation. */
export function escalationMessage(e: ApprovalEscalatedData): { text: string } {
  const roles = e.escalation_roles.length ? e.escalation_roles.join(', ') : 'the approvers';
  return {
    text:
      `Approval needed soon: "${e.decision_summary.title}" (job ${e.job_id}, tenant ${e.tenant}) ` +
      `has ${e.approvals_so_far} of ${e.approvals_required} approvals and expires at ${e.due_at}. Escalated to ${roles}.`,
  };
}

/**
 * Best-effort notification: a timeout or a failing endpoint is logged, never retried, and never
 * holds up the sweep. The `approval.escalated` event is the reliable channel.
 */
export class EscalationWebhook {
  constructor(
    private readonly url: string | undefined,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async notify(e: ApprovalEscalatedData): Promise<void> {
    if (!this.url) return;
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(escalationMessage(e)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok)
        this.logger.warn({ job_id: e.job_id, status: res.status }, 'escalation webhook answered with an error');
    } catch (err) {
      this.logger.warn({ job_id: e.job_id, error: (err as Error).message }, 'escalation webhook failed');
    }
  }
}
