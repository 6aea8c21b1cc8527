import { BusTables1732406400000 } from '../migrations/1732406400000-bus-tables';
import { AuditTrail1764000000000 } from '../migrations/1764000000000-audit-trail';
import { AuditFindings1765100000000 } from '../migrations/1765100000000-audit-findings';
import { OutboxDirectPublish1766000000000 } from '../migrations/1766000000000-outbox-direct-publish';

/** Every migration, in order; imported explicitly so none is lost to a glob. */
export const migrations = [
  BusTables1732406400000,
  AuditTrail1764000000000,
  AuditFindings1765100000000,
  OutboxDirectPublish1766000000000,
];
