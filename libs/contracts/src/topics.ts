export const Topics = {
  JobProposed: 'job.proposed',
  DecisionMade: 'decision.made',
  ApprovalResolved: 'approval.resolved',
  ApprovalEscalated: 'approval.escalated',
  JobReleased: 'job.released',
  JobBlocked: 'job.blocked',
  JobExecuted: 'job.executed',
  PolicyActivated: 'policy.activated',
  AuditRecorded: 'audit.recorded',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const EVENT_TOPICS: readonly Topic[] = Object.values(Topics);

export const DLQ_SUFFIX = '.dlq';

export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** Every topic the stack needs, DLQs included: the broker scripts create exactly these. */
export const ALL_TOPICS: readonly string[] = [...EVENT_TOPICS, ...EVENT_TOPICS.map(dlqTopic)];

/** Kafka message headers every producer sets. */
export const Headers = {
  EventId: 'event-id',
  EventType: 'event-type',
  SchemaVersion: 'schema-version',
  ContentType: 'content-type',
} as const;
