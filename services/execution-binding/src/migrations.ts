import { BindingTables1764000000000 } from '../migrations/1764000000000-binding-tables';
import { BusTables1732406400000 } from '../migrations/1732406400000-bus-tables';
import { FactDedupePerTopic1765000000000 } from '../migrations/1765000000000-fact-dedupe-per-topic';
import { OutboxDirectPublish1766000000000 } from '../migrations/1766000000000-outbox-direct-publish';

/** Every migration, in order; imported explicitly so none is lost to a glob. */
export const migrations = [
  BusTables1732406400000,
  BindingTables1764000000000,
  FactDedupePerTopic1765000000000,
  OutboxDirectPublish1766000000000,
];
