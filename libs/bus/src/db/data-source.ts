import { DataSource, type MixedList, type EntitySchema } from 'typeorm';
import type { Logger } from 'pino';

export interface DataSourceOptions {
  url: string;
  schema: string;
  entities: MixedList<string | (new () => unknown) | EntitySchema>;
  /** Migrations are imported explicitly (no globs), so a bundler or a moved dist cannot lose one. */
  migrations: (new () => unknown)[];
  poolMax: number;
  applicationName: string;
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    applicationName: opts.applicationName,
    extra: { max: opts.poolMax, connectionTimeoutMillis: 5000 },
  });
}

/**
 * Runs the service's migrations under a Postgres advisory lock: TypeORM has no lock of its own,
 * and replicas starting together would otherwise race on the same DDL.
 */
export async function runMigrationsLocked(ds: DataSource, schema: string, logger: Logger): Promise<void> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [`countersign:migrations:${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await ds.runMigrations({ transaction: 'all' });
    if (applied.length) logger.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await runner
      .query(`SELECT pg_advisory_unlock(hashtext($1))`, [`countersign:migrations:${schema}`])
      .catch(() => undefined);
    await runner.release();
  }
}
