/** Deepest nesting of objects and arrays an event may have (the SDK allows a payload 64 deep). */
export const MAX_JSON_DEPTH = 100;

export interface UnsafeJson {
  path: string;
  message: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | null {
  // PostgreSQL text and jsonb cannot hold U+0000; a lone surrogate has no canonical (RFC 8785) form.
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

/** A key as it may appear in an error message (which is itself stored and logged). */
const printable = (key: string) => key.replace(/\u0000/g, '\\u0000').replace(new RegExp(LONE_SURROGATE, 'g'), '\uFFFD');

/**
 * Finds what valid JSON can still carry that no service can store, hash or re-serialize: nesting
 * deeper than MAX_JSON_DEPTH (recursive code overflows its stack on it), NUL characters and lone
 * surrogates, in keys or values. A message with any of them could never be processed, and retrying it
 * would stall its partition, so consumers refuse it like any invalid message. Iterative: the check
 * itself cannot overflow.
 */
export function findUnsafeJson(value: unknown, maxDepth = MAX_JSON_DEPTH): UnsafeJson | null {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = problemOf(v);
      if (problem) return { path: path || '(root)', message: `string ${problem}` };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return { path: path || '(root)', message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const [k, item] of Object.entries(v)) {
      const here = path ? `${path}.${printable(k)}` : printable(k);
      const problem = problemOf(k);
      if (problem) return { path: here, message: `key ${problem}` };
      stack.push({ v: item, path: here, depth: depth + 1 });
    }
  }
  return null;
}
