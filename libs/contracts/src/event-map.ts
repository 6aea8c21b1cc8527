import type { z } from 'zod';
import { ApprovalEscalatedV1Schema } from './events/approval-escalated.v1';
import { ApprovalResolvedV1Schema } from './events/approval-resolved.v1';
import { AuditRecordedV1Schema } from './events/audit-recorded.v1';
import { DecisionMadeV1Schema } from './events/decision-made.v1';
import { JobBlockedV1Schema } from './events/job-blocked.v1';
import { JobExecutedV1Schema } from './events/job-executed.v1';
import { JobProposedV1Schema } from './events/job-proposed.v1';
import { JobReleasedV1Schema } from './events/job-released.v1';
import { PolicyActivatedV1Schema } from './events/policy-activated.v1';
import { MAX_EVENT_DEPTH, findUnsafeJson, parseSafeJson, type SafeJsonRules, type UnsafeJson } from './safe-json';
import { Topics, type Topic } from './topics';

/** One typed map from topic to schema, so a wrong topic or payload does not compile. */
export const EventSchemas = {
  [Topics.JobProposed]: JobProposedV1Schema,
  [Topics.DecisionMade]: DecisionMadeV1Schema,
  [Topics.ApprovalResolved]: ApprovalResolvedV1Schema,
  [Topics.ApprovalEscalated]: ApprovalEscalatedV1Schema,
  [Topics.JobReleased]: JobReleasedV1Schema,
  [Topics.JobBlocked]: JobBlockedV1Schema,
  [Topics.JobExecuted]: JobExecutedV1Schema,
  [Topics.PolicyActivated]: PolicyActivatedV1Schema,
  [Topics.AuditRecorded]: AuditRecordedV1Schema,
} as const satisfies Record<Topic, z.ZodType>;

export type EventOf<T extends Topic> = z.infer<(typeof EventSchemas)[T]>;
export type DataOf<T extends Topic> = EventOf<T>['data'];

/** Topics whose events must carry a producer signature, and who may sign them. */
export const SignedTopics: Partial<Record<Topic, string>> = {
  [Topics.DecisionMade]: 'policy-decision',
  [Topics.ApprovalResolved]: 'approval-queue',
  [Topics.JobReleased]: 'execution-binding',
  [Topics.JobBlocked]: 'execution-binding',
  [Topics.JobExecuted]: 'execution-binding',
  [Topics.ApprovalEscalated]: 'approval-queue',
  [Topics.AuditRecorded]: 'audit',
};

export type ParseResult<T> =
  { ok: true; event: T } | { ok: false; error: string; issues: { path: string; message: string }[] };

/** Where an event legitimately carries an agent's JSON, and so reserved keys are kept as sent (for the policy to deny). */
const PAYLOAD_PATHS: Partial<Record<Topic, readonly (readonly string[])[]>> = {
  [Topics.JobProposed]: [['data', 'payload']],
  // An audit record's body is the event as received (or a DLQ record holding a redacted copy of it).
  [Topics.AuditRecorded]: [
    ['data', 'body', 'data', 'payload'],
    ['data', 'body', 'value_redacted', 'data', 'payload'],
  ],
};

/** Levels an audit record adds above the event it holds (its envelope, data, body; a DLQ record's copy). */
const AUDIT_RECORD_EXTRA_DEPTH = 3;

/**
 * The shared rule of what JSON an event may carry (see safe-json.ts), for parseEvent and for producers
 * such as the agent SDK that check before they send. A `job.proposed` payload may be MAX_PAYLOAD_DEPTH
 * deep; the event adds its envelope's levels.
 */
export function eventJsonRules(topic: Topic): SafeJsonRules {
  return {
    maxDepth: topic === Topics.AuditRecorded ? MAX_EVENT_DEPTH + AUDIT_RECORD_EXTRA_DEPTH : MAX_EVENT_DEPTH,
    reservedKeysAllowedUnder: PAYLOAD_PATHS[topic] ?? [],
    normaliseNegativeZero: true,
  };
}

/** The first thing in an event value that the shared rule refuses (for values built in code, not parsed). */
export function findUnsafeEventJson(topic: Topic, value: unknown): UnsafeJson | null {
  return findUnsafeJson(value, { ...eventJsonRules(topic), normaliseNegativeZero: false });
}

/**
 * Parse raw bytes/text as the event of a topic; never throws. The pure step every consumer runs
 * first: anything it refuses will be refused again on every delivery, so it is poison by construction.
 */
export function parseEvent<T extends Topic>(topic: T, raw: Buffer | string | null): ParseResult<EventOf<T>> {
  if (raw === null) return { ok: false, error: 'empty message value', issues: [] };
  const json = parseSafeJson(raw, eventJsonRules(topic));
  if (!json.ok) return json;
  const result = EventSchemas[topic].safeParse(json.value);
  if (result.success) {
    const event = result.data as EventOf<T>;
    // zod copies a record key by key, which drops a top-level "__proto__" (or would make it a
    // prototype): the payload must stay exactly as the agent sent it, so the original goes back.
    if (topic === Topics.JobProposed) {
      const original = (json.value as { data: { payload: Record<string, unknown> } }).data.payload;
      (event as EventOf<typeof Topics.JobProposed>).data.payload = original;
    }
    return { ok: true, event };
  }
  const issues = result.error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  return {
    ok: false,
    error: `does not match ${topic} v1: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  };
}
