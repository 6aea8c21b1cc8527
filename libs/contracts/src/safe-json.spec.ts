import { exampleEvents } from './fixtures';
import { parseEvent } from './event-map';
import {
  MAX_EVENT_DEPTH,
  MAX_PAYLOAD_DEPTH,
  decodeJsonText,
  findUnsafeJson,
  parseSafeJson,
  scanJsonText,
} from './safe-json';

/** `depth` nested objects, as text: `{"d":{"d":true}}` is 2. */
const nestedText = (depth: number) => `${'{"d":'.repeat(depth - 1)}{"d":true}${'}'.repeat(depth - 1)}`;

/**
 * A valid job.proposed whose payload is the given JSON text, built by concatenation: most hostile
 * inputs (1e309, duplicate keys, a raw lone surrogate) cannot be produced by JSON.stringify.
 */
const proposalWith = (payloadText: string) =>
  '{"event_id":"7d0f8a3e-2b1c-4c3d-9e8f-0a1b2c3d4e5f","type":"job.proposed","schema_version":1,' +
  '"occurred_at":"2026-11-24T10:00:00.000Z","producer":"agent",' +
  '"data":{"job_id":"job-1","tenant":"acme","agent_id":"bot","topic":"job.deploy.rollout","risk_tags":[],' +
  `"payload":${payloadText},"requested_by":"alice","proposed_at":"2026-11-24T10:00:00.000Z"}}`;

const refusal = (raw: string | Buffer) => {
  const r = parseEvent('job.proposed', raw);
  if (r.ok) throw new Error('expected a refusal');
  return r;
};

describe('findUnsafeJson', () => {
  it('accepts every example event', () => {
    for (const e of Object.values(exampleEvents)) expect(findUnsafeJson(e)).toBeNull();
  });

  it('counts the root object as level 1 and refuses one level past the limit, naming where', () => {
    expect(findUnsafeJson(JSON.parse(nestedText(3)), 3)).toBeNull();
    expect(findUnsafeJson(JSON.parse(nestedText(4)), 3)).toEqual({
      path: 'd.d.d',
      message: 'nested deeper than 3 levels',
    });
    expect(findUnsafeJson({ a: [[1]] }, 2)).toEqual({ path: 'a[0]', message: 'nested deeper than 2 levels' });
  });

  it('checks 100,000 levels without overflowing its own stack', () => {
    const text = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    expect(findUnsafeJson(JSON.parse(text))).toMatchObject({ message: `nested deeper than ${MAX_EVENT_DEPTH} levels` });
  });

  it.each([
    ['a NUL in a value', { data: { payload: { note: 'a\u0000b' } } }, 'data.payload.note', /NUL/],
    ['a NUL in a key', { data: { 'k\u0000': 1 } }, 'data.k\\u0000', /key contains a NUL/],
    ['a lone high surrogate', { s: ['ok', 'x\ud800'] }, 's[1]', /lone UTF-16 surrogate/],
    ['a lone low surrogate', { s: '\udc00' }, 's', /lone UTF-16 surrogate/],
    ['Infinity', { n: Infinity }, 'n', /not finite/],
    ['-Infinity in an array', { n: [1, -Infinity] }, 'n[1]', /not finite/],
    ['NaN', { n: NaN }, 'n', /not finite/],
    ['2^53', { n: 2 ** 53 }, 'n', /beyond ±\(2\^53−1\)/],
    ['-(2^53)', { n: -(2 ** 53) }, 'n', /beyond/],
    ['1e300', { n: 1e300 }, 'n', /beyond/],
  ])('refuses %s', (_what, value, path, message) => {
    const r = findUnsafeJson(value);
    expect(r?.path).toBe(path);
    expect(r?.message).toMatch(message);
  });

  it('accepts ±(2^53−1), fractions, tiny numbers, proper surrogate pairs and the escaped text \\u0000', () => {
    const ok = {
      max: 2 ** 53 - 1,
      min: -(2 ** 53 - 1),
      f: 0.1,
      tiny: 5e-324,
      emoji: '😀 \ud83d\ude00',
      text: '\\u0000',
    };
    expect(findUnsafeJson(ok)).toBeNull();
  });

  it('refuses reserved keys when asked, except below the allowed paths', () => {
    const v = JSON.parse('{"data":{"payload":{"__proto__":{"constructor":1}},"meta":{"prototype":2}}}') as unknown;
    const allowed = { reservedKeysAllowedUnder: [['data', 'payload']] };
    expect(findUnsafeJson(v, allowed)).toEqual({
      path: 'data.meta.prototype',
      message: expect.stringMatching(/^reserved key "prototype"/),
    });
    expect(findUnsafeJson(JSON.parse('{"data":{"payload":{"__proto__":{"prototype":1}}}}'), allowed)).toBeNull();
    expect(findUnsafeJson(JSON.parse('{"__proto__":1}'), { reservedKeysAllowedUnder: [] })).toMatchObject({
      path: '__proto__',
    });
    // Off by default (HTTP bodies go through zod objects, which never copy unknown keys).
    expect(findUnsafeJson(JSON.parse('{"__proto__":1}'))).toBeNull();
  });

  it('normalises -0 to 0 in place when asked', () => {
    const v = JSON.parse('{"a":-0,"b":[-0.0,1],"c":{"d":-0e5}}') as { a: number; b: number[]; c: { d: number } };
    expect(findUnsafeJson(v, { normaliseNegativeZero: true })).toBeNull();
    expect([Object.is(v.a, 0), Object.is(v.b[0], 0), Object.is(v.c.d, 0)]).toEqual([true, true, true]);
  });
});

describe('scanJsonText', () => {
  it.each([
    ['at the top level', '{"a":1,"a":2}', 'a'],
    ['nested, after other keys', '{"x":{"b":1,"c":{"k":1},"b":2}}', 'x.b'],
    ['written two ways', '{"o":[{"a":1,"\\u0061":2}]}', 'o[0].a'],
    ['with escaped quotes in the key', '{"q\\"":1,"q\\"":2}', 'q"'],
    ['after a string value holding braces and quotes', '{"s":"{\\"a\\":1,","a":1,"a":2}', 'a'],
  ])('finds a duplicate key %s', (_what, text, path) => {
    expect(scanJsonText(text)).toEqual({ path, message: expect.stringMatching(/^duplicate key/) });
  });

  it('accepts the same key in sibling objects and string values equal to keys', () => {
    expect(scanJsonText('{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}],"d":"a","e":"\\\\"}')).toBeNull();
  });

  it('refuses 5,000 levels at the limit, without recursion', () => {
    const text = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(scanJsonText(text, 10)).toEqual({ path: `${'[0]'.repeat(10)}`, message: 'nested deeper than 10 levels' });
  });
});

describe('decodeJsonText', () => {
  it('refuses invalid UTF-8 instead of replacing it with U+FFFD', () => {
    expect(decodeJsonText(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toEqual({
      ok: false,
      error: 'value is not valid UTF-8 (JSON on the bus must be UTF-8)',
    });
    // An overlong encoding of "/" and a UTF-8-encoded surrogate (CESU) are invalid too.
    expect(decodeJsonText(Buffer.from([0x22, 0xc0, 0xaf, 0x22])).ok).toBe(false);
    expect(decodeJsonText(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])).ok).toBe(false);
  });

  it('refuses a byte order mark, in bytes and in text', () => {
    const error = 'value starts with a byte order mark (U+FEFF): send UTF-8 JSON without a BOM';
    expect(decodeJsonText(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toEqual({ ok: false, error });
    expect(decodeJsonText('\ufeff{}')).toEqual({ ok: false, error });
  });

  it('decodes valid multi-byte UTF-8', () => {
    expect(decodeJsonText(Buffer.from('{"s":"é😀"}', 'utf8'))).toEqual({ ok: true, text: '{"s":"é😀"}' });
  });
});

describe('parseSafeJson', () => {
  it('refuses truncated JSON as not JSON', () => {
    expect(parseSafeJson('{"a":[1,')).toMatchObject({ ok: false, error: expect.stringMatching(/^value is not JSON/) });
  });
});

describe('parseEvent: the shared rule on raw job.proposed bytes', () => {
  it('accepts an ordinary proposal built by concatenation (so each refusal below is due to its one change)', () => {
    expect(parseEvent('job.proposed', proposalWith('{"service":"api","n":1}')).ok).toBe(true);
  });

  it.each([
    ['1e309', '{"n":1e309}', 'data.payload.n', /^number is not finite \(Infinity\)/],
    ['-1e309', '{"n":[-1e309]}', 'data.payload.n[0]', /not finite \(-Infinity\)/],
    ['a huge exponent', '{"n":1E+99999}', 'data.payload.n', /not finite/],
    ['2^53 + 1 (which would read as 2^53)', '{"n":9007199254740993}', 'data.payload.n', /beyond ±\(2\^53−1\)/],
    ['-(2^53)', '{"n":-9007199254740992}', 'data.payload.n', /beyond/],
    ['1e20', '{"n":1e20}', 'data.payload.n', /beyond/],
    ['an escaped NUL', '{"s":"a\\u0000"}', 'data.payload.s', /NUL/],
    ['an escaped lone surrogate', '{"s":"\\ud800x"}', 'data.payload.s', /lone UTF-16 surrogate/],
    ['a lone surrogate in a key', '{"\\udc00":1}', 'data.payload.\uFFFD', /key contains a lone/],
    ['a duplicate payload key', '{"amount":1,"amount":1000000}', 'data.payload.amount', /^duplicate key "amount"/],
    ['a duplicate envelope key', '{}', 'data.job_id', /^duplicate key "job_id"/],
  ])('refuses %s, naming the path', (_what, payload, path, message) => {
    const raw =
      _what === 'a duplicate envelope key'
        ? proposalWith(payload).replace('"job_id":"job-1"', '"job_id":"job-1","job_id":"job-2"')
        : proposalWith(payload);
    const r = refusal(raw);
    expect(r.issues).toEqual([{ path, message: expect.stringMatching(message) }]);
    expect(r.error).toBe(`unprocessable JSON: ${path}: ${r.issues[0]!.message}`);
  });

  it('refuses the same as bytes, and invalid UTF-8 inside the payload', () => {
    expect(refusal(Buffer.from(proposalWith('{"n":1e309}'))).issues[0]!.path).toBe('data.payload.n');
    const [head, tail] = proposalWith('{"s":"@"}').split('@') as [string, string];
    const raw = Buffer.concat([Buffer.from(head), Buffer.from([0xc3, 0x28]), Buffer.from(tail)]);
    expect(refusal(raw).error).toBe('value is not valid UTF-8 (JSON on the bus must be UTF-8)');
  });

  it('refuses a BOM with a clear error', () => {
    expect(refusal(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(proposalWith('{}'))])).error).toMatch(
      /byte order mark/,
    );
  });

  it(`accepts a payload ${MAX_PAYLOAD_DEPTH} deep and refuses ${MAX_PAYLOAD_DEPTH + 1}`, () => {
    expect(parseEvent('job.proposed', proposalWith(nestedText(MAX_PAYLOAD_DEPTH))).ok).toBe(true);
    const r = refusal(proposalWith(nestedText(MAX_PAYLOAD_DEPTH + 1)));
    expect(r.issues[0]).toEqual({
      path: `data.payload${'.d'.repeat(MAX_PAYLOAD_DEPTH)}`,
      message: `nested deeper than ${MAX_EVENT_DEPTH} levels`,
    });
  });

  it('refuses 5,000-deep nesting cleanly', () => {
    const r = refusal(proposalWith(`${'['.repeat(5000)}${']'.repeat(5000)}`));
    expect(r.issues[0]!.message).toBe(`nested deeper than ${MAX_EVENT_DEPTH} levels`);
  });

  it('keeps __proto__, constructor and prototype inside the payload exactly as sent, at the top level too', () => {
    const r = parseEvent(
      'job.proposed',
      proposalWith('{"__proto__":{"admin":true},"constructor":{"prototype":1},"a":{"__proto__":[1]}}'),
    );
    if (!r.ok) throw new Error(r.error);
    const payload = r.event.data.payload;
    expect(Object.keys(payload)).toEqual(['__proto__', 'constructor', 'a']);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect((payload as { admin?: unknown }).admin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value).toEqual({ admin: true });
    expect(JSON.stringify(payload)).toBe(
      '{"__proto__":{"admin":true},"constructor":{"prototype":1},"a":{"__proto__":[1]}}',
    );
  });

  it('refuses reserved keys anywhere else, in every topic', () => {
    const r = refusal(proposalWith('{}').replace('"risk_tags":[]', '"risk_tags":[],"__proto__":{}'));
    expect(r.issues[0]).toMatchObject({ path: 'data.__proto__', message: expect.stringMatching(/reserved key/) });
    const d = JSON.stringify(exampleEvents['decision.made']).replace(
      '"constraints":{}',
      '"constraints":{"constructor":1}',
    );
    expect(parseEvent('decision.made', d)).toMatchObject({
      ok: false,
      issues: [{ path: 'data.constraints.constructor' }],
    });
  });

  it('accepts -0 and normalises it to 0 (what JCS, JSON.stringify and PostgreSQL jsonb all write)', () => {
    const r = parseEvent('job.proposed', proposalWith('{"n":-0,"m":[-0.0]}'));
    if (!r.ok) throw new Error(r.error);
    expect(Object.is(r.event.data.payload['n'], 0)).toBe(true);
    expect(Object.is((r.event.data.payload['m'] as number[])[0], 0)).toBe(true);
  });
});
