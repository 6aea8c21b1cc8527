/**
 * Keys no payload may carry. `JSON.parse` makes them ordinary own properties, but any code that
 * copies a payload into a plain object (`out[key] = value`, spread, many validators) turns
 * `__proto__` into a prototype change and silently drops it: the reviewer would see one payload and
 * the executor receive another. `constructor` and `prototype` are refused with it because executors
 * in other languages and libraries treat them just as specially.
 */
export const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
export type ReservedKey = (typeof RESERVED_KEYS)[number];

const RESERVED: ReadonlySet<string> = new Set(RESERVED_KEYS);

/** The path notation of `redacted_fields`: `a.b`, `items[0]`, `x["odd key"]`. */
function childPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * A reserved key in a JSON value, at any depth and inside arrays, with its path (`a.b.__proto__`,
 * `items[0].constructor`); `null` when there is none. Deterministic: an object's own keys are checked
 * before what they hold, siblings in document order. Iterative, so a
 * payload nested thousands deep cannot overflow the stack of the code that checks it.
 */
export function findReservedKey(value: unknown): { path: string } | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  const seen = new WeakSet<object>();
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      // Pushed in reverse so that they are visited in document order.
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]` });
      continue;
    }
    const keys = Object.keys(v);
    for (const k of keys) if (RESERVED.has(k)) return { path: childPath(path, k) };
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      stack.push({ v: (v as Record<string, unknown>)[k], path: childPath(path, k) });
    }
  }
  return null;
}

const MAX_PATH_IN_REASON = 300;

/**
 * The one wording every service uses for a reserved key (policy reason, block detail, logs), with
 * the path shortened in the middle so that the text fits the events' 2,000-character fields.
 */
export function reservedKeyReason(path: string): string {
  const full = `payload.${path}`;
  const shown =
    full.length <= MAX_PATH_IN_REASON
      ? full
      : `${full.slice(0, MAX_PATH_IN_REASON / 2)}…${full.slice(-MAX_PATH_IN_REASON / 2)}`;
  return `The payload carries the reserved key ${shown} (${RESERVED_KEYS.join(', ')} are refused at any depth: code that copies the payload would drop or misread it)`;
}
