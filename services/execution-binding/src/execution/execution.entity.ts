import type { Constraints, ExecutionStatus, ExecutorKind } from '@countersign/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * `started`: an attempt is (or was, if its process died) in flight. `pending`: an idempotent
 * executor waits for its next attempt. `released`: a grant is out, waiting for the agent's report.
 * The rest are final.
 */
export type ExecutionState = 'started' | 'pending' | 'released' | 'succeeded' | 'failed' | 'unknown';

export const FINAL_STATUS: Partial<Record<ExecutionState, ExecutionStatus>> = {
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  unknown: 'UNKNOWN',
};

/** What was approved and where it goes, frozen when the execution was recorded. */
export interface ExecutionRequest {
  job_id: string;
  tenant: string;
  agent_id: string;
  topic: string;
  risk_tags: string[];
  payload: Record<string, unknown>;
  requested_by: string;
  job_hash: string;
  policy_snapshot: string;
  constraints: Constraints;
}

export type ExecutionTarget =
  | { kind: 'http'; url: string; secret_env: string }
  | { kind: 'kafka'; topic: string }
  | { kind: 'release'; grant_ttl_sec: number };

/**
 * At most one row per job (the primary key), inserted in the transaction that decided to execute and
 * before any side effect: a second attempt to bind the job cannot insert another.
 */
@Entity({ schema: 'execution_binding', name: 'executions' })
export class ExecutionEntity {
  @PrimaryColumn({ name: 'job_id', type: 'text' })
  jobId!: string;

  @Column({ name: 'executor_name', type: 'text' })
  executorName!: string;

  @Column({ type: 'text' })
  kind!: ExecutorKind;

  @Column({ type: 'boolean' })
  idempotent!: boolean;

  @Column({ type: 'jsonb' })
  target!: ExecutionTarget;

  @Column({ type: 'jsonb' })
  request!: ExecutionRequest;

  @Column({ name: 'timeout_ms', type: 'integer' })
  timeoutMs!: number;

  @Column({ name: 'max_attempts', type: 'integer' })
  maxAttempts!: number;

  @Column({ name: 'initial_backoff_ms', type: 'integer' })
  initialBackoffMs!: number;

  @Column({ name: 'max_backoff_ms', type: 'integer' })
  maxBackoffMs!: number;

  @Column({ type: 'text' })
  state!: ExecutionState;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'claim_token', type: 'uuid', nullable: true })
  claimToken!: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'grant_event_id', type: 'text', nullable: true })
  grantEventId!: string | null;

  @Column({ name: 'grant_expires_at', type: 'timestamptz', nullable: true })
  grantExpiresAt!: Date | null;

  @Column({ name: 'report_deadline_at', type: 'timestamptz', nullable: true })
  reportDeadlineAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  result!: unknown;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
