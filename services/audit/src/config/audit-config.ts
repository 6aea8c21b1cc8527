import { approverAuthFromEnv, loadEnv, loadSigner, loadTrustedKeys, type ApproverAuth } from '@countersign/config';
import type { Signer } from '@countersign/crypto';
import type { RecordingPolicy } from '../records/core/audit-entry';
import { EnvSchema, type Env } from './env.schema';

/** Injection token of the service's one config object. */
export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');

/** Everything audit reads from its environment, validated at boot, secrets included. */
export interface AuditConfig {
  env: Env;
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
  /** How auditor tokens are verified. */
  approverAuth: ApproverAuth;
}

/** Built once in main.ts; a missing or malformed variable or key (`AUDIT_SIGNING_KEY`, `TRUST_<PRODUCER>_KEY`) stops the start, naming it. */
export function loadAuditConfig(vars: NodeJS.ProcessEnv): AuditConfig {
  const env = loadEnv(EnvSchema, vars);
  // The token setting first, then the keys: the order the service has always reported them in.
  const approverAuth = approverAuthFromEnv(env);
  return {
    env,
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
    approverAuth,
  };
}
