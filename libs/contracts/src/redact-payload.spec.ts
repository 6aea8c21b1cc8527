import { normalizeFieldName, payloadViewProblem, redactPayload, REDACTED } from './redact-payload';

const FIELDS = ['password', 'secret', 'token', 'api_key', 'authorization', 'card_number', 'iban'];

/** Raw JSON text, parsed as a consumer parses it: `"__proto__"` becomes an own key. */
const parse = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

const nested = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) v = { d: v };
  return v;
};

describe('redactPayload', () => {
  it('redacts the scalars under matching keys at any depth, in arrays too, and lists their paths', () => {
    const { payload, redactedFields } = redactPayload(
      {
        user: 'svc',
        Password: 'hunter2',
        db: { conn: { secret: 's3' } },
        items: [{ token: 't1' }, { name: 'ok' }],
        headers: { Authorization: 'Bearer abc' },
      },
      FIELDS,
    );
    expect(payload).toEqual({
      user: 'svc',
      Password: REDACTED,
      db: { conn: { secret: REDACTED } },
      items: [{ token: REDACTED }, { name: 'ok' }],
      headers: { Authorization: REDACTED },
    });
    expect(redactedFields).toEqual(['Password', 'db.conn.secret', 'items[0].token', 'headers.Authorization']);
  });

  it('keeps the structure under a sensitive key and redacts every scalar inside it, listing each', () => {
    const { payload, redactedFields } = redactPayload(
      parse(
        '{"secret":{"user":"u","pin":1234,"on":true,"none":null,"list":[1,{"k":"v"}],"empty":{},"no":[]},"after":2}',
      ),
      FIELDS,
    );
    expect(payload).toEqual({
      secret: {
        user: REDACTED,
        pin: REDACTED,
        on: REDACTED,
        none: REDACTED,
        list: [REDACTED, { k: REDACTED }],
        empty: {},
        no: [],
      },
      after: 2,
    });
    expect(redactedFields).toEqual([
      'secret.user',
      'secret.pin',
      'secret.on',
      'secret.none',
      'secret.list[0]',
      'secret.list[1].k',
    ]);
  });

  it('redacts a sensitive key that is an array of scalars element by element', () => {
    const { payload, redactedFields } = redactPayload({ tokens: ['a', 'b'], token: ['a', 'b'] }, FIELDS);
    expect(payload).toEqual({ tokens: ['a', 'b'], token: [REDACTED, REDACTED] });
    expect(redactedFields).toEqual(['token[0]', 'token[1]']);
  });

  it('keeps __proto__, constructor and prototype as ordinary keys (null-prototype objects)', () => {
    const input = parse(
      '{"a":{"__proto__":{"x":1},"constructor":"c"},"__proto__":{"password":"p"},"prototype":[{"__proto__":2}]}',
    );
    const { payload, redactedFields } = redactPayload(input, FIELDS);
    expect(Object.keys(payload)).toEqual(['a', '__proto__', 'prototype']);
    expect(Object.getPrototypeOf(payload)).toBeNull();
    const a = payload['a'] as Record<string, unknown>;
    expect(Object.keys(a)).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(a['__proto__'] as object)).toEqual(['x']);
    expect(JSON.stringify(payload)).toBe(
      '{"a":{"__proto__":{"x":1},"constructor":"c"},"__proto__":{"password":"[REDACTED]"},"prototype":[{"__proto__":2}]}',
    );
    expect(redactedFields).toEqual(['__proto__.password']);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('names odd keys unambiguously (dots, quotes, digits, unicode)', () => {
    const { redactedFields } = redactPayload(
      parse('{"a.b":{"token":1},"0":{"token":2},"clé":{"secret":"s"},"x\\"y":{"iban":3}}'),
      FIELDS,
    );
    // Object.entries order: integer-like keys first, then as written.
    expect(redactedFields).toEqual(['["0"].token', '["a.b"].token', '["clé"].secret', '["x\\"y"].iban']);
  });

  it('matches case-insensitively and ignores separators (apiKey, API-KEY, api_key)', () => {
    const { redactedFields } = redactPayload({ apiKey: 1, 'API-KEY': 2, cardNumber: 3, IBAN: 4, tokenizer: 5 }, FIELDS);
    expect(redactedFields).toEqual(['apiKey', '["API-KEY"]', 'cardNumber', 'IBAN']);
    expect(normalizeFieldName('Card_Number')).toBe('cardnumber');
  });

  it('leaves payloads without sensitive keys as they are, and does not change the input', () => {
    const input = { a: 1, b: [1, 2, { c: null }], d: 'password', e: REDACTED };
    const { payload, redactedFields } = redactPayload(input, FIELDS);
    expect(payload).toEqual(input);
    expect(redactedFields).toEqual([]);
    const withSecret = { password: 'x', secret: { y: 1 } };
    redactPayload(withSecret, FIELDS);
    expect(withSecret).toEqual({ password: 'x', secret: { y: 1 } });
  });

  it('uses only the configured fields', () => {
    expect(redactPayload({ password: 'x', ssn: '1' }, ['ssn']).payload).toEqual({ password: 'x', ssn: REDACTED });
  });

  it('hides nothing for being deep: 5,000 levels come back whole, iteratively', () => {
    const depth = 5000;
    const text = `${'{"d":'.repeat(depth)}{"token":"t","n":1}${'}'.repeat(depth)}`;
    const { payload, redactedFields } = redactPayload(parse(text), FIELDS);
    expect(redactedFields).toEqual([`${'d.'.repeat(depth)}token`]);
    let at: unknown = payload;
    for (let i = 0; i < depth; i++) at = (at as Record<string, unknown>)['d'];
    expect(at).toEqual({ token: REDACTED, n: 1 });
  });
});

describe('payloadViewProblem', () => {
  it('accepts a payload 64 levels deep and refuses one level more, naming where', () => {
    expect(payloadViewProblem(nested(64))).toBeNull();
    expect(payloadViewProblem(nested(65))).toEqual({
      path: `${'d.'.repeat(63)}d`,
      message: 'nested deeper than 64 levels',
    });
  });

  it('refuses what no view can carry', () => {
    expect(payloadViewProblem(parse('{"a":["x\\u0000"]}'))).toMatchObject({ path: 'a[0]' });
  });
});
