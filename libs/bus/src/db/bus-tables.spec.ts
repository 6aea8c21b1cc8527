import type { QueryRunner } from 'typeorm';
import {
  busTablesMigration,
  createBusTablesSql,
  dropBusTablesSql,
  dropOutboxNotifySql,
  outboxDirectPublishMigration,
  restoreOutboxNotifySql,
} from './bus-tables';

function recorder(): { runner: QueryRunner; sql: string[] } {
  const sql: string[] = [];
  return { sql, runner: { query: async (s: string) => void sql.push(s) } as unknown as QueryRunner };
}

describe('the shared bus migrations', () => {
  it.each([
    ['BusTables1732406400000', busTablesMigration, createBusTablesSql, dropBusTablesSql],
    ['OutboxDirectPublish1766000000000', outboxDirectPublishMigration, dropOutboxNotifySql, restoreOutboxNotifySql],
  ])(
    '%s keeps its released name and runs its statements in order, for the schema given',
    async (name, make, up, down) => {
      const migration = new (make('approval_queue'))();
      expect(migration.name).toBe(name);

      const forward = recorder();
      await migration.up(forward.runner);
      expect(forward.sql).toEqual(up('approval_queue'));
      expect(forward.sql.join('\n')).toContain('"approval_queue".');

      const back = recorder();
      await migration.down(back.runner);
      expect(back.sql).toEqual(down('approval_queue'));
    },
  );

  it('gives each service its own class, so one schema never leaks into another', async () => {
    const a = recorder();
    const b = recorder();
    await new (busTablesMigration('audit'))().up(a.runner);
    await new (busTablesMigration('execution_binding'))().up(b.runner);
    expect(a.sql.join('\n')).not.toContain('execution_binding');
    expect(b.sql.join('\n')).not.toContain('"audit"');
  });
});
