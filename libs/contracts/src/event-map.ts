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
import { findUnsafeJson } from './safe-json';
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

/** Parse raw bytes/text as the event of a topic; never throws. */
export function parseEvent<T extends Topic>(topic: T, raw: Buffer | string | null): ParseResult<EventOf<T>> {
  if (raw === null) return { ok: false, error: 'empty message value', issues: [] };
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (e) {
    return { ok: false, error: `value is not JSON: ${(e as Error).message}`, issues: [] };
  }
  const unsafe = findUnsafeJson(json);
  if (unsafe) return { ok: false, error: `unprocessable JSON: ${unsafe.path}: ${unsafe.message}`, issues: [unsafe] };
  const result = EventSchemas[topic].safeParse(json);
  if (result.success) return { ok: true, event: result.data as EventOf<T> };
  const issues = result.error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  return {
    ok: false,
    error: `does not match ${topic} v1: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  };
}
