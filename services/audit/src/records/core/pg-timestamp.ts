/**
 * Postgres' text form of a timestamptz in a UTC session (`2026-11-24 10:00:00.12+00`) as the ISO form
 * records are hashed with (`2026-11-24T10:00:00.120Z`). Reading text is much cheaper than Postgres'
 * to_char or a Date per row. Anything else (sub-millisecond digits, another zone) is returned as
 * stored, so its hash cannot match: an altered timestamp is never rounded into a valid one.
 */
export function isoFromPgUtc(text: string): string {
  if (text.length < 22 || text[10] !== ' ' || !text.endsWith('+00')) return text;
  const fraction = text[19] === '.' ? text.slice(20, -3) : text.length === 22 ? '' : null;
  if (fraction === null || fraction.length > 3) return text;
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction.padEnd(3, '0')}Z`;
}
