import type { EventOf, Topic } from '@countersign/contracts';
import type { IntakeTx } from '../intake/intake.port';
import type { ApprovalItemEntity } from './approval-item.entity';
import type { RecordedAction } from './core/approval-state';

export interface ListFilter {
  includeResolved: boolean;
  /** The reviewer's roles: an item is visible when its approver_roles (or the default role, when empty) shares one. */
  visibleToRoles: readonly string[];
  /** The reviewer's tenants; undefined = all (a `"*"` token), [] = none. */
  visibleTenants: readonly string[] | undefined;
  tenant?: string | undefined;
  topic?: string | undefined;
  riskTag?: string | undefined;
  role?: string | undefined;
  ruleId?: string | undefined;
  after?: { dueAt: string; jobId: string } | undefined;
  limit: number;
}

export interface HistoryEntry {
  jobId: string;
  resolution: string;
  actor: string | null;
  reason: string | null;
  at: Date;
}

export interface ResolutionWrite {
  resolution: string;
  resolvedBy: string;
  resolvedComment: string | null;
  resolvedAt: Date;
}

/** Everything done inside one transaction: row locks, state changes and the outbox commit together. */
export interface ApprovalsTx extends IntakeTx {
  /** Stages an event in the outbox; it is published right after the commit. */
  enqueue<T extends Topic>(topic: T, key: string, event: EventOf<T>): Promise<void>;
  /** `SELECT ... FOR UPDATE`: approvals of one job are serialized on its row. */
  lock(jobId: string): Promise<ApprovalItemEntity | null>;
  /** Pending items past their due time, skipping rows another replica (or a reviewer) holds. */
  lockDue(now: Date, limit: number): Promise<ApprovalItemEntity[]>;
  /** Pending, not yet escalated items whose escalation time has come, skipping locked rows. */
  lockEscalationsDue(now: Date, limit: number): Promise<ApprovalItemEntity[]>;
  actionsOf(jobId: string): Promise<RecordedAction[]>;
  insertAction(jobId: string, a: RecordedAction): Promise<void>;
  resolve(jobId: string, r: ResolutionWrite): Promise<void>;
  update(jobId: string, patch: Partial<Omit<ApprovalItemEntity, 'jobId'>>): Promise<void>;
}

/** The approvals feature's data access: PostgreSQL in production (ApprovalsRepository), a fake in unit specs. */
export interface ApprovalsStore {
  /** Runs fn in one transaction; the outbox rows it staged are published right after the commit. */
  transaction<T>(fn: (tx: ApprovalsTx) => Promise<T>): Promise<T>;
  find(jobId: string): Promise<ApprovalItemEntity | null>;
  /** One page of the queue in (due_at, job_id) order, and the key of its last row for the next page. */
  list(
    f: ListFilter,
  ): Promise<{ items: ApprovalItemEntity[]; lastKey: { dueAt: string; jobId: string } | null; more: boolean }>;
  actionsFor(jobIds: readonly string[]): Promise<Map<string, RecordedAction[]>>;
  /** Up to `limit` resolutions of the same agent's same topic (same tenant) before each item. */
  historyFor(
    items: readonly { jobId: string; tenant: string; agentId: string; topic: string; before: Date | null }[],
    limit: number,
  ): Promise<Map<string, HistoryEntry[]>>;
}
