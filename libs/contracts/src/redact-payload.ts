// The view shows whole exactly what intake and the SDK allow (MAX_PAYLOAD_DEPTH), so it never hides.
import { MAX_PAYLOAD_DEPTH, findUnsafeJson } from './safe-json';

export const REDACTED = '[REDACTED]';

/** `api_key`, `API-Key` and `apiKey` are one field: compare lowercase, without separators. */
export function normalizeFieldName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** `a.b`, `items[0]`, `x["odd key"]`: the notation of `redacted_fields` (and of the reviewers' page). */
export function payloadPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Why the reviewers' view cannot show a payload whole, or `null` when it can: nested deeper than
 * MAX_PAYLOAD_DEPTH, or holding what no view can carry (NUL, lone surrogates). The queue refuses
 * such a proposal rather than show part of it.
 */
export function payloadViewProblem(payload: unknown): { path: string; message: string } | null {
  return findUnsafeJson(payload, MAX_PAYLOAD_DEPTH);
}

interface Task {
  value: unknown;
  path: string;
  /** Under a sensitive key: every scalar from here down is redacted. */
  hidden: boolean;
  into: (v: unknown) => void;
}

/**
 * The payload as reviewers see it: the same structure, key for key and element for element, with
 * every scalar (string, number, boolean, null) under a sensitive key, at any depth, replaced by
 * `[REDACTED]`, and the path of each one listed (`credentials.password`, `db.secret.user`,
 * `items[0].token`), so the view is the payload exactly except at the listed paths.
 *
 * Objects are built without a prototype, so keys such as `__proto__` stay ordinary keys instead of
 * changing the prototype and vanishing. Iterative, with no depth cut-off: nothing is ever hidden for
 * being deep (intake refuses what the view cannot show, see `payloadViewProblem`).
 */
export function redactPayload(
  payload: Record<string, unknown>,
  fields: readonly string[],
): { payload: Record<string, unknown>; redactedFields: string[] } {
  const sensitive = new Set(fields.map(normalizeFieldName).filter(Boolean));
  const redactedFields: string[] = [];
  let root: unknown;
  const stack: Task[] = [{ value: payload, path: '', hidden: false, into: (v) => (root = v) }];
  while (stack.length > 0) {
    const { value, path, hidden, into } = stack.pop()!;
    if (Array.isArray(value)) {
      const out: unknown[] = new Array<unknown>(value.length);
      into(out);
      // Pushed in reverse so that paths are listed in document order.
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], path: `${path}[${i}]`, hidden, into: (v) => (out[i] = v) });
      }
    } else if (value !== null && typeof value === 'object') {
      // Null prototype: assigning `out['__proto__']` creates an own key, as JSON.parse does.
      const out = Object.create(null) as Record<string, unknown>;
      into(out);
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        const under = hidden || sensitive.has(normalizeFieldName(k));
        stack.push({ value: v, path: payloadPath(path, k), hidden: under, into: (x) => (out[k] = x) });
      }
    } else if (hidden) {
      redactedFields.push(path);
      into(REDACTED);
    } else {
      into(value);
    }
  }
  return { payload: root as Record<string, unknown>, redactedFields };
}
