import type { AuditRecord } from '@countersign/contracts';
import { REJECTED_INPUT } from '../../records/core/audit-entry';

export const POLICY_SNAPSHOT_PATH = '/api/v1/policy/snapshots/';

export function policyUrl(snapshotId: string): string {
  return `${POLICY_SNAPSHOT_PATH}${encodeURIComponent(snapshotId)}`;
}

interface StepBase {
  seq: number;
  record_hash: string;
  recorded_at: string;
  event_id: string | null;
  producer: string | null;
  /** When it happened, by the event's own clock. */
  at: string | null;
  /**
   * The producer's signature as audit checked it when recording: `verified`, `invalid` (forged,
   * altered or missing where the contract requires one), `unsigned` (a topic nobody signs), or
   * null for a record made before audit checked signatures.
   */
  signature: 'verified' | 'invalid' | 'unsigned' | null;
  signature_reason: string | null;
  /** Set on a conflict record: another body arrived under this event id after `first_seq`'s. */
  conflict: { first_seq: number; first_digest: string; digest: string | null } | null;
}

export type TimelineStep = StepBase &
  (
    | {
        kind: 'proposed';
        agent_id: unknown;
        topic: unknown;
        risk_tags: unknown;
        payload: unknown;
        summary: unknown;
        requested_by: unknown;
      }
    | {
        kind: 'decided';
        decision: unknown;
        policy_snapshot: string | null;
        policy_url: string | null;
        policy_rule_id: unknown;
        policy_reason: unknown;
        matched_rules: unknown;
        job_hash: unknown;
        constraints: unknown;
        approval: unknown;
        decision_summary: unknown;
        signed: boolean;
      }
    | {
        kind: 'escalated';
        escalation_roles: unknown;
        due_at: unknown;
        approvals_so_far: unknown;
        approvals_required: unknown;
      }
    | {
        kind: 'resolved';
        resolution: unknown;
        approvals: unknown;
        resolved_by: unknown;
        resolved_comment: unknown;
        policy_snapshot: string | null;
        policy_url: string | null;
        job_hash: unknown;
        signed: boolean;
      }
    | {
        kind: 'released';
        policy_snapshot: string | null;
        policy_url: string | null;
        job_hash: unknown;
        constraints: unknown;
        expires_at: unknown;
        signed: boolean;
      }
    | {
        kind: 'blocked';
        reason_code: unknown;
        detail: unknown;
        reason_text: unknown;
        /** A late duplicate or forged fact reported after the job's outcome: the outcome stands. */
        report_only: boolean;
      }
    | { kind: 'executed'; executor: unknown; status: unknown; error: unknown; attempts: unknown; result: unknown }
    | { kind: 'rejected_input'; rejected_topic: unknown; consumer: unknown; error: unknown }
    | { kind: 'other'; event_type: string }
  );

export type JobOutcome =
  'executed' | 'execution_failed' | 'blocked' | 'released' | 'awaiting_approval' | 'decided' | 'proposed' | 'unknown';

export interface JobTimeline {
  job_id: string;
  tenant: string | null;
  outcome: JobOutcome;
  /** The snapshot of the (last) decision that gated the job, and where to read its policy text. */
  policy_snapshot: string | null;
  policy_url: string | null;
  steps: TimelineStep[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function step(r: AuditRecord): TimelineStep {
  const body = obj(r.body);
  const d = obj(body['data']);
  const base: StepBase = {
    seq: r.seq,
    record_hash: r.record_hash,
    recorded_at: r.recorded_at,
    event_id: r.source_event_id,
    producer: str(body['producer']),
    at: null,
    signature: r.signature ?? null,
    signature_reason: r.signature_reason ?? null,
    conflict: r.conflict ? { ...r.conflict, digest: r.digest ?? null } : null,
  };
  const snapshot = str(d['policy_snapshot']);
  const link = { policy_snapshot: snapshot, policy_url: snapshot ? policyUrl(snapshot) : null };
  // Signed means a trusted key verified it, not that a signature field is present.
  const signed = r.signature === 'verified';
  switch (r.event_type) {
    case 'job.proposed':
      return {
        ...base,
        at: str(d['proposed_at']),
        kind: 'proposed',
        agent_id: d['agent_id'],
        topic: d['topic'],
        risk_tags: d['risk_tags'],
        payload: d['payload'],
        summary: d['summary'] ?? null,
        requested_by: d['requested_by'],
      };
    case 'decision.made':
      return {
        ...base,
        at: str(d['decided_at']),
        kind: 'decided',
        decision: d['decision'],
        ...link,
        policy_rule_id: d['policy_rule_id'],
        policy_reason: d['policy_reason'],
        matched_rules: d['matched_rules'],
        job_hash: d['job_hash'],
        constraints: d['constraints'],
        approval: d['approval'] ?? null,
        decision_summary: d['decision_summary'],
        signed,
      };
    case 'approval.escalated':
      return {
        ...base,
        at: str(d['escalated_at']),
        kind: 'escalated',
        escalation_roles: d['escalation_roles'],
        due_at: d['due_at'],
        approvals_so_far: d['approvals_so_far'],
        approvals_required: d['approvals_required'],
      };
    case 'approval.resolved':
      return {
        ...base,
        at: str(d['resolved_at']),
        kind: 'resolved',
        resolution: d['resolution'],
        approvals: d['approvals'],
        resolved_by: d['resolved_by'],
        resolved_comment: d['resolved_comment'] ?? null,
        ...link,
        job_hash: d['job_hash'],
        signed,
      };
    case 'job.released':
      return {
        ...base,
        at: str(d['released_at']),
        kind: 'released',
        ...link,
        job_hash: d['job_hash'],
        constraints: d['constraints'],
        expires_at: d['expires_at'],
        signed,
      };
    case 'job.blocked':
      return {
        ...base,
        at: str(d['blocked_at']),
        kind: 'blocked',
        reason_code: d['reason_code'],
        detail: d['detail'],
        reason_text: d['reason_text'] ?? null,
        report_only: d['report_only'] === true,
      };
    case 'job.executed':
      return {
        ...base,
        at: str(d['executed_at']),
        kind: 'executed',
        executor: d['executor'],
        status: d['status'],
        error: d['error'] ?? null,
        attempts: d['attempts'],
        result: d['result'] ?? null,
      };
    case REJECTED_INPUT:
      return {
        ...base,
        at: str(body['failed_at']),
        kind: 'rejected_input',
        rejected_topic: body['source_topic'],
        consumer: body['consumer'],
        error: body['error'],
      };
    default:
      return { ...base, kind: 'other', event_type: r.event_type };
  }
}

function outcomeOf(steps: readonly TimelineStep[]): JobOutcome {
  let outcome: JobOutcome = 'unknown';
  const rank: Record<JobOutcome, number> = {
    unknown: 0,
    proposed: 1,
    decided: 2,
    awaiting_approval: 3,
    released: 4,
    blocked: 5,
    execution_failed: 5,
    executed: 5,
  };
  const raise = (o: JobOutcome) => {
    if (rank[o] >= rank[outcome]) outcome = o;
  };
  for (const s of steps) {
    // A forged or altered event is evidence, shown in the steps; it says nothing about the outcome.
    if (s.signature === 'invalid') continue;
    switch (s.kind) {
      case 'proposed':
        raise('proposed');
        break;
      case 'decided':
        raise(s.decision === 'REQUIRE_APPROVAL' ? 'awaiting_approval' : 'decided');
        break;
      case 'escalated':
        raise('awaiting_approval');
        break;
      case 'resolved':
        raise('decided');
        break;
      case 'released':
        raise('released');
        break;
      case 'blocked':
        if (!s.report_only) raise('blocked');
        break;
      case 'executed':
        raise(s.status === 'SUCCEEDED' ? 'executed' : 'execution_failed');
        break;
      case 'rejected_input':
      case 'other':
        break;
    }
  }
  return outcome;
}

/** A job's whole story from its audit records, in chain order. Pure: the records are passed in. */
export function buildJobTimeline(jobId: string, records: readonly AuditRecord[]): JobTimeline {
  const ordered = [...records].sort((a, b) => a.seq - b.seq);
  const steps = ordered.map(step);
  const decision = [...steps].reverse().find((s) => s.kind === 'decided');
  const snapshot = decision?.kind === 'decided' ? decision.policy_snapshot : null;
  return {
    job_id: jobId,
    tenant: ordered.find((r) => r.tenant !== null)?.tenant ?? null,
    outcome: outcomeOf(steps),
    policy_snapshot: snapshot,
    policy_url: snapshot ? policyUrl(snapshot) : null,
    steps,
  };
}
