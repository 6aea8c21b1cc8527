import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DDL for the tables every service with a database shares in its own schema: the transactional
 * outbox and the processed-event inbox. A service's first migration calls these.
 */
export function createBusTablesSql(schema: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS "${schema}".outbox (
      id bigserial PRIMARY KEY,
      topic text NOT NULL,
      key text NOT NULL,
      value text NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}'::jsonb,
      trace jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS outbox_unpublished ON "${schema}".outbox (id) WHERE published_at IS NULL`,
    `CREATE OR REPLACE FUNCTION "${schema}".outbox_notify() RETURNS trigger AS $$
     BEGIN PERFORM pg_notify('${schema}_outbox', ''); RETURN NULL; END; $$ LANGUAGE plpgsql`,
    `DROP TRIGGER IF EXISTS outbox_notify ON "${schema}".outbox`,
    `CREATE TRIGGER outbox_notify AFTER INSERT ON "${schema}".outbox FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".outbox_notify()`,
    `CREATE TABLE IF NOT EXISTS "${schema}".processed_events (
      consumer text NOT NULL,
      event_id text NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    )`,
  ];
}

export function dropBusTablesSql(schema: string): string[] {
  return [
    `DROP TABLE IF EXISTS "${schema}".processed_events`,
    `DROP TABLE IF EXISTS "${schema}".outbox`,
    `DROP FUNCTION IF EXISTS "${schema}".outbox_notify()`,
  ];
}

/**
 * Upgrades `processed_events` for consumers that dedupe per (topic, event_id) and keep a digest of
 * the body they processed (claimEvent): rows written by markProcessed get topic '' and no digest,
 * so a schema upgraded this way still serves markProcessed unchanged.
 */
export function addProcessedEventsTopicDigestSql(schema: string): string[] {
  return [
    `ALTER TABLE "${schema}".processed_events ADD COLUMN IF NOT EXISTS topic text NOT NULL DEFAULT '', ADD COLUMN IF NOT EXISTS digest text`,
    `ALTER TABLE "${schema}".processed_events DROP CONSTRAINT processed_events_pkey`,
    `ALTER TABLE "${schema}".processed_events ADD PRIMARY KEY (consumer, topic, event_id)`,
  ];
}

/** Reverts addProcessedEventsTopicDigestSql, keeping one row per (consumer, event_id). */
export function dropProcessedEventsTopicDigestSql(schema: string): string[] {
  return [
    `DELETE FROM "${schema}".processed_events p WHERE p.ctid NOT IN (SELECT min(ctid) FROM "${schema}".processed_events GROUP BY consumer, event_id)`,
    `ALTER TABLE "${schema}".processed_events DROP CONSTRAINT processed_events_pkey`,
    `ALTER TABLE "${schema}".processed_events ADD PRIMARY KEY (consumer, event_id)`,
    `ALTER TABLE "${schema}".processed_events DROP COLUMN digest, DROP COLUMN topic`,
  ];
}

/**
 * The committing process now publishes its rows right after commit (OutboxRelay.publishNow) and the
 * relay only sweeps up what was not confirmed, so the per-commit NOTIFY (a signal to a listening
 * connection and a wasted relay pass for every transaction) goes.
 */
export function dropOutboxNotifySql(schema: string): string[] {
  return [
    `DROP TRIGGER IF EXISTS outbox_notify ON "${schema}".outbox`,
    `DROP FUNCTION IF EXISTS "${schema}".outbox_notify()`,
  ];
}

/** Reverts dropOutboxNotifySql. */
export function restoreOutboxNotifySql(schema: string): string[] {
  return createBusTablesSql(schema).filter((sql) => /outbox_notify/.test(sql));
}

type Statements = (schema: string) => string[];

/** A migration that runs a list of statements each way, for one service's schema. */
function sqlMigration(name: string, up: Statements, down: Statements) {
  return (schema: string) =>
    class implements MigrationInterface {
      readonly name = name;
      async up(q: QueryRunner): Promise<void> {
        for (const sql of up(schema)) await q.query(sql);
      }
      async down(q: QueryRunner): Promise<void> {
        for (const sql of down(schema)) await q.query(sql);
      }
    };
}

/**
 * The bus migrations every service with a database runs, under the same names everywhere (TypeORM
 * records a migration by its name, so a name must never change once released).
 */
export const busTablesMigration = sqlMigration('BusTables1732406400000', createBusTablesSql, dropBusTablesSql);
/** Rows are published right after commit by the process that wrote them: no NOTIFY per commit (ADR 0008). */
export const outboxDirectPublishMigration = sqlMigration(
  'OutboxDirectPublish1766000000000',
  dropOutboxNotifySql,
  restoreOutboxNotifySql,
);
