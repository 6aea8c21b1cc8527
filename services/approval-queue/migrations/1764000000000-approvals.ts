import type { MigrationInterface, QueryRunner } from 'typeorm';

const S = 'approval_queue';

/** The queue's tables and the indexes its hot paths need (see bench/reports/queue.md). */
export class Approvals1764000000000 implements MigrationInterface {
  name = 'Approvals1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "${S}".approval_items (
      job_id text PRIMARY KEY,
      state text NOT NULL CHECK (state IN ('AWAITING_DECISION', 'NOT_REQUIRED', 'PENDING', 'APPROVED', 'REJECTED', 'EXPIRED')),
      tenant text,
      proposal_event_id text,
      agent_id text,
      topic text,
      risk_tags text[] NOT NULL DEFAULT '{}',
      requested_by text,
      payload jsonb,
      redacted_fields text[] NOT NULL DEFAULT '{}',
      proposal_summary jsonb,
      proposal_hash text,
      proposed_at timestamptz,
      decision_event_id text,
      decision text,
      policy_snapshot text,
      policy_rule_id text,
      policy_reason text,
      matched_rules text[] NOT NULL DEFAULT '{}',
      job_hash text,
      constraints jsonb,
      decision_summary jsonb,
      approval_requirement jsonb,
      decided_at timestamptz,
      approvals_required int,
      approver_roles text[] NOT NULL DEFAULT '{}',
      pending_since timestamptz,
      due_at timestamptz,
      escalate_at timestamptz,
      escalated_at timestamptz,
      resolved_by text,
      resolved_comment text,
      resolved_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (state IN ('AWAITING_DECISION', 'NOT_REQUIRED') OR (due_at IS NOT NULL AND approvals_required IS NOT NULL AND tenant IS NOT NULL))
    )`);
    await q.query(`CREATE TABLE "${S}".approval_actions (
      id bigserial PRIMARY KEY,
      job_id text NOT NULL REFERENCES "${S}".approval_items (job_id),
      actor text NOT NULL,
      role text NOT NULL,
      action text NOT NULL CHECK (action IN ('approve', 'reject')),
      reason text,
      note text,
      at timestamptz NOT NULL
    )`);
    // One action per person per job, whatever the case of their id: the backstop of ALREADY_DECIDED_BY_ACTOR.
    await q.query(
      `CREATE UNIQUE INDEX approval_actions_one_per_actor ON "${S}".approval_actions (job_id, lower(actor))`,
    );
    // The queue (pending, by due date, keyset on (due_at, job_id)) and its filtered variants.
    await q.query(
      `CREATE INDEX approval_items_pending_due ON "${S}".approval_items (due_at, job_id) WHERE state = 'PENDING'`,
    );
    await q.query(
      `CREATE INDEX approval_items_pending_tenant ON "${S}".approval_items (tenant, due_at, job_id) WHERE state = 'PENDING'`,
    );
    await q.query(
      `CREATE INDEX approval_items_pending_topic ON "${S}".approval_items (topic, due_at, job_id) WHERE state = 'PENDING'`,
    );
    await q.query(
      `CREATE INDEX approval_items_pending_rule ON "${S}".approval_items (policy_rule_id, due_at, job_id) WHERE state = 'PENDING'`,
    );
    await q.query(
      `CREATE INDEX approval_items_pending_tags ON "${S}".approval_items USING gin (risk_tags) WHERE state = 'PENDING'`,
    );
    // include_resolved=true lists every item with a decision.
    await q.query(
      `CREATE INDEX approval_items_listable_due ON "${S}".approval_items (due_at, job_id) WHERE due_at IS NOT NULL`,
    );
    // The sweeper's two scans.
    await q.query(
      `CREATE INDEX approval_items_escalation_due ON "${S}".approval_items (escalate_at) WHERE state = 'PENDING' AND escalated_at IS NULL AND escalate_at IS NOT NULL`,
    );
    // History (earlier resolutions of one agent's topic) and stats (resolutions in a window).
    // Covering, so each listed item's 5 newest entries are an index-only range read, however long the history.
    await q.query(
      `CREATE INDEX approval_items_history ON "${S}".approval_items (tenant, agent_id, topic, resolved_at DESC)
         INCLUDE (job_id, state, resolved_by, resolved_comment) WHERE state IN ('APPROVED', 'REJECTED', 'EXPIRED')`,
    );
    await q.query(
      `CREATE INDEX approval_items_resolved_at ON "${S}".approval_items (resolved_at) WHERE resolved_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "${S}".approval_actions`);
    await q.query(`DROP TABLE IF EXISTS "${S}".approval_items`);
  }
}
