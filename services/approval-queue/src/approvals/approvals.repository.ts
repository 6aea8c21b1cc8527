import { enqueueEvent, OutboxRelay, type StagedEvent } from '@countersign/bus';
import type { EventOf, Topic } from '@countersign/contracts';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { DataSource, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import type { IntakeClaim, IntakeItemRow, IntakeWrite } from '../intake/intake.port';
import type { ApprovalsStore, ApprovalsTx, HistoryEntry, ListFilter, ResolutionWrite } from './approvals.port';
import { ApprovalItemEntity } from './approval-item.entity';
import { DEFAULT_APPROVER_ROLE, type RecordedAction } from './core/approval-state';

export const SCHEMA = 'approval_queue';
const ITEMS = `"${SCHEMA}".approval_items`;
const ACTIONS = `"${SCHEMA}".approval_actions`;
const PROCESSED = `"${SCHEMA}".processed_events`;

/** The columns intake reads and writes (IntakeItemRow): everything but the payload and the approval's own life. */
const INTAKE_COLUMNS: readonly [column: string, type: string][] = [
  ['state', 'text'],
  ['tenant', 'text'],
  ['proposal_event_id', 'text'],
  ['agent_id', 'text'],
  ['topic', 'text'],
  ['risk_tags', 'text[]'],
  ['requested_by', 'text'],
  ['proposal_summary', 'jsonb'],
  ['proposal_hash', 'text'],
  ['proposed_at', 'timestamptz'],
  ['decision_event_id', 'text'],
  ['decision', 'text'],
  ['policy_snapshot', 'text'],
  ['policy_rule_id', 'text'],
  ['policy_reason', 'text'],
  ['matched_rules', 'text[]'],
  ['job_hash', 'text'],
  ['constraints', 'jsonb'],
  ['decision_summary', 'jsonb'],
  ['approval_requirement', 'jsonb'],
  ['decided_at', 'timestamptz'],
  ['approvals_required', 'int'],
  ['approver_roles', 'text[]'],
  ['pending_since', 'timestamptz'],
  ['due_at', 'timestamptz'],
  ['escalate_at', 'timestamptz'],
];

/** One json_to_recordset record per written row (snake_case keys, as the statement names them). */
function intakeRecord(w: IntakeWrite): Record<string, unknown> {
  const r = w.row;
  return {
    job_id: r.jobId,
    state: r.state,
    tenant: r.tenant,
    proposal_event_id: r.proposalEventId,
    agent_id: r.agentId,
    topic: r.topic,
    risk_tags: r.riskTags,
    requested_by: r.requestedBy,
    proposal_summary: r.proposalSummary,
    proposal_hash: r.proposalHash,
    proposed_at: r.proposedAt,
    decision_event_id: r.decisionEventId,
    decision: r.decision,
    policy_snapshot: r.policySnapshot,
    policy_rule_id: r.policyRuleId,
    policy_reason: r.policyReason,
    matched_rules: r.matchedRules,
    job_hash: r.jobHash,
    constraints: r.constraints,
    decision_summary: r.decisionSummary,
    approval_requirement: r.approvalRequirement,
    decided_at: r.decidedAt,
    approvals_required: r.approvalsRequired,
    approver_roles: r.approverRoles,
    pending_since: r.pendingSince,
    due_at: r.dueAt,
    escalate_at: r.escalateAt,
    set_payload: w.payload !== undefined,
    payload: w.payload?.payload ?? null,
    redacted_fields: w.payload?.redactedFields ?? [],
  };
}

const LOCK_OR_CREATE_MANY = `INSERT INTO ${ITEMS} (job_id, state)
  SELECT j, 'AWAITING_DECISION' FROM unnest($1::text[]) AS u(j) ORDER BY j
  ON CONFLICT (job_id) DO UPDATE SET job_id = EXCLUDED.job_id
  RETURNING job_id, ${INTAKE_COLUMNS.map(([c]) => c).join(', ')}`;

const WRITE_INTAKE = `UPDATE ${ITEMS} i SET
  ${INTAKE_COLUMNS.map(([c]) => `${c} = r.${c}`).join(',\n  ')},
  payload = CASE WHEN r.set_payload THEN r.payload ELSE i.payload END,
  redacted_fields = CASE WHEN r.set_payload THEN r.redacted_fields ELSE i.redacted_fields END,
  updated_at = now()
  FROM json_to_recordset($1::json) AS r(job_id text, ${INTAKE_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')}, set_payload boolean, payload jsonb, redacted_fields text[])
 WHERE i.job_id = r.job_id`;

type Row = Record<string, unknown>;

/** A stable prepared-statement name per SQL text. */
function statementName(text: string): string {
  return `aq_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/** Maps a raw `approval_items` row (snake_case, as pg returns it) to the entity shape. */
export function itemFromRow(r: Row): ApprovalItemEntity {
  return Object.assign(new ApprovalItemEntity(), {
    jobId: r['job_id'],
    state: r['state'],
    tenant: r['tenant'],
    proposalEventId: r['proposal_event_id'],
    agentId: r['agent_id'],
    topic: r['topic'],
    riskTags: r['risk_tags'] ?? [],
    requestedBy: r['requested_by'],
    payload: r['payload'],
    redactedFields: r['redacted_fields'] ?? [],
    proposalSummary: r['proposal_summary'],
    proposalHash: r['proposal_hash'],
    proposedAt: r['proposed_at'],
    decisionEventId: r['decision_event_id'],
    decision: r['decision'],
    policySnapshot: r['policy_snapshot'],
    policyRuleId: r['policy_rule_id'],
    policyReason: r['policy_reason'],
    matchedRules: r['matched_rules'] ?? [],
    jobHash: r['job_hash'],
    constraints: r['constraints'],
    decisionSummary: r['decision_summary'],
    approvalRequirement: r['approval_requirement'],
    decidedAt: r['decided_at'],
    approvalsRequired: r['approvals_required'],
    approverRoles: r['approver_roles'] ?? [],
    pendingSince: r['pending_since'],
    dueAt: r['due_at'],
    escalateAt: r['escalate_at'],
    escalatedAt: r['escalated_at'],
    resolvedBy: r['resolved_by'],
    resolvedComment: r['resolved_comment'],
    resolvedAt: r['resolved_at'],
    createdAt: r['created_at'],
    updatedAt: r['updated_at'],
  } as Partial<ApprovalItemEntity>);
}

function actionFromRow(r: Row): RecordedAction & { jobId: string } {
  return {
    jobId: r['job_id'] as string,
    actor: r['actor'] as string,
    role: r['role'] as string,
    action: r['action'] as RecordedAction['action'],
    reason: (r['reason'] as string | null) ?? null,
    note: (r['note'] as string | null) ?? null,
    at: r['at'] as Date,
  };
}

/**
 * Everything done inside one transaction: row locks, state changes and the outbox commit together.
 * The outbox rows it stages are published by ApprovalsRepository.transaction right after the commit.
 */
export class PgApprovalsTx implements ApprovalsTx {
  readonly staged: StagedEvent[] = [];

  constructor(readonly manager: EntityManager) {}

  /** The hot statements run prepared on the transaction's own connection (same transaction, planned once). */
  private async query(text: string, values: unknown[]): Promise<Row[]> {
    const client = (this.manager.queryRunner as unknown as { databaseConnection?: PoolClient } | undefined)
      ?.databaseConnection;
    if (client) return (await client.query({ name: statementName(text), text, values })).rows as Row[];
    return (await this.manager.query(text, values)) as Row[];
  }

  async enqueue<T extends Topic>(topic: T, key: string, event: EventOf<T>): Promise<void> {
    this.staged.push(await enqueueEvent(this.manager, SCHEMA, topic, key, event));
  }

  /**
   * markProcessedMany for both intake consumers in one statement. Keys are inserted in
   * (consumer, event_id) order, so replicas taking overlapping sets during a rebalance never deadlock.
   */
  async claim(claims: readonly IntakeClaim[]): Promise<boolean[]> {
    if (claims.length === 0) return [];
    const key = (c: IntakeClaim) => `${c.consumer}\u0000${c.eventId}`;
    const unique = [...new Map(claims.map((c) => [key(c), c])).values()];
    const rows = await this.query(
      `INSERT INTO ${PROCESSED} (consumer, event_id)
       SELECT c, e FROM unnest($1::text[], $2::text[]) AS u(c, e) ORDER BY c, e
       ON CONFLICT DO NOTHING RETURNING consumer, event_id`,
      [unique.map((c) => c.consumer), unique.map((c) => c.eventId)],
    );
    const inserted = new Set(rows.map((r) => `${r['consumer'] as string}\u0000${r['event_id'] as string}`));
    return claims.map((c) => inserted.delete(key(c)));
  }

  async unclaim(claims: readonly IntakeClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.query(
      `DELETE FROM ${PROCESSED} WHERE (consumer, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [claims.map((c) => c.consumer), claims.map((c) => c.eventId)],
    );
  }

  /** lockOrCreate for many jobs in one statement, locking in job_id order; the payload is not read back. */
  async lockOrCreate(jobIds: readonly string[]): Promise<IntakeItemRow[]> {
    if (jobIds.length === 0) return [];
    const rows = await this.query(LOCK_OR_CREATE_MANY, [[...jobIds]]);
    return rows.map((r) => itemFromRow(r) as IntakeItemRow);
  }

  /** Writes the rows intake changed, in one statement; a row's payload only when `payload` is given. */
  async write(writes: readonly IntakeWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.query(WRITE_INTAKE, [JSON.stringify(writes.map(intakeRecord))]);
  }

  /** `SELECT ... FOR UPDATE`: approvals of one job are serialized on its row. */
  async lock(jobId: string): Promise<ApprovalItemEntity | null> {
    const rows = await this.query(`SELECT * FROM ${ITEMS} WHERE job_id = $1 FOR UPDATE`, [jobId]);
    return rows[0] ? itemFromRow(rows[0]) : null;
  }

  /** Pending items past their due time, skipping rows another replica (or a reviewer) holds. */
  async lockDue(now: Date, limit: number): Promise<ApprovalItemEntity[]> {
    const rows = await this.query(
      `SELECT * FROM ${ITEMS} WHERE state = 'PENDING' AND due_at <= $1 ORDER BY due_at, job_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return rows.map(itemFromRow);
  }

  async lockEscalationsDue(now: Date, limit: number): Promise<ApprovalItemEntity[]> {
    const rows = await this.query(
      `SELECT * FROM ${ITEMS}
        WHERE state = 'PENDING' AND escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= $1
        ORDER BY escalate_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    return rows.map(itemFromRow);
  }

  async actionsOf(jobId: string): Promise<RecordedAction[]> {
    const rows = await this.query(`SELECT * FROM ${ACTIONS} WHERE job_id = $1 ORDER BY id`, [jobId]);
    return rows.map(actionFromRow);
  }

  async insertAction(jobId: string, a: RecordedAction): Promise<void> {
    await this.query(
      `INSERT INTO ${ACTIONS} (job_id, actor, role, action, reason, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [jobId, a.actor, a.role, a.action, a.reason, a.note, a.at],
    );
  }

  async resolve(jobId: string, r: ResolutionWrite): Promise<void> {
    await this.query(
      `UPDATE ${ITEMS} SET state = $2, resolved_by = $3, resolved_comment = $4, resolved_at = $5, updated_at = now() WHERE job_id = $1`,
      [jobId, r.resolution, r.resolvedBy, r.resolvedComment, r.resolvedAt],
    );
  }

  async update(jobId: string, patch: Partial<Omit<ApprovalItemEntity, 'jobId'>>): Promise<void> {
    // jsonb columns hold plain JSON; TypeORM's deep-partial type cannot express Record<string, unknown>.
    await this.manager.update(ApprovalItemEntity, { jobId }, {
      ...patch,
      updatedAt: new Date(),
    } as QueryDeepPartialEntity<ApprovalItemEntity>);
  }
}

/**
 * Runs a read as a named prepared statement on the pool TypeORM manages: each connection plans it
 * once instead of on every call, which is most of the database time of a queue page.
 */
export async function preparedQuery(dataSource: DataSource, text: string, values: unknown[]): Promise<Row[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  return (await pool.query({ name: statementName(text), text, values })).rows as Row[];
}

@Injectable()
export class ApprovalsRepository implements ApprovalsStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
  ) {}

  /** Runs fn in one transaction; the outbox rows it staged are handed to the relay right after the commit. */
  async transaction<T>(fn: (tx: ApprovalsTx) => Promise<T>): Promise<T> {
    const staged: StagedEvent[] = [];
    const result = await this.dataSource.transaction(async (m) => {
      const tx = new PgApprovalsTx(m);
      const out = await fn(tx);
      staged.push(...tx.staged);
      return out;
    });
    // Never rejects; what the broker does not confirm, the relay's sweep sends after its grace period.
    void this.relay.publishNow(staged);
    return result;
  }

  async find(jobId: string): Promise<ApprovalItemEntity | null> {
    const rows = await preparedQuery(this.dataSource, `SELECT * FROM ${ITEMS} WHERE job_id = $1`, [jobId]);
    return rows[0] ? itemFromRow(rows[0]) : null;
  }

  /** One page of the queue in (due_at, job_id) order, and the key of its last row for the next page. */
  async list(
    f: ListFilter,
  ): Promise<{ items: ApprovalItemEntity[]; lastKey: { dueAt: string; jobId: string } | null; more: boolean }> {
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [f.includeResolved ? 'due_at IS NOT NULL' : `state = 'PENDING'`];
    // Mirrors actingRole: an item naming no role is for DEFAULT_APPROVER_ROLE only.
    const roles = `(CASE WHEN cardinality(approver_roles) = 0 THEN ARRAY[${p(DEFAULT_APPROVER_ROLE)}]::text[] ELSE approver_roles END)`;
    where.push(`${roles} && ${p(f.visibleToRoles)}::text[]`);
    if (f.visibleTenants !== undefined) where.push(`tenant = ANY(${p(f.visibleTenants)}::text[])`);
    if (f.tenant !== undefined) where.push(`tenant = ${p(f.tenant)}`);
    if (f.topic !== undefined) where.push(`topic = ${p(f.topic)}`);
    if (f.riskTag !== undefined) where.push(`risk_tags @> ARRAY[${p(f.riskTag)}]::text[]`);
    if (f.ruleId !== undefined) where.push(`policy_rule_id = ${p(f.ruleId)}`);
    if (f.role !== undefined) where.push(`${p(f.role)} = ANY${roles}`);
    if (f.after) where.push(`(due_at, job_id) > (${p(f.after.dueAt)}::timestamptz, ${p(f.after.jobId)})`);
    const text = `SELECT *, to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS due_key
         FROM ${ITEMS} WHERE ${where.join(' AND ')}
        ORDER BY due_at, job_id LIMIT ${p(f.limit + 1)}`;
    // Only the unfiltered page runs prepared: a cached generic plan cannot know how selective a
    // tenant, topic or tag is (a common risk tag made one 50x slower), so filtered pages are planned per call.
    const unfiltered = [f.visibleTenants, f.tenant, f.topic, f.riskTag, f.ruleId, f.role].every((v) => v === undefined);
    const rows = unfiltered
      ? await preparedQuery(this.dataSource, text, params)
      : ((await this.dataSource.query(text, params)) as Row[]);
    const more = rows.length > f.limit;
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(itemFromRow),
      lastKey: last ? { dueAt: last['due_key'] as string, jobId: last['job_id'] as string } : null,
      more,
    };
  }

  async actionsFor(jobIds: readonly string[]): Promise<Map<string, RecordedAction[]>> {
    const out = new Map<string, RecordedAction[]>();
    if (jobIds.length === 0) return out;
    const rows = await preparedQuery(
      this.dataSource,
      `SELECT * FROM ${ACTIONS} WHERE job_id = ANY($1::text[]) ORDER BY id`,
      [jobIds],
    );
    for (const r of rows) {
      const a = actionFromRow(r);
      const list = out.get(a.jobId) ?? [];
      list.push({ actor: a.actor, role: a.role, action: a.action, reason: a.reason, note: a.note, at: a.at });
      out.set(a.jobId, list);
    }
    return out;
  }

  /** Up to `limit` resolutions of the same agent's same topic (same tenant) before each item. */
  async historyFor(
    items: readonly { jobId: string; tenant: string; agentId: string; topic: string; before: Date | null }[],
    limit: number,
  ): Promise<Map<string, HistoryEntry[]>> {
    const out = new Map<string, HistoryEntry[]>();
    if (items.length === 0) return out;
    const rows = await preparedQuery(
      this.dataSource,
      `SELECT p.job_id AS for_job, h.job_id, h.state, h.resolved_by, h.resolved_comment, h.resolved_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS p(job_id, tenant, agent_id, topic, before)
         CROSS JOIN LATERAL (
           SELECT r.job_id, r.state, r.resolved_by, r.resolved_comment, r.resolved_at
             FROM ${ITEMS} r
            WHERE r.tenant = p.tenant AND r.agent_id = p.agent_id AND r.topic = p.topic
              AND r.state IN ('APPROVED', 'REJECTED', 'EXPIRED')
              AND r.job_id <> p.job_id
              AND (p.before IS NULL OR r.resolved_at < p.before)
            ORDER BY r.resolved_at DESC
            LIMIT $6) h
        ORDER BY p.job_id, h.resolved_at DESC`,
      [
        items.map((i) => i.jobId),
        items.map((i) => i.tenant),
        items.map((i) => i.agentId),
        items.map((i) => i.topic),
        items.map((i) => i.before),
        limit,
      ],
    );
    for (const r of rows) {
      const key = r['for_job'] as string;
      const list = out.get(key) ?? [];
      list.push({
        jobId: r['job_id'] as string,
        resolution: r['state'] as string,
        actor: (r['resolved_by'] as string | null) ?? null,
        reason: (r['resolved_comment'] as string | null) ?? null,
        at: r['resolved_at'] as Date,
      });
      out.set(key, list);
    }
    return out;
  }
}
