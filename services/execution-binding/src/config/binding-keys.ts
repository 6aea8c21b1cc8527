import type { KeyObject } from 'node:crypto';
import { loadSigner, loadTrustedKeys, readSecret } from '@countersign/bus';
import type { Signer } from '@countersign/crypto';

export interface BindingKeys {
  /** Signs grants (`job.released`) and kafka dispatches. */
  signer: Signer;
  /** Trusted for `decision.made`. */
  policyDecision: KeyObject[];
  /** Trusted for `approval.resolved`. */
  approvalQueue: KeyObject[];
  /** Our own grant keys: the current signer plus, during a rotation, the previous ones in TRUST_EXECUTION_BINDING_KEY. */
  ownGrants: KeyObject[];
}

/** Loads every key at boot; a missing or malformed one is a ConfigError naming the variable. */
export function loadBindingKeys(env: NodeJS.ProcessEnv): BindingKeys {
  const signer = loadSigner(env, 'EXECUTION_BINDING');
  const previous = readSecret(env, 'TRUST_EXECUTION_BINDING_KEY') ? loadTrustedKeys(env, 'EXECUTION_BINDING') : [];
  return {
    signer,
    policyDecision: loadTrustedKeys(env, 'POLICY_DECISION'),
    approvalQueue: loadTrustedKeys(env, 'APPROVAL_QUEUE'),
    ownGrants: [signer.publicKey, ...previous],
  };
}
