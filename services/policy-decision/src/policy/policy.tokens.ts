export const POLICY_RELOAD_MS = Symbol('POLICY_RELOAD_MS');
export const POLICY_SIGNER = Symbol('POLICY_SIGNER');
