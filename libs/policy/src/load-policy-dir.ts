import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parsePolicy } from './parse-policy';
import { PolicyError } from './policy.error';
import { createPolicySet, type PolicySet, TENANT_ID } from './policy-set';
import type { ParsedPolicy } from './policy.types';

/** The file-reading edge of the engine; everything else in this library is pure. */

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : ((e as Error).message ?? String(e));
    throw new PolicyError('POLICY_NOT_FOUND', [`${file}: cannot read ${what}: ${why}`]);
  }
}

export function loadPolicyText(file: string): ParsedPolicy {
  return parsePolicy(readText(file, 'policy file'), file);
}

/** A single policy file: it is the system policy, with no tenant policies. */
export function loadPolicyFile(file: string): PolicySet {
  return createPolicySet(loadPolicyText(file));
}

export interface PolicyDirFiles {
  readonly system: string;
  /** `[tenant, file]`, sorted by tenant. */
  readonly tenants: readonly (readonly [string, string])[];
}

/**
 * The files of a policy directory: `system.yaml` (required) and `tenants/<tenant>.yaml`
 * (optional; other files there are an error rather than silently ignored).
 */
export function policyDirFiles(dir: string): PolicyDirFiles {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new PolicyError('POLICY_NOT_FOUND', [`${dir}: cannot read policy directory: no such directory`]);
  }
  if (!isDir) throw new PolicyError('POLICY_NOT_FOUND', [`${dir}: cannot read policy directory: not a directory`]);
  const system = join(dir, 'system.yaml');
  const tenantsDir = join(dir, 'tenants');
  let names: string[] = [];
  try {
    names = readdirSync(tenantsDir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new PolicyError('POLICY_NOT_FOUND', [`${tenantsDir}: cannot read: ${(e as Error).message}`]);
  }
  const tenants = names.map((name): [string, string] => {
    const tenant = basename(name, '.yaml');
    if (!name.endsWith('.yaml') || !TENANT_ID.test(tenant)) {
      throw new PolicyError('POLICY_INVALID', [
        `${join(tenantsDir, name)}: expected tenants/<tenant id>.yaml (letters, digits, ".", "_", ":", "@", "-")`,
      ]);
    }
    return [tenant, join(tenantsDir, name)];
  });
  return { system, tenants };
}

/** `DIR/system.yaml` for everyone plus `DIR/tenants/<tenant>.yaml` for that tenant only. */
export function loadPolicyDir(dir: string): PolicySet {
  const files = policyDirFiles(dir);
  const system = parsePolicy(readText(files.system, 'system policy'), files.system);
  return createPolicySet(
    system,
    files.tenants.map(([tenant, file]) => [tenant, loadPolicyText(file)] as const),
  );
}
