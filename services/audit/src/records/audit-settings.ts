import { loadSigner, loadTrustedKeys } from '@countersign/bus';
import type { Signer } from '@countersign/crypto';
import type { Env } from '../config/env.schema';
import type { RecordingPolicy } from './core/audit-entry';

export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');

export interface AuditSettings {
  /** Role every writing transaction runs as (`SET LOCAL ROLE`); empty for none. */
  dbRole: string;
  appendBatchMax: number;
  /** Rows per keyset batch when verifying. */
  verifyBatch: number;
  /** Worker threads one verify uses (ranges checked in parallel). */
  verifyWorkers: number;
  /** Signs every `audit.recorded` event, so the stream is verifiable on its own (docs/adr/0006). */
  signer: Signer;
  /** Whose signatures audit checks and what it keeps of payloads. */
  recording: RecordingPolicy;
}

/** Reads the keys too (`AUDIT_SIGNING_KEY`, `TRUST_<PRODUCER>_KEY`): a missing one stops the start, naming it. */
export function auditSettingsFrom(env: Env, vars: NodeJS.ProcessEnv = process.env): AuditSettings {
  return {
    dbRole: env.AUDIT_DB_ROLE,
    appendBatchMax: env.AUDIT_APPEND_BATCH_MAX,
    verifyBatch: env.AUDIT_VERIFY_BATCH,
    verifyWorkers: env.AUDIT_VERIFY_WORKERS,
    signer: loadSigner(vars, 'AUDIT'),
    recording: {
      // One per producer in SignedTopics other than audit itself; a producer missing here would make
      // each of its events `invalid` ("no key trusted"), visibly, never silently verified.
      trusted: {
        'policy-decision': loadTrustedKeys(vars, 'POLICY_DECISION'),
        'approval-queue': loadTrustedKeys(vars, 'APPROVAL_QUEUE'),
        'execution-binding': loadTrustedKeys(vars, 'EXECUTION_BINDING'),
      },
      redactFields: env.REDACT_FIELDS,
      keepFullPayloads: env.AUDIT_KEEP_FULL_PAYLOADS,
    },
  };
}
