import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  compilePolicySet,
  loadPolicyDir,
  loadPolicyFile,
  policySnapshots,
  type CompiledPolicySet,
} from '@countersign/policy';

export interface ActiveSnapshot {
  scope: string;
  snapshot_id: string;
  document: unknown;
}

export interface PolicySource {
  kind: 'dir' | 'file';
  path: string;
}

/** A fingerprint of the policy files' bytes: a reload happens only when a file really changed. */
function fingerprint(source: PolicySource): string {
  const h = createHash('sha256');
  const add = (file: string) => {
    try {
      h.update(file).update(readFileSync(file));
    } catch {
      h.update(`${file}:missing`);
    }
  };
  if (source.kind === 'file') add(source.path);
  else {
    add(join(source.path, 'system.yaml'));
    const tenants = join(source.path, 'tenants');
    let names: string[] = [];
    try {
      if (statSync(tenants).isDirectory()) names = readdirSync(tenants).sort();
    } catch {
      names = [];
    }
    for (const n of names) add(join(tenants, n));
  }
  return h.digest('hex');
}

export type ReloadResult =
  | { changed: false }
  | { changed: true; activated: ActiveSnapshot[]; previous: Map<string, string> }
  | { changed: false; error: string };

/**
 * The active compiled policy set. A reload validates the new files completely before swapping the
 * reference (one assignment, so a decision sees either the old set or the new one, never a mix);
 * an invalid file leaves the previous snapshot active and the error on record.
 */
export class PolicyStore {
  private compiled: CompiledPolicySet;
  private print: string;
  private readonly history = new Map<string, ActiveSnapshot>();
  lastError: { message: string; at: string } | undefined;

  constructor(readonly source: PolicySource) {
    this.print = fingerprint(source);
    this.compiled = this.load();
    for (const s of policySnapshots(this.compiled)) this.history.set(s.snapshot_id, s);
  }

  get current(): CompiledPolicySet {
    return this.compiled;
  }

  active(): ActiveSnapshot[] {
    return policySnapshots(this.compiled);
  }

  /** Any snapshot this process has had active, so a decision can be traced to its text. */
  snapshot(id: string): ActiveSnapshot | undefined {
    return this.history.get(id);
  }

  reload(): ReloadResult {
    const print = fingerprint(this.source);
    if (print === this.print) return { changed: false };
    let next: CompiledPolicySet;
    try {
      next = this.load();
    } catch (e) {
      this.print = print;
      this.lastError = { message: (e as Error).message, at: new Date().toISOString() };
      return { changed: false, error: this.lastError.message };
    }
    const previous = new Map(policySnapshots(this.compiled).map((s) => [s.scope, s.snapshot_id]));
    this.compiled = next;
    this.print = print;
    this.lastError = undefined;
    const activated = policySnapshots(next).filter((s) => previous.get(s.scope) !== s.snapshot_id);
    for (const s of activated) this.history.set(s.snapshot_id, s);
    return { changed: true, activated, previous };
  }

  private load(): CompiledPolicySet {
    const set = this.source.kind === 'dir' ? loadPolicyDir(this.source.path) : loadPolicyFile(this.source.path);
    return compilePolicySet(set);
  }
}
