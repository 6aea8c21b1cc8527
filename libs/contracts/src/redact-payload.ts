export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 64;

/** `api_key`, `API-Key` and `apiKey` are one field: compare lowercase, without separators. */
export function normalizeFieldName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function childPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Replaces the value of every sensitive key, at any depth, with `[REDACTED]`, and lists where
 * (`credentials.password`, `items[0].token`), so a reviewer sees that something was hidden.
 */
export function redactPayload(
  payload: Record<string, unknown>,
  fields: readonly string[],
): { payload: Record<string, unknown>; redactedFields: string[] } {
  const sensitive = new Set(fields.map(normalizeFieldName).filter(Boolean));
  const redactedFields: string[] = [];
  const walk = (value: unknown, path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) {
      redactedFields.push(path);
      return REDACTED;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`, depth + 1));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const p = childPath(path, k);
        if (sensitive.has(normalizeFieldName(k))) {
          out[k] = REDACTED;
          redactedFields.push(p);
        } else {
          out[k] = walk(v, p, depth + 1);
        }
      }
      return out;
    }
    return value;
  };
  return { payload: walk(payload, '', 0) as Record<string, unknown>, redactedFields };
}
