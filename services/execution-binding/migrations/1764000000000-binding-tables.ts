import type { MigrationInterface, QueryRunner } from 'typeorm';

export class BindingTables1764000000000 implements MigrationInterface {
  name = 'BindingTables1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "execution_binding".jobs (
      job_id text PRIMARY KEY,
      tenant text,
      state text NOT NULL CHECK (state IN ('pending','proposed','decided','awaiting_approval','released','executing','executed','blocked')),
      first_seen_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deadline_at timestamptz,
      proposal jsonb,
      proposal_event_id text,
      proposal_received_at timestamptz,
      job_hash text,
      decision jsonb,
      decision_event_id text,
      decision_signature_error text,
      decision_received_at timestamptz,
      resolution jsonb,
      resolution_event_id text,
      resolution_signature_error text,
      resolution_received_at timestamptz,
      duplicate jsonb,
      block_reason text,
      block_detail text,
      reason_text text,
      blocked_at timestamptz,
      released_at timestamptz,
      executed_at timestamptz,
      late_facts integer NOT NULL DEFAULT 0
    )`);
    await q.query(
      `CREATE INDEX jobs_waiting_deadline ON "execution_binding".jobs (deadline_at) WHERE state IN ('pending','proposed','decided','awaiting_approval')`,
    );
    await q.query(`CREATE TABLE "execution_binding".executions (
      job_id text PRIMARY KEY REFERENCES "execution_binding".jobs (job_id),
      executor_name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('http','kafka','release')),
      idempotent boolean NOT NULL,
      target jsonb NOT NULL,
      request jsonb NOT NULL,
      timeout_ms integer NOT NULL,
      max_attempts integer NOT NULL,
      initial_backoff_ms integer NOT NULL,
      max_backoff_ms integer NOT NULL,
      state text NOT NULL CHECK (state IN ('started','pending','released','succeeded','failed','unknown')),
      attempts integer NOT NULL,
      claim_token uuid,
      lease_until timestamptz,
      next_attempt_at timestamptz,
      grant_event_id text,
      grant_expires_at timestamptz,
      report_deadline_at timestamptz,
      result jsonb,
      error text,
      created_at timestamptz NOT NULL,
      started_at timestamptz,
      finished_at timestamptz
    )`);
    await q.query(
      `CREATE INDEX executions_open ON "execution_binding".executions (state) WHERE state IN ('started','pending','released')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "execution_binding".executions`);
    await q.query(`DROP TABLE IF EXISTS "execution_binding".jobs`);
  }
}
