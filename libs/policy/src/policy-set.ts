import { PolicyError } from './policy.error';
import type { ParsedPolicy } from './policy.types';

/** Same rule as `IdSchema` in @countersign/contracts: tenant ids travel as keys and URL segments. */
export const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/**
 * The system policy, which applies to every job, plus optional per-tenant policies whose rules
 * are evaluated together with the system rules for that tenant's jobs only.
 */
export interface PolicySet {
  readonly system: ParsedPolicy;
  readonly tenants: ReadonlyMap<string, ParsedPolicy>;
}

export function createPolicySet(
  system: ParsedPolicy,
  tenants: Iterable<readonly [string, ParsedPolicy]> | Readonly<Record<string, ParsedPolicy>> = [],
): PolicySet {
  const entries =
    Symbol.iterator in tenants ? [...(tenants as Iterable<readonly [string, ParsedPolicy]>)] : Object.entries(tenants);
  const map = new Map<string, ParsedPolicy>();
  for (const [tenant, policy] of entries) {
    if (!TENANT_ID.test(tenant)) {
      throw new PolicyError('POLICY_CONFLICT', [
        `${policy.source}: tenant id ${JSON.stringify(tenant)} is not a valid tenant id`,
      ]);
    }
    map.set(tenant, policy);
  }
  return { system, tenants: map };
}

/**
 * The document a snapshot id names: the system file as parsed, or for a tenant with its own file
 * `{ system, tenant }`. Anyone can recompute the hash from the YAML text alone.
 */
export function snapshotDocument(set: PolicySet, tenant?: string): unknown {
  const own = tenant === undefined ? undefined : set.tenants.get(tenant);
  return own === undefined ? set.system.raw : { system: set.system.raw, tenant: own.raw };
}
