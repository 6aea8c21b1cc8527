import { findReservedKey, RESERVED_KEYS, reservedKeyReason } from './reserved-keys';

// Raw JSON text on purpose: JSON.parse makes `"__proto__"` an own property, an object literal would
// set the prototype instead and the test would not test anything.
const parse = (text: string): unknown => JSON.parse(text);

describe('findReservedKey', () => {
  it('lists exactly __proto__, constructor and prototype', () => {
    expect([...RESERVED_KEYS]).toEqual(['__proto__', 'constructor', 'prototype']);
  });

  it.each([
    ['{"__proto__":{"admin":true}}', '__proto__'],
    ['{"a":{"b":{"__proto__":1}}}', 'a.b.__proto__'],
    ['{"items":[{"ok":1},{"constructor":{"prototype":2}}]}', 'items[1].constructor'],
    ['{"x":[[{"prototype":null}]]}', 'x[0][0].prototype'],
    ['{"odd key":{"__proto__":"s"}}', '["odd key"].__proto__'],
    ['[{"a":1},{"__proto__":{}}]', '[1].__proto__'],
  ])('finds the reserved key in %s at %s', (text, path) => {
    expect(findReservedKey(parse(text))).toEqual({ path });
  });

  it('checks an object’s own keys before what they hold, siblings in document order', () => {
    expect(findReservedKey(parse('{"a":{"__proto__":1},"constructor":2}'))).toEqual({ path: 'constructor' });
    expect(findReservedKey(parse('{"a":{"prototype":1},"b":{"__proto__":2}}'))).toEqual({ path: 'a.prototype' });
  });

  it.each([
    '{}',
    '{"a":1,"b":[1,"__proto__",{"c":null}]}',
    '{"Constructor":1,"__proto":2,"proto":3,"prototypes":4,"__PROTO__":5}',
    '{"text":"constructor"}',
    '"__proto__"',
    'null',
    '42',
  ])('finds nothing in %s (only keys count, exactly as spelled)', (text) => {
    expect(findReservedKey(parse(text))).toBeNull();
  });

  it('walks 100,000 levels without overflowing its own stack', () => {
    const depth = 100000;
    const text = `${'{"a":'.repeat(depth)}{"__proto__":1}${'}'.repeat(depth)}`;
    const found = findReservedKey(parse(text));
    expect(found?.path).toBe(`${'a.'.repeat(depth)}__proto__`);
    expect(findReservedKey(JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`))).toBeNull();
  });
});

describe('reservedKeyReason', () => {
  it('names the path under payload', () => {
    expect(reservedKeyReason('a.b.__proto__')).toMatch(
      /^The payload carries the reserved key payload\.a\.b\.__proto__ \(__proto__, constructor, prototype are refused/,
    );
  });

  it('shortens a long path in the middle, keeping the key itself', () => {
    const path = `${'segment.'.repeat(5000)}__proto__`;
    const reason = reservedKeyReason(path);
    expect(reason.length).toBeLessThan(600);
    expect(reason).toContain('payload.segment.segment');
    expect(reason).toContain('…');
    expect(reason).toContain('segment.__proto__ (');
  });
});
