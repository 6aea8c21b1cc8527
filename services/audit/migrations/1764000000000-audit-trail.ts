import type { MigrationInterface, QueryRunner } from 'typeorm';

const GENESIS = '0'.repeat(64);

/**
 * The hash-chained, append-only audit trail. `audit_writer` (the role the service's transactions
 * run as) may only INSERT and SELECT records; a trigger refuses UPDATE, DELETE and TRUNCATE even
 * to the table owner and superusers (who would have to disable it first, which verify then finds).
 */
export class AuditTrail1764000000000 implements MigrationInterface {
  name = 'AuditTrail1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // Roles are cluster-wide and several databases (tests) may migrate at once: create it once, tolerate the race.
    await q.query(`DO $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'audit_writer') THEN
          BEGIN
            CREATE ROLE audit_writer NOLOGIN;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
          END;
        END IF;
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AND NOT pg_has_role(current_user, 'audit_writer', 'MEMBER') THEN
          GRANT audit_writer TO CURRENT_USER;
        END IF;
      END $$`);

    await q.query(`CREATE TABLE audit.audit_records (
      seq bigint PRIMARY KEY CHECK (seq > 0),
      prev_hash char(64) NOT NULL,
      record_hash char(64) NOT NULL,
      dedupe_key text NOT NULL,
      source_topic text NOT NULL,
      source_event_id text,
      event_type text NOT NULL,
      job_id text,
      tenant text,
      recorded_at timestamptz NOT NULL,
      body text NOT NULL
    )`);
    await q.query(`CREATE UNIQUE INDEX audit_records_dedupe ON audit.audit_records (dedupe_key)`);
    await q.query(`CREATE INDEX audit_records_job ON audit.audit_records (job_id, seq) WHERE job_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_records_tenant ON audit.audit_records (tenant, seq)`);
    await q.query(`CREATE INDEX audit_records_type ON audit.audit_records (event_type, seq)`);
    await q.query(`CREATE INDEX audit_records_time ON audit.audit_records (recorded_at)`);

    await q.query(`CREATE TABLE audit.chain_head (
      id smallint PRIMARY KEY CHECK (id = 1),
      seq bigint NOT NULL,
      record_hash char(64) NOT NULL
    )`);
    await q.query(`INSERT INTO audit.chain_head (id, seq, record_hash) VALUES (1, 0, '${GENESIS}')`);

    await q.query(`CREATE TABLE audit.policy_snapshots (
      snapshot_id text PRIMARY KEY,
      scope text NOT NULL,
      document text NOT NULL,
      activated_at timestamptz NOT NULL,
      record_seq bigint NOT NULL
    )`);

    await q.query(`CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit trail is append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['audit_records', 'policy_snapshots']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON audit.${table} FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON audit.${table} FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`,
      );
    }

    await q.query(`REVOKE ALL ON audit.audit_records, audit.policy_snapshots, audit.chain_head FROM PUBLIC`);
    await q.query(`GRANT USAGE ON SCHEMA audit TO audit_writer`);
    await q.query(`GRANT SELECT, INSERT ON audit.audit_records, audit.policy_snapshots TO audit_writer`);
    await q.query(`GRANT SELECT, UPDATE ON audit.chain_head TO audit_writer`);
    // The outbox row for each record is written in the same transaction, under the same role.
    await q.query(`GRANT SELECT, INSERT ON audit.outbox TO audit_writer`);
    await q.query(`GRANT USAGE ON SEQUENCE audit.outbox_id_seq TO audit_writer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit.policy_snapshots`);
    await q.query(`DROP TABLE IF EXISTS audit.chain_head`);
    await q.query(`DROP TABLE IF EXISTS audit.audit_records`);
    await q.query(`DROP FUNCTION IF EXISTS audit.refuse_change()`);
    // The role is shared by every database on the server: only this database's grants go.
    await q.query(`REVOKE ALL ON SEQUENCE audit.outbox_id_seq FROM audit_writer`);
    await q.query(`REVOKE ALL ON audit.outbox FROM audit_writer`);
    await q.query(`REVOKE USAGE ON SCHEMA audit FROM audit_writer`);
  }
}
