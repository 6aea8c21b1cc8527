import { createBusTablesSql, dropBusTablesSql } from '@countersign/bus';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class BusTables1732406400000 implements MigrationInterface {
  name = 'BusTables1732406400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of createBusTablesSql('approval_queue')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of dropBusTablesSql('approval_queue')) await q.query(sql);
  }
}
