import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { createTestDatabase } from '../../../test/support/stack';
import { ChangedColumns } from '../src/binding/changed-columns';

@Entity({ name: 'widgets' })
class Widget {
  @PrimaryColumn({ name: 'id', type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  state!: string;

  @Column({ type: 'jsonb', nullable: true })
  payload!: Record<string, unknown> | null;

  @Column({ name: 'due_at', type: 'timestamptz', nullable: true })
  dueAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  count!: number;
}

/**
 * ChangedColumns against the real PostgreSQL: the rows execution-binding locks are written back as
 * one UPDATE of the columns that changed, without TypeORM's re-read, and never clobber the others.
 */
describe('ChangedColumns', () => {
  let ds: DataSource;
  const changes = new ChangedColumns(Widget, 'id');
  const repo = () => ds.getRepository(Widget);
  const xmin = async (id: string) =>
    ((await ds.query(`SELECT xmin::text AS x FROM widgets WHERE id = $1`, [id])) as { x: string }[])[0]!.x;

  beforeAll(async () => {
    const url = await createTestDatabase('eb_changed_columns');
    ds = new DataSource({ type: 'postgres', url, entities: [Widget], synchronize: true });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  beforeEach(async () => {
    await repo().clear();
    await repo().insert({
      id: 'w1',
      state: 'new',
      payload: { a: 1 },
      dueAt: new Date('2026-01-01T00:00:00Z'),
      count: 0,
    });
  });

  it('updates only the changed columns: a column changed by someone else since the load is kept', async () => {
    const w = changes.remember(ds.manager, await repo().findOneByOrFail({ id: 'w1' }));
    await ds.query(`UPDATE widgets SET count = 7 WHERE id = 'w1'`);
    w.state = 'done';
    w.payload = { a: 2, b: [1] };
    await changes.saveChanges(ds.manager, w);
    const row = await repo().findOneByOrFail({ id: 'w1' });
    expect(row).toMatchObject({ state: 'done', payload: { a: 2, b: [1] }, count: 7 });
    expect(row.dueAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('detects a changed timestamp and a column set to null', async () => {
    const w = changes.remember(ds.manager, await repo().findOneByOrFail({ id: 'w1' }));
    w.dueAt = new Date('2026-02-02T00:00:00Z');
    w.payload = null;
    await changes.saveChanges(ds.manager, w);
    const row = await repo().findOneByOrFail({ id: 'w1' });
    expect(row.dueAt?.toISOString()).toBe('2026-02-02T00:00:00.000Z');
    expect(row.payload).toBeNull();
  });

  it('writes nothing when nothing changed, and nothing again after a save', async () => {
    const w = changes.remember(ds.manager, await repo().findOneByOrFail({ id: 'w1' }));
    const before = await xmin('w1');
    await changes.saveChanges(ds.manager, w);
    expect(await xmin('w1')).toBe(before);
    w.state = 'once';
    await changes.saveChanges(ds.manager, w);
    const after = await xmin('w1');
    expect(after).not.toBe(before);
    await changes.saveChanges(ds.manager, w);
    expect(await xmin('w1')).toBe(after);
  });

  it('refuses to report success when the row is gone', async () => {
    const w = changes.remember(ds.manager, await repo().findOneByOrFail({ id: 'w1' }));
    await ds.query(`DELETE FROM widgets WHERE id = 'w1'`);
    w.state = 'lost';
    await expect(changes.saveChanges(ds.manager, w)).rejects.toThrow(/changed 0 rows, not 1/);
  });

  it('falls back to a full save for an entity it did not load', async () => {
    const w = Object.assign(new Widget(), { id: 'w2', state: 'fresh', payload: null, dueAt: null, count: 3 });
    await changes.saveChanges(ds.manager, w);
    expect(await repo().findOneByOrFail({ id: 'w2' })).toMatchObject({ state: 'fresh', count: 3 });
  });
});
