import type { Env } from '../config/env.schema';

export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');

export interface AuditSettings {
  /** Role every writing transaction runs as (`SET LOCAL ROLE`); empty for none. */
  dbRole: string;
  appendBatchMax: number;
  /** Rows per keyset batch when verifying. */
  verifyBatch: number;
  /** Worker threads one verify uses (ranges checked in parallel). */
  verifyWorkers: number;
}

export function auditSettingsFrom(env: Env): AuditSettings {
  return {
    dbRole: env.AUDIT_DB_ROLE,
    appendBatchMax: env.AUDIT_APPEND_BATCH_MAX,
    verifyBatch: env.AUDIT_VERIFY_BATCH,
    verifyWorkers: env.AUDIT_VERIFY_WORKERS,
  };
}
