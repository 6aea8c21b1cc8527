import { RESERVED_KEYS } from './reserved-keys';

/**
 * The one rule for what JSON the gate accepts (parseEvent in every service, and the agent SDK before
 * it sends): only values that can be canonicalised (RFC 8785), hashed, stored in PostgreSQL and read
 * back exactly, by every consumer, in any language. A message that breaks it can never be processed,
 * so retrying it would stall its partition: consumers send it to the DLQ with the reason instead.
 */

/** Deepest nesting of a `job.proposed` payload: the payload object itself is level 1. */
export const MAX_PAYLOAD_DEPTH = 64;

/** Levels of the envelope above a payload: the event object and its `data`. */
export const ENVELOPE_DEPTH = 2;

/** Deepest nesting of an event: a payload at its limit inside its envelope. */
export const MAX_EVENT_DEPTH = MAX_PAYLOAD_DEPTH + ENVELOPE_DEPTH;

/** Largest magnitude a JSON number may have: beyond it doubles skip integers, so `2^53 + 1` reads as `2^53`. */
export const MAX_EXACT_NUMBER = Number.MAX_SAFE_INTEGER;

/** RESERVED_KEYS (reserved-keys.ts); where they are allowed is decided per event (`reservedKeysAllowedUnder`). */
const RESERVED: ReadonlySet<string> = new Set(RESERVED_KEYS);

export interface UnsafeJson {
  path: string;
  message: string;
}

export interface SafeJsonRules {
  /** Deepest nesting of objects and arrays (the root object is level 1). */
  maxDepth?: number;
  /**
   * Refuse `__proto__`, `constructor` and `prototype` keys, except below these paths (given as key
   * lists, e.g. `[['data', 'payload']]`), where they are kept exactly as sent.
   */
  reservedKeysAllowedUnder?: readonly (readonly string[])[] | false;
  /** Replace `-0` by `0` in place (see normaliseNegativeZero in the docs: JCS, JSON and jsonb all write 0). */
  normaliseNegativeZero?: boolean;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

const ANY_SURROGATE = /[\uD800-\uDFFF]/;

function stringProblem(text: string): string | null {
  // PostgreSQL text and jsonb cannot hold U+0000; a lone surrogate has no canonical (RFC 8785) form.
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  // The cheap test first: almost no string holds a surrogate at all.
  if (ANY_SURROGATE.test(text) && LONE_SURROGATE.test(text))
    return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

function numberProblem(n: number): string | null {
  if (!Number.isFinite(n))
    return `number is not finite (${n}): a literal such as 1e309 is beyond a double, and RFC 8785 has no form for it`;
  if (n > MAX_EXACT_NUMBER || n < -MAX_EXACT_NUMBER)
    return `number ${n} is beyond ±(2^53−1) (${MAX_EXACT_NUMBER}), where precision is lost silently (what runs could differ from what was sent); send it as a string`;
  return null;
}

/** Whether a parsed number has an exact JSON form (finite, within ±(2^53−1)): the rule parseEvent applies. */
export const isExactJsonNumber = (n: number): boolean => numberProblem(n) === null;

/** A key as it may appear in an error message (which is itself stored and logged). */
export function printableKey(key: string): string {
  return key.replace(/\u0000/g, '\\u0000').replace(LONE_SURROGATES, '\uFFFD');
}

/** Bounded, so an error naming a path 5,000 levels deep stays short. */
const MAX_PATH = 300;
function childPath(parent: string, key: string): string {
  const here = parent ? `${parent}.${printableKey(key)}` : printableKey(key);
  return here.length > MAX_PATH ? `…${here.slice(-MAX_PATH)}` : here;
}

function rulesOf(rules: number | SafeJsonRules | undefined): Required<SafeJsonRules> {
  const r = typeof rules === 'number' ? { maxDepth: rules } : (rules ?? {});
  return {
    maxDepth: r.maxDepth ?? MAX_EVENT_DEPTH,
    reservedKeysAllowedUnder: r.reservedKeysAllowedUnder ?? false,
    normaliseNegativeZero: r.normaliseNegativeZero ?? false,
  };
}

/** A container on the walk; paths are built only for an error (a megabyte payload has ~100,000 values). */
interface Frame {
  v: object;
  parent: Frame | null;
  key: string | number;
  depth: number;
  /** The keys from the root while they still lead towards an allowed path; null once they do not. */
  trail: readonly string[] | null;
  reservedAllowed: boolean;
}

function pathOf(frame: Frame | null, last?: string | number): string {
  const keys: (string | number)[] = last === undefined ? [] : [last];
  for (let f = frame; f && f.parent; f = f.parent) keys.push(f.key);
  let path = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i]!;
    path = typeof k === 'number' ? `${path}[${k}]` : childPath(path, k);
  }
  return path || '(root)';
}

/**
 * Finds what parsed JSON can still carry that no service can canonicalise, store or read back
 * exactly: non-finite numbers, numbers beyond ±(2^53−1), NUL characters and lone surrogates (in keys
 * or values), nesting deeper than `maxDepth`, and (when asked) reserved keys. Iterative: the check
 * cannot overflow its own stack on 100,000 levels. The first problem found is returned, with its path.
 */
export function findUnsafeJson(value: unknown, rules?: number | SafeJsonRules): UnsafeJson | null {
  const { maxDepth, reservedKeysAllowedUnder, normaliseNegativeZero } = rulesOf(rules);
  const checkReserved = reservedKeysAllowedUnder !== false;
  const allowed = reservedKeysAllowedUnder || [];
  const leadsTo = (trail: readonly string[]) =>
    allowed.some((p) => trail.length <= p.length && trail.every((k, i) => p[i] === k));
  const reaches = (trail: readonly string[]) =>
    allowed.some((p) => trail.length === p.length && trail.every((k, i) => p[i] === k));

  const scalarProblem = (v: unknown): string | null => {
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      return problem ? `string ${problem}` : null;
    }
    return typeof v === 'number' ? numberProblem(v) : null;
  };

  if (typeof value !== 'object' || value === null) {
    const problem = scalarProblem(value);
    return problem ? { path: '(root)', message: problem } : null;
  }
  const stack: Frame[] = [
    { v: value, parent: null, key: '', depth: 1, trail: checkReserved ? [] : null, reservedAllowed: false },
  ];
  while (stack.length) {
    const frame = stack.pop()!;
    const { v, depth, trail, reservedAllowed } = frame;
    if (depth > maxDepth) return { path: pathOf(frame), message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (typeof item === 'object' && item !== null) {
          stack.push({ v: item, parent: frame, key: i, depth: depth + 1, trail: null, reservedAllowed });
          continue;
        }
        const problem = scalarProblem(item);
        if (problem) return { path: pathOf(frame, i), message: problem };
        if (normaliseNegativeZero && Object.is(item, -0)) v[i] = 0;
      }
      continue;
    }
    const obj = v as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const keyProblem = stringProblem(k);
      if (keyProblem) return { path: pathOf(frame, k), message: `key ${keyProblem}` };
      if (checkReserved && !reservedAllowed && RESERVED.has(k))
        return {
          path: pathOf(frame, k),
          message: `reserved key "${k}" (__proto__, constructor and prototype are refused outside a job.proposed payload)`,
        };
      const item = obj[k];
      if (typeof item === 'object' && item !== null) {
        const next = trail && leadsTo([...trail, k]) ? [...trail, k] : null;
        stack.push({
          v: item,
          parent: frame,
          key: k,
          depth: depth + 1,
          trail: next,
          reservedAllowed: reservedAllowed || (next !== null && reaches(next)),
        });
        continue;
      }
      const problem = scalarProblem(item);
      if (problem) return { path: pathOf(frame, k), message: problem };
      if (normaliseNegativeZero && Object.is(item, -0)) obj[k] = 0;
    }
  }
  return null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let slashes = 0;
    for (let b = q - 1; b > open && text.charCodeAt(b) === BACKSLASH; b--) slashes++;
    if (slashes % 2 === 0) return q;
    from = q + 1;
  }
}

interface TextFrame {
  isObject: boolean;
  keys: Set<string> | null;
  key: string;
  index: number;
}

/** The path to where the scan is; with `key`, to that key of the innermost object instead. */
function framePath(frames: readonly TextFrame[], key?: string): string {
  let path = '';
  const upto = key === undefined ? frames : frames.slice(0, -1);
  for (const f of upto) {
    if (f.isObject) path = childPath(path, f.key);
    else path = `${path}[${f.index}]`;
  }
  if (key !== undefined) path = childPath(path, key);
  return path || '(root)';
}

/**
 * What JSON.parse hides, found on the text itself: duplicate keys in any object (JSON.parse keeps the
 * last one silently, while a reviewer's tool or an executor in another language may keep the first)
 * and nesting deeper than `maxDepth`, found before anything walks the value. Iterative; meant for text
 * JSON.parse has accepted (on anything else it stops without a finding, leaving JSON.parse to say why).
 */
export function scanJsonText(text: string, maxDepth: number = MAX_EVENT_DEPTH): UnsafeJson | null {
  const frames: TextFrame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      const top = frames[frames.length - 1];
      if (expectKey && top?.isObject) {
        const token = text.slice(i, end + 1);
        let key: string;
        try {
          key = token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
        } catch {
          return null;
        }
        // The same name written two ways (`"a"` and `"\u0061"`) is still one key twice.
        if (top.keys!.has(key))
          return {
            path: framePath(frames, key),
            message: `duplicate key "${printableKey(key)}" (JSON.parse would keep only the last; other readers may keep the first)`,
          };
        top.keys!.add(key);
        top.key = key;
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const isObject = c === 0x7b;
      if (frames.length >= maxDepth)
        return { path: framePath(frames), message: `nested deeper than ${maxDepth} levels` };
      frames.push({ isObject, keys: isObject ? new Set() : null, key: '', index: 0 });
      expectKey = isObject;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top?.isObject) expectKey = true;
      else if (top) top.index++;
    }
  }
  return null;
}

export type DecodedJsonText = { ok: true; text: string } | { ok: false; error: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Message bytes as text: strict UTF-8 (invalid sequences are refused, never replaced by U+FFFD, which
 * would make the stored text differ from the bytes sent) and no byte order mark (RFC 8259 forbids one
 * on the wire; JSON.parse would refuse it with an unhelpful message).
 */
export function decodeJsonText(raw: Buffer | Uint8Array | string): DecodedJsonText {
  let text: string;
  if (typeof raw === 'string') text = raw;
  else {
    try {
      text = strictUtf8.decode(raw);
    } catch {
      return { ok: false, error: 'value is not valid UTF-8 (JSON on the bus must be UTF-8)' };
    }
  }
  if (text.charCodeAt(0) === 0xfeff)
    return { ok: false, error: 'value starts with a byte order mark (U+FEFF): send UTF-8 JSON without a BOM' };
  return { ok: true, text };
}

export type SafeJsonParse = { ok: true; value: unknown } | { ok: false; error: string; issues: UnsafeJson[] };

/**
 * The whole rule on bytes: strict UTF-8 without BOM, JSON, no duplicate keys, no nesting past
 * `maxDepth`, and nothing findUnsafeJson refuses. Never throws.
 */
export function parseSafeJson(raw: Buffer | Uint8Array | string, rules?: SafeJsonRules): SafeJsonParse {
  const r = rulesOf(rules);
  const decoded = decodeJsonText(raw);
  if (!decoded.ok) return { ok: false, error: decoded.error, issues: [] };
  let value: unknown;
  try {
    value = JSON.parse(decoded.text);
  } catch (e) {
    return { ok: false, error: `value is not JSON: ${(e as Error).message}`, issues: [] };
  }
  const unsafe = scanJsonText(decoded.text, r.maxDepth) ?? findUnsafeJson(value, r);
  if (unsafe) return { ok: false, error: `unprocessable JSON: ${unsafe.path}: ${unsafe.message}`, issues: [unsafe] };
  return { ok: true, value };
}
