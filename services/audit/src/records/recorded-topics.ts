import { Topics, type Topic } from '@countersign/contracts';

/** The topics audit records (and whose DLQs it records): every one but audit.recorded itself. */
export const RECORDED_TOPICS = [
  Topics.JobProposed,
  Topics.DecisionMade,
  Topics.ApprovalResolved,
  Topics.ApprovalEscalated,
  Topics.JobReleased,
  Topics.JobBlocked,
  Topics.JobExecuted,
  Topics.PolicyActivated,
] as const satisfies readonly Exclude<Topic, typeof Topics.AuditRecorded>[];

export type RecordedTopic = (typeof RECORDED_TOPICS)[number];
