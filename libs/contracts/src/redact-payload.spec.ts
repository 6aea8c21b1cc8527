import { normalizeFieldName, redactPayload, REDACTED } from './redact-payload';

const FIELDS = ['password', 'secret', 'token', 'api_key', 'authorization', 'card_number', 'iban'];

describe('redactPayload', () => {
  it('redacts matching keys at any depth, in arrays too, and lists their paths', () => {
    const { payload, redactedFields } = redactPayload(
      {
        user: 'svc',
        Password: 'hunter2',
        db: { conn: { secret: { nested: 'x' } } },
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

  it('matches case-insensitively and ignores separators (apiKey, API-KEY, api_key)', () => {
    const { redactedFields } = redactPayload({ apiKey: 1, 'API-KEY': 2, cardNumber: 3, IBAN: 4, tokenizer: 5 }, FIELDS);
    expect(redactedFields).toEqual(['apiKey', '["API-KEY"]', 'cardNumber', 'IBAN']);
    expect(normalizeFieldName('Card_Number')).toBe('cardnumber');
  });

  it('leaves payloads without sensitive keys as they are, and does not change the input', () => {
    const input = { a: 1, b: [1, 2, { c: null }], d: 'password' };
    const { payload, redactedFields } = redactPayload(input, FIELDS);
    expect(payload).toEqual(input);
    expect(redactedFields).toEqual([]);
    const withSecret = { password: 'x' };
    redactPayload(withSecret, FIELDS);
    expect(withSecret.password).toBe('x');
  });

  it('uses only the configured fields', () => {
    expect(redactPayload({ password: 'x', ssn: '1' }, ['ssn']).payload).toEqual({ password: 'x', ssn: REDACTED });
  });

  it('hides what lies deeper than it will walk', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 80; i++) deep = { d: deep };
    const { redactedFields } = redactPayload(deep, FIELDS);
    expect(redactedFields).toHaveLength(1);
  });
});
