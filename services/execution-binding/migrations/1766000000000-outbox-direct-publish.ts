import { dropOutboxNotifySql, restoreOutboxNotifySql } from '@countersign/bus';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rows are published right after commit by the process that wrote them: no NOTIFY per commit (ADR 0008). */
export class OutboxDirectPublish1766000000000 implements MigrationInterface {
  name = 'OutboxDirectPublish1766000000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of dropOutboxNotifySql('execution_binding')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of restoreOutboxNotifySql('execution_binding')) await q.query(sql);
  }
}
