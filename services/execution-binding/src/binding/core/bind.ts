import {
  findReservedKey,
  reservedKeyReason,
  type ApprovalResolvedData,
  type BlockReason,
  type Constraints,
} from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { FACT_TOPIC, type FactKind, type JobFacts } from './job-facts';

export interface BindOptions {
  /** How long a job may wait for a missing proposal or decision before it is blocked `INCOMPLETE`. */
  incompleteAfterMs: number;
}

export type BindResult =
  | { action: 'wait'; waitingFor: FactKind[]; until: Date }
  | { action: 'execute'; constraints: Constraints; jobHash: string; policySnapshot: string }
  | { action: 'block'; reason: BlockReason; detail: string; reasonText: string | null };

const block = (reason: BlockReason, detail: string, reasonText: string | null = null): BindResult => ({
  action: 'block',
  reason,
  detail,
  reasonText,
});

const addMs = (at: Date, ms: number) => new Date(at.getTime() + ms);

/**
 * The binding decision for a job that has no outcome yet: a pure function of its facts and the time.
 * It acts only when every check holds and otherwise names the first one that failed, in this order:
 * signatures, uniqueness, completeness, the decision's hash, an unexpected resolution, a payload no
 * executor may receive, the decision itself, then for a gated job the resolution's hash, its policy
 * snapshot and its verdict.
 * Integrity comes before meaning: a forged or mismatched fact is reported as such even when it
 * would have blocked anyway. The job hash is always computed here from the stored proposal; a hash
 * carried by a decision or a resolution is only ever compared with it, never trusted.
 */
export function bind(facts: JobFacts, now: Date, opts: BindOptions): BindResult {
  const { proposal, decision, resolution, duplicate } = facts;

  for (const [kind, fact] of [
    ['decision', decision],
    ['resolution', resolution],
  ] as const) {
    if (fact?.signatureError) {
      return block(
        'BAD_SIGNATURE',
        `${FACT_TOPIC[kind]} ${fact.eventId} does not carry a valid signature: ${fact.signatureError}`,
      );
    }
  }
  if (duplicate?.signatureError) {
    return block(
      'BAD_SIGNATURE',
      `${FACT_TOPIC[duplicate.kind]} ${duplicate.eventId} does not carry a valid signature: ${duplicate.signatureError}`,
    );
  }
  if (duplicate) {
    return block(
      'DUPLICATE',
      `a second ${FACT_TOPIC[duplicate.kind]} (${duplicate.eventId}) arrived for the job before it was bound; with two candidates neither is acted on`,
    );
  }

  if (!proposal || !decision) {
    const waitingFor: FactKind[] = [
      ...(proposal ? [] : ['proposal' as const]),
      ...(decision ? [] : ['decision' as const]),
    ];
    const until = addMs(facts.firstSeenAt, opts.incompleteAfterMs);
    if (now >= until) {
      return block(
        'INCOMPLETE',
        `no ${waitingFor.map((k) => FACT_TOPIC[k]).join(' and no ')} within ${opts.incompleteAfterMs} ms of the first fact`,
      );
    }
    return { action: 'wait', waitingFor, until };
  }

  const ownHash = jobHash(proposal.data);
  if (decision.data.job_hash !== ownHash) {
    return block(
      'HASH_MISMATCH',
      `decision.made job_hash ${decision.data.job_hash} differs from the hash of the stored proposal ${ownHash}`,
    );
  }
  if (resolution && decision.data.decision !== 'REQUIRE_APPROVAL') {
    return block(
      'UNEXPECTED_RESOLUTION',
      `approval.resolved ${resolution.eventId} arrived for a job whose decision was ${decision.data.decision}, not REQUIRE_APPROVAL`,
    );
  }

  // Defence in depth: policy denies a payload with a reserved key (countersign:reserved-key), so a
  // decision that lets one through comes from a policy-decision that skipped the check; refuse it here
  // on our own. A DENY stays DENIED, the outcome the agent gets everywhere else.
  if (decision.data.decision !== 'DENY') {
    const reserved = findReservedKey(proposal.data.payload);
    if (reserved !== null) {
      return block(
        'UNSAFE_PAYLOAD',
        `${reservedKeyReason(reserved.path)}; decision.made ${decision.eventId} (${decision.data.decision} by ${decision.data.policy_rule_id}) is not acted on`,
      );
    }
  }

  const execute = (): BindResult => ({
    action: 'execute',
    constraints: decision.data.constraints,
    jobHash: ownHash,
    policySnapshot: decision.data.policy_snapshot,
  });

  switch (decision.data.decision) {
    case 'ALLOW':
    case 'ALLOW_WITH_CONSTRAINTS':
      return execute();
    case 'DENY':
      return block(
        'DENIED',
        `denied by policy rule ${decision.data.policy_rule_id}`,
        decision.data.policy_reason || null,
      );
    case 'REQUIRE_APPROVAL':
      break;
  }

  if (!resolution) {
    // The approval queue expires a gated job at its SLA and says so; this timer is only the backstop
    // for a queue that never answers, so it starts when the decision arrived and outlasts the SLA.
    const slaMs = (decision.data.approval?.sla_seconds ?? 0) * 1000;
    const until = addMs(decision.receivedAt, slaMs + opts.incompleteAfterMs);
    if (now >= until) {
      return block(
        'INCOMPLETE',
        `no approval.resolved within the approval SLA (${slaMs / 1000} s) plus ${opts.incompleteAfterMs} ms`,
      );
    }
    return { action: 'wait', waitingFor: ['resolution'], until };
  }
  if (resolution.data.job_hash !== ownHash) {
    return block(
      'HASH_MISMATCH',
      `approval.resolved job_hash ${resolution.data.job_hash} differs from the hash of the stored proposal ${ownHash}`,
    );
  }
  if (resolution.data.policy_snapshot !== decision.data.policy_snapshot) {
    return block(
      'SNAPSHOT_MISMATCH',
      `approval.resolved names policy snapshot ${resolution.data.policy_snapshot}, the gating decision ${decision.data.policy_snapshot}`,
    );
  }
  switch (resolution.data.resolution) {
    case 'REJECTED':
      return block('REJECTED', `rejected by ${resolution.data.resolved_by}`, reviewerReason(resolution.data));
    case 'EXPIRED':
      return block(
        'EXPIRED',
        'the approval expired before enough approvers approved',
        resolution.data.resolved_comment,
      );
    case 'APPROVED':
      return execute();
  }
}

/** The rejecting reviewer's own words: the reason on the reject, else its note, else the resolution comment. */
export function reviewerReason(resolution: ApprovalResolvedData): string | null {
  const reject = resolution.approvals.find((a) => a.action === 'reject');
  return reject?.reason ?? reject?.note ?? resolution.resolved_comment ?? null;
}

/**
 * What to report for a fact that arrived after the job already had its outcome. The outcome stands
 * whatever the fact says: the report is for the audit trail, never a second binding.
 */
export function lateFactReport(
  kind: FactKind,
  eventId: string,
  signatureError: string | null,
  outcome: string,
): { reason: BlockReason; detail: string } {
  const what = `${FACT_TOPIC[kind]} ${eventId} arrived after the job was ${outcome}`;
  if (signatureError)
    return {
      reason: 'BAD_SIGNATURE',
      detail: `${what} and its signature does not verify (${signatureError}); ignored, the outcome stands`,
    };
  return { reason: 'DUPLICATE', detail: `${what}; ignored, the outcome stands` };
}
