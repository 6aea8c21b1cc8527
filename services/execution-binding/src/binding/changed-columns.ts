import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/**
 * Writes back only the columns of a loaded entity that changed, as one UPDATE.
 *
 * TypeORM's `save()` first SELECTs the row again to find what changed: one more round trip per
 * write, and a job is written three or four times on its way to `job.executed`. The rows written
 * here were just loaded (and locked) in the same transaction, so the values as loaded are the
 * baseline: `remember()` keeps them, `saveChanges()` compares and updates what differs (a JSON
 * payload that did not change is not sent again).
 */
export class ChangedColumns<E extends ObjectLiteral> {
  private readonly loaded = new WeakMap<E, Map<string, string>>();

  constructor(
    private readonly target: EntityTarget<E>,
    private readonly key: keyof E & string,
  ) {}

  /** Records the values of a freshly loaded entity; returns it. */
  remember<T extends E | null>(m: EntityManager, entity: T): T {
    if (entity) this.loaded.set(entity, this.snapshot(m, entity));
    return entity;
  }

  /** Updates the changed columns (all of them for an entity not loaded through `remember`). */
  async saveChanges(m: EntityManager, entity: E): Promise<void> {
    const before = this.loaded.get(entity);
    if (!before) {
      await m.getRepository(this.target).save(entity);
      this.remember(m, entity);
      return;
    }
    const now = this.snapshot(m, entity);
    const changes: Record<string, unknown> = {};
    for (const [property, value] of now) if (before.get(property) !== value) changes[property] = entity[property];
    if (Object.keys(changes).length === 0) return;
    const result = await m
      .createQueryBuilder()
      .update(this.target)
      .set(changes as QueryDeepPartialEntity<E>)
      .where({ [this.key]: entity[this.key] })
      .execute();
    if (result.affected !== 1)
      throw new Error(`update of ${String(entity[this.key])} changed ${String(result.affected)} rows, not 1`);
    this.loaded.set(entity, now);
  }

  private snapshot(m: EntityManager, entity: E): Map<string, string> {
    const values = new Map<string, string>();
    for (const column of m.connection.getMetadata(this.target).columns) {
      if (column.isPrimary) continue;
      const value: unknown = entity[column.propertyName];
      values.set(
        column.propertyName,
        value instanceof Date ? `d${value.getTime()}` : `j${JSON.stringify(value ?? null)}`,
      );
    }
    return values;
  }
}
