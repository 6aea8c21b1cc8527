import type { BlockReason, Constraints } from '@countersign/contracts';
import type { RoutedExecutor } from '../../config/executors.config';

export type ExecutionPlan =
  | { action: 'block'; reason: Extract<BlockReason, 'NO_EXECUTOR' | 'CONSTRAINT_VIOLATION'>; detail: string }
  | { action: 'run'; executor: RoutedExecutor; timeoutMs: number };

/**
 * Chooses the executor for an approved job (the first whose globs match its topic) and checks the
 * decision's constraints against it before anything is recorded or called: an http target outside
 * the network allowlist is a `CONSTRAINT_VIOLATION`, and no call is ever made. `max_runtime_sec` can
 * only shorten the executor's own timeout.
 */
export function planExecution(
  topic: string,
  constraints: Constraints,
  executors: readonly RoutedExecutor[],
): ExecutionPlan {
  const executor = executors.find((e) => e.matches(topic));
  if (!executor)
    return { action: 'block', reason: 'NO_EXECUTOR', detail: `no executor is configured for topic ${topic}` };
  const timeoutMs = Math.min(executor.timeout_sec, constraints.max_runtime_sec ?? Number.POSITIVE_INFINITY) * 1000;
  if (executor.kind === 'http' && constraints.network_allowlist) {
    const url = new URL(executor.url);
    if (!hostAllowed(url, constraints.network_allowlist)) {
      return {
        action: 'block',
        reason: 'CONSTRAINT_VIOLATION',
        detail: `executor ${executor.name} targets ${url.host}, outside the network allowlist [${constraints.network_allowlist.join(', ')}]`,
      };
    }
  }
  return { action: 'run', executor, timeoutMs };
}

const bare = (host: string) =>
  host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');

/**
 * An allowlist entry is a host name or IP (any port), `host:port` (that port only), or `*.domain`
 * (any subdomain of domain, not domain itself). Comparison ignores case and a trailing dot.
 */
export function hostAllowed(url: URL, allowlist: readonly string[]): boolean {
  const hostname = bare(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowlist.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry.startsWith('*.')) return hostname.endsWith(bare(entry.slice(1)));
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m) return bare(m[1]!) === hostname && m[2] === port;
    return bare(entry) === hostname;
  });
}
