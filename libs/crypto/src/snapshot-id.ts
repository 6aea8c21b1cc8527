import { canonicalJson, sha256Hex } from './canonical-json';

export type PolicyScope = { kind: 'system' } | { kind: 'tenant'; tenant: string };

export function scopeLabel(scope: PolicyScope): string {
  return scope.kind === 'system' ? 'system' : `tenant:${scope.tenant}`;
}

/** `cfg:<scope>:policy#sha256:<hex of the canonical document>`. */
export function policySnapshotId(scope: PolicyScope, document: unknown): string {
  return `cfg:${scopeLabel(scope)}:policy#sha256:${sha256Hex(canonicalJson(document))}`;
}
