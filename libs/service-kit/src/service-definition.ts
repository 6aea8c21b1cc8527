import type { EntitySchema, MixedList } from 'typeorm';

export interface ServiceDefinition {
  /** e.g. `approval-queue`: client id, consumer group, log and trace service name. */
  name: string;
  /** The Postgres schema the service owns; absent for a service without a database. */
  schema?: string;
  entities?: MixedList<string | (new () => unknown) | EntitySchema>;
  migrations?: (new () => unknown)[];
}
