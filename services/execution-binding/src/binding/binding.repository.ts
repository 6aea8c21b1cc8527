import { createHash } from 'node:crypto';
import {
  claimEvents,
  enqueueEvents,
  type EventClaim,
  type EventToClaim,
  type SqlRunner,
  type StagedEvent,
} from '@countersign/bus';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { CONSUMER, SCHEMA } from '../config/binding-config';
import { ExecutionEntity, type ExecutionState } from '../execution/execution.entity';
import type { BindingChanges } from './binding-changes';
import { BindingStore, type BindingTx, type DueColumn, type LockedExecution, type RefusedFact } from './binding.port';
import { JobEntity, WAITING_STATES } from './job.entity';

const JOBS = `"${SCHEMA}".jobs`;
const EXECUTIONS = `"${SCHEMA}".executions`;

type Row = Record<string, unknown>;
type SqlType = 'text' | 'jsonb' | 'timestamptz' | 'integer' | 'boolean' | 'uuid';
/** A table's columns: entity property, SQL column, SQL type. The key column comes first. */
type Columns<E> = readonly (readonly [keyof E & string, string, SqlType])[];

const JOB_COLUMNS: Columns<JobEntity> = [
  ['jobId', 'job_id', 'text'],
  ['tenant', 'tenant', 'text'],
  ['state', 'state', 'text'],
  ['firstSeenAt', 'first_seen_at', 'timestamptz'],
  ['updatedAt', 'updated_at', 'timestamptz'],
  ['deadlineAt', 'deadline_at', 'timestamptz'],
  ['proposal', 'proposal', 'jsonb'],
  ['proposalEventId', 'proposal_event_id', 'text'],
  ['proposalReceivedAt', 'proposal_received_at', 'timestamptz'],
  ['jobHash', 'job_hash', 'text'],
  ['decision', 'decision', 'jsonb'],
  ['decisionEventId', 'decision_event_id', 'text'],
  ['decisionSignatureError', 'decision_signature_error', 'text'],
  ['decisionReceivedAt', 'decision_received_at', 'timestamptz'],
  ['resolution', 'resolution', 'jsonb'],
  ['resolutionEventId', 'resolution_event_id', 'text'],
  ['resolutionSignatureError', 'resolution_signature_error', 'text'],
  ['resolutionReceivedAt', 'resolution_received_at', 'timestamptz'],
  ['duplicate', 'duplicate', 'jsonb'],
  ['blockReason', 'block_reason', 'text'],
  ['blockDetail', 'block_detail', 'text'],
  ['reasonText', 'reason_text', 'text'],
  ['blockedAt', 'blocked_at', 'timestamptz'],
  ['releasedAt', 'released_at', 'timestamptz'],
  ['executedAt', 'executed_at', 'timestamptz'],
  ['lateFacts', 'late_facts', 'integer'],
];

const EXECUTION_COLUMNS: Columns<ExecutionEntity> = [
  ['jobId', 'job_id', 'text'],
  ['executorName', 'executor_name', 'text'],
  ['kind', 'kind', 'text'],
  ['idempotent', 'idempotent', 'boolean'],
  ['target', 'target', 'jsonb'],
  ['request', 'request', 'jsonb'],
  ['timeoutMs', 'timeout_ms', 'integer'],
  ['maxAttempts', 'max_attempts', 'integer'],
  ['initialBackoffMs', 'initial_backoff_ms', 'integer'],
  ['maxBackoffMs', 'max_backoff_ms', 'integer'],
  ['state', 'state', 'text'],
  ['attempts', 'attempts', 'integer'],
  ['claimToken', 'claim_token', 'uuid'],
  ['leaseUntil', 'lease_until', 'timestamptz'],
  ['nextAttemptAt', 'next_attempt_at', 'timestamptz'],
  ['grantEventId', 'grant_event_id', 'text'],
  ['grantExpiresAt', 'grant_expires_at', 'timestamptz'],
  ['reportDeadlineAt', 'report_deadline_at', 'timestamptz'],
  ['result', 'result', 'jsonb'],
  ['error', 'error', 'text'],
  ['createdAt', 'created_at', 'timestamptz'],
  ['startedAt', 'started_at', 'timestamptz'],
  ['finishedAt', 'finished_at', 'timestamptz'],
];

const DUE_COLUMN: Record<DueColumn, string> = {
  nextAttemptAt: 'next_attempt_at',
  leaseUntil: 'lease_until',
  reportDeadlineAt: 'report_deadline_at',
};

function fromRow<E extends object>(make: () => E, columns: Columns<E>, r: Row, prefix = ''): E {
  const e = make() as Record<string, unknown>;
  for (const [prop, col] of columns) e[prop] = r[`${prefix}${col}`] ?? null;
  return e as E;
}

export const jobFromRow = (r: Row, prefix = ''): JobEntity => fromRow(() => new JobEntity(), JOB_COLUMNS, r, prefix);
export const executionFromRow = (r: Row, prefix = ''): ExecutionEntity =>
  fromRow(() => new ExecutionEntity(), EXECUTION_COLUMNS, r, prefix);

/** The rows as one JSON array (snake_case keys) for `json_to_recordset`: one parameter for any number of rows. */
function recordset<E extends object>(columns: Columns<E>, entities: readonly E[]): string {
  return JSON.stringify(
    entities.map((e) => {
      const row: Record<string, unknown> = {};
      for (const [prop, col] of columns) row[col] = (e as Record<string, unknown>)[prop] ?? null;
      return row;
    }),
  );
}

const definition = <E>(columns: Columns<E>) => columns.map(([, col, type]) => `${col} ${type}`).join(', ');

function updateSql<E>(table: string, columns: Columns<E>): string {
  const key = columns[0]![1];
  const rest = columns.slice(1);
  return `UPDATE ${table} AS t SET ${rest.map(([, col]) => `${col} = r.${col}`).join(', ')}
    FROM json_to_recordset($1::json) AS r(${definition(columns)}) WHERE t.${key} = r.${key}`;
}

function insertSql<E>(table: string, columns: Columns<E>): string {
  const names = columns.map(([, col]) => col).join(', ');
  return `INSERT INTO ${table} (${names}) SELECT ${names} FROM json_to_recordset($1::json) AS r(${definition(columns)})`;
}

const UPDATE_JOBS = updateSql(JOBS, JOB_COLUMNS);
const UPDATE_EXECUTIONS = updateSql(EXECUTIONS, EXECUTION_COLUMNS);
const INSERT_EXECUTIONS = insertSql(EXECUTIONS, EXECUTION_COLUMNS);
/**
 * `ON CONFLICT DO UPDATE` locks an existing row as `SELECT ... FOR UPDATE` would and `RETURNING`
 * gives every row back, created or not; the rows go in job_id order, so locks are taken in that order.
 */
const LOCK_OR_CREATE_JOBS = `INSERT INTO ${JOBS} AS j (job_id, state, first_seen_at, updated_at, late_facts)
  SELECT id, 'pending', $2, $2, 0 FROM unnest($1::text[]) AS u(id) ORDER BY id
  ON CONFLICT (job_id) DO UPDATE SET job_id = j.job_id RETURNING j.*`;
const lockExecutionsSql = (skipLocked: boolean) =>
  `SELECT ${JOB_COLUMNS.map(([, col]) => `j.${col} AS j_${col}`).join(', ')},
          ${EXECUTION_COLUMNS.map(([, col]) => `e.${col} AS e_${col}`).join(', ')}
     FROM ${JOBS} j JOIN ${EXECUTIONS} e ON e.job_id = j.job_id
    WHERE j.job_id = ANY($1::text[]) ORDER BY j.job_id FOR UPDATE OF j, e${skipLocked ? ' SKIP LOCKED' : ''}`;
const LOCK_EXECUTIONS = lockExecutionsSql(false);
const TRY_LOCK_EXECUTIONS = lockExecutionsSql(true);
const LOCK_DUE_WAITING = `SELECT * FROM ${JOBS} WHERE state = ANY($1::text[]) AND deadline_at <= $2
  ORDER BY deadline_at LIMIT $3 FOR UPDATE SKIP LOCKED`;
const RECORD_REFUSAL = `INSERT INTO "${SCHEMA}".refused_facts (topic, event_id, digest, reason, job_id, known_digest)
  SELECT $1, $2, $3, $4, $5,
    (SELECT digest FROM "${SCHEMA}".processed_events WHERE consumer = $6 AND topic = $1 AND event_id = $2)
  ON CONFLICT DO NOTHING RETURNING known_digest`;

/** A stable prepared-statement name per SQL text. */
const statementName = (text: string) => `eb_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;

/** One transaction on PostgreSQL; the statements run prepared on the transaction's own connection. */
class PgBindingTx implements BindingTx {
  private readonly sql: SqlRunner = { query: (text, values) => this.query(text, values ?? []) };

  constructor(private readonly manager: EntityManager) {}

  private async run(text: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
    const client = (this.manager.queryRunner as unknown as { databaseConnection?: PoolClient } | undefined)
      ?.databaseConnection;
    if (!client) throw new Error('a binding transaction runs on its own connection');
    const r = await client.query({ name: statementName(text), text, values });
    return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
  }

  private async query(text: string, values: unknown[]): Promise<Row[]> {
    return (await this.run(text, values)).rows;
  }

  claimEvents(claims: readonly EventToClaim[]): Promise<EventClaim[]> {
    return claimEvents(this.sql, SCHEMA, CONSUMER, claims);
  }

  async recordRefusal(f: RefusedFact): Promise<{ knownDigest: string | null } | null> {
    const rows = await this.query(RECORD_REFUSAL, [f.topic, f.eventId, f.digest, f.reason, f.jobId, CONSUMER]);
    return rows[0] ? { knownDigest: (rows[0]['known_digest'] as string | null) ?? null } : null;
  }

  async lockOrCreateJobs(jobIds: readonly string[], now: Date): Promise<Map<string, JobEntity>> {
    const unique = [...new Set(jobIds)];
    if (unique.length === 0) return new Map();
    const jobs = (await this.query(LOCK_OR_CREATE_JOBS, [unique, now])).map((r) => jobFromRow(r));
    if (jobs.length !== unique.length) throw new Error(`locked ${jobs.length} of ${unique.length} jobs`);
    return new Map(jobs.map((j) => [j.jobId, j]));
  }

  async lockDueWaiting(now: Date, limit: number): Promise<JobEntity[]> {
    return (await this.query(LOCK_DUE_WAITING, [[...WAITING_STATES], now, limit])).map((r) => jobFromRow(r));
  }

  async lockExecutions(
    jobIds: readonly string[],
    opts: { skipLocked?: boolean } = {},
  ): Promise<Map<string, LockedExecution>> {
    const unique = [...new Set(jobIds)];
    if (unique.length === 0) return new Map();
    const rows = await this.query(opts.skipLocked ? TRY_LOCK_EXECUTIONS : LOCK_EXECUTIONS, [unique]);
    return new Map(
      rows.map((r) => {
        const job = jobFromRow(r, 'j_');
        return [job.jobId, { job, execution: executionFromRow(r, 'e_') }];
      }),
    );
  }

  async write(changes: BindingChanges): Promise<StagedEvent[]> {
    const jobs = changes.jobs;
    if (jobs.length > 0) {
      const { rowCount } = await this.run(UPDATE_JOBS, [recordset(JOB_COLUMNS, jobs)]);
      if (rowCount !== jobs.length) throw new Error(`updated ${rowCount} of ${jobs.length} jobs`);
    }
    const recorded = changes.newExecutions;
    if (recorded.length > 0) await this.run(INSERT_EXECUTIONS, [recordset(EXECUTION_COLUMNS, recorded)]);
    const executions = changes.executions;
    if (executions.length > 0) {
      const { rowCount } = await this.run(UPDATE_EXECUTIONS, [recordset(EXECUTION_COLUMNS, executions)]);
      if (rowCount !== executions.length) throw new Error(`updated ${rowCount} of ${executions.length} executions`);
    }
    return enqueueEvents(this.sql, SCHEMA, changes.events);
  }
}

/** execution-binding's tables on PostgreSQL, in raw SQL: one statement per table per pass. */
@Injectable()
export class BindingRepository extends BindingStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  transaction<T>(fn: (tx: BindingTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((m) => fn(new PgBindingTx(m)));
  }

  async findJob(jobId: string): Promise<JobEntity | null> {
    const rows = (await this.dataSource.query(`SELECT * FROM ${JOBS} WHERE job_id = $1`, [jobId])) as Row[];
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  async findExecution(jobId: string): Promise<ExecutionEntity | null> {
    const rows = (await this.dataSource.query(`SELECT * FROM ${EXECUTIONS} WHERE job_id = $1`, [jobId])) as Row[];
    return rows[0] ? executionFromRow(rows[0]) : null;
  }

  async dueExecutionIds(state: ExecutionState, column: DueColumn, now: Date, limit: number): Promise<string[]> {
    const col = DUE_COLUMN[column];
    const rows = (await this.dataSource.query(
      `SELECT job_id FROM ${EXECUTIONS} WHERE state = $1 AND ${col} <= $2 ORDER BY ${col} LIMIT $3`,
      [state, now, limit],
    )) as Row[];
    return rows.map((r) => r['job_id'] as string);
  }
}
