import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Format 2 records: what audit found about each message (signature verdict, conflict, redaction)
 * and the digest of the message as received. Existing rows stay format 1 and hash as before.
 */
export class AuditFindings1765100000000 implements MigrationInterface {
  name = 'AuditFindings1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.audit_records
      ADD COLUMN format smallint NOT NULL DEFAULT 1 CHECK (format IN (1, 2)),
      ADD COLUMN kind text CHECK (kind IN ('event', 'conflict', 'rejected_input')),
      ADD COLUMN digest char(64),
      ADD COLUMN signature text CHECK (signature IN ('verified', 'invalid', 'unsigned')),
      ADD COLUMN signature_reason text,
      ADD COLUMN redaction text,
      ADD COLUMN conflict text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.audit_records
      DROP COLUMN conflict, DROP COLUMN redaction, DROP COLUMN signature_reason, DROP COLUMN signature,
      DROP COLUMN digest, DROP COLUMN kind, DROP COLUMN format`);
  }
}
