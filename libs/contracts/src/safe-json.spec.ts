import { exampleEvents } from './fixtures';
import { parseEvent } from './event-map';
import type { JobProposedV1 } from './events/job-proposed.v1';
import { MAX_JSON_DEPTH, findUnsafeJson } from './safe-json';

const nested = (depth: number): unknown => {
  let v: unknown = true;
  for (let i = 0; i < depth; i++) v = { d: v };
  return v;
};

describe('findUnsafeJson', () => {
  it('accepts every example event', () => {
    for (const e of Object.values(exampleEvents)) expect(findUnsafeJson(e)).toBeNull();
  });

  it(`accepts nesting up to ${MAX_JSON_DEPTH} levels and refuses one more, naming where`, () => {
    expect(findUnsafeJson(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(findUnsafeJson({ payload: nested(MAX_JSON_DEPTH) })).toMatchObject({
      message: `nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
    expect(findUnsafeJson({ a: [[1]] }, 2)).toEqual({ path: 'a[0]', message: 'nested deeper than 2 levels' });
  });

  it('checks 100,000 levels without overflowing its own stack', () => {
    const text = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    expect(findUnsafeJson(JSON.parse(text))).toMatchObject({ message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
  });

  it.each([
    ['a NUL in a value', { data: { payload: { note: 'a\u0000b' } } }, 'data.payload.note', /NUL/],
    ['a NUL in a key', { data: { 'k\u0000': 1 } }, 'data.k\\u0000', /key contains a NUL/],
    ['a lone high surrogate', { s: ['ok', 'x\ud800'] }, 's[1]', /lone UTF-16 surrogate/],
    ['a lone low surrogate', { s: '\udc00' }, 's', /lone UTF-16 surrogate/],
  ])('refuses %s', (_what, value, path, message) => {
    const r = findUnsafeJson(value);
    expect(r?.path).toBe(path);
    expect(r?.message).toMatch(message);
  });

  it('accepts proper surrogate pairs, other control characters and the escaped text \\u0000', () => {
    expect(findUnsafeJson({ emoji: '😀 \ud83d\ude00', tab: '\t\u0001', text: '\\u0000' })).toBeNull();
  });
});

describe('parseEvent with unsafe JSON', () => {
  it('refuses a valid proposal whose payload holds a NUL, naming the field', () => {
    const e = exampleEvents['job.proposed'] as unknown as JobProposedV1;
    const r = parseEvent('job.proposed', JSON.stringify({ ...e, data: { ...e.data, payload: { text: 'a\u0000' } } }));
    expect(r).toEqual({
      ok: false,
      error: 'unprocessable JSON: data.payload.text: string contains a NUL character (\\u0000)',
      issues: [{ path: 'data.payload.text', message: 'string contains a NUL character (\\u0000)' }],
    });
  });
});
