import type { EventClaim, EventToClaim, OutboxRelay, StagedEvent } from '@countersign/bus';
import type { ExecutionEntity, ExecutionState } from '../execution/execution.entity';
import { BindingChanges } from './binding-changes';
import type { JobEntity } from './job.entity';

/** A fact refused as a forgery: its event id conflicts with a processed one, or its signature fails. */
export interface RefusedFact {
  topic: string;
  eventId: string;
  digest: string;
  reason: 'EVENT_ID_CONFLICT' | 'BAD_SIGNATURE';
  jobId: string;
}

/** A job locked with its execution. */
export interface LockedExecution {
  job: JobEntity;
  execution: ExecutionEntity;
}

/** Everything done inside one transaction: row locks, state changes and the outbox commit together. */
export interface BindingTx {
  /** claimEvents (libs/bus) for the facts of a pass, in the order given. */
  claimEvents(claims: readonly EventToClaim[]): Promise<EventClaim[]>;
  /**
   * Remembers a forged body: null when this very body was already refused (nothing new to report);
   * otherwise the digest of the body processed under the same (topic, event_id), if any.
   */
  recordRefusal(f: RefusedFact): Promise<{ knownDigest: string | null } | null>;
  /** The jobs' rows, created for a first fact, locked in job_id order (so replicas never deadlock). */
  lockOrCreateJobs(jobIds: readonly string[], now: Date): Promise<Map<string, JobEntity>>;
  /** Waiting jobs past their deadline, locked; rows another replica is sweeping are skipped. */
  lockDueWaiting(now: Date, limit: number): Promise<JobEntity[]>;
  /**
   * Jobs that have an execution, each job row locked before its execution row, in job_id order (the
   * binding's order, so the two never deadlock). `skipLocked`: rows another transaction holds are left out.
   */
  lockExecutions(jobIds: readonly string[], opts?: { skipLocked?: boolean }): Promise<Map<string, LockedExecution>>;
  /** Writes a pass: changed jobs, new executions, changed executions, then its events to the outbox. */
  write(changes: BindingChanges): Promise<StagedEvent[]>;
}

export type DueColumn = 'nextAttemptAt' | 'leaseUntil' | 'reportDeadlineAt';

/** execution-binding's data access (PostgreSQL in production, a fake in unit specs). */
export abstract class BindingStore {
  abstract transaction<T>(fn: (tx: BindingTx) => Promise<T>): Promise<T>;
  abstract findJob(jobId: string): Promise<JobEntity | null>;
  abstract findExecution(jobId: string): Promise<ExecutionEntity | null>;
  /** Job ids of executions in a state whose time has come (next attempt, lease or report deadline). */
  abstract dueExecutionIds(state: ExecutionState, column: DueColumn, now: Date, limit: number): Promise<string[]>;
}

export type Publisher = Pick<OutboxRelay, 'publishNow'>;

/**
 * Runs one pass in one transaction: `work` locks what it needs and records its decisions in
 * `changes`, which are written before the commit. After the commit the events are handed to the
 * relay at once (it never rejects; what it cannot confirm the sweep sends later) and the attempts
 * to launch are returned: an execution row is always committed before its side effect.
 */
export async function commitPass<T>(
  store: BindingStore,
  relay: Publisher,
  work: (tx: BindingTx, changes: BindingChanges) => Promise<T>,
): Promise<{ result: T; tickets: BindingChanges['tickets'] }> {
  const { result, staged, tickets } = await store.transaction(async (tx) => {
    const changes = new BindingChanges();
    const result = await work(tx, changes);
    const staged = await tx.write(changes);
    return { result, staged, tickets: changes.tickets };
  });
  void relay.publishNow(staged);
  return { result, tickets };
}
