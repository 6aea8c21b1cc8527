import { randomUUID } from 'node:crypto';
import { Topics, exampleEvents, type Topic } from '@countersign/contracts';

/**
 * Hostile Kafka messages written byte by byte. `JSON.stringify` can never write `1e309`, a
 * duplicate key, a lone surrogate as raw bytes or invalid UTF-8, so a corpus built with it misses
 * exactly the messages that stalled the gate (issue 15). Every case here starts from the text of a
 * valid event of its topic (the contracts' fixtures) and splices raw text or bytes into it.
 */

export type PoisonClass =
  | 'non-finite'
  | 'big-integer'
  | 'negative-zero'
  | 'lone-surrogate'
  | 'invalid-utf8'
  | 'bom'
  | 'nul'
  | 'truncated'
  | 'duplicate-key'
  | 'reserved-key'
  | 'deep-nesting'
  | 'size';

/** Where the raw text is spliced: a member of the envelope, of `data`, or of the job.proposed payload. */
export type Slot = 'message' | 'envelope' | 'data' | 'payload' | 'payload-depth-10';

/**
 * What the fixed system must do with a case: `dlq` every consumer of the topic refuses it (with a
 * reason matching `reason`); `deny` policy-decision decides DENY and the agent gets job.blocked
 * DENIED; `normalised` (only `-0`, which RFC 8785, JSON.stringify and jsonb all write as `0`) every
 * consumer takes it as `0`, so the ordinary read it carries runs.
 */
export type PoisonExpectation = 'dlq' | 'deny' | 'normalised';

export interface PoisonCase {
  /** Unique and readable, e.g. `job.proposed 1e309 in payload-depth-10`. */
  name: string;
  topic: Topic;
  kind: PoisonClass;
  slot: Slot;
  /** The job id (or, for policy.activated, the snapshot id) inside the event. */
  jobId: string;
  value: Buffer;
  expect: PoisonExpectation;
  /** The DLQ record's `error` must say this: the refusal names the poison, not an incidental field. */
  reason: RegExp;
}

/** The DLQ reason each class must give (loose on wording, strict on the cause). */
export const REASONS: Record<PoisonClass, RegExp> = {
  'non-finite': /finite|infinity|out of range|too large|1e309|1e400|number/i,
  'big-integer': /integer|2\^53|safe|precision|exactly|number/i,
  'negative-zero': /-0|negative zero|number/i,
  'lone-surrogate': /surrogate/i,
  'invalid-utf8': /utf-?8/i,
  bom: /BOM|byte order mark|U\+FEFF|\\uFEFF/i,
  nul: /NUL|U\+0000|\\u0000|control character/i,
  truncated: /JSON/,
  'duplicate-key': /duplicate/i,
  'reserved-key': /__proto__|constructor|prototype|reserved/,
  'deep-nesting': /deep|depth|nest/i,
  size: /over the \d+-byte limit \(MAX_MESSAGE_BYTES\)/,
};

const SLOT_MARK = (slot: Slot) => `"@@${slot}@@":0,`;
const MARK_RE = /"@@(envelope|data|payload|payload-depth-10)@@":0,/;
const placeholder = (slot: Slot) => ({ [`@@${slot}@@`]: 0 });

/** An object `depth` levels deep whose innermost level carries the payload-depth-10 slot. */
function nestTo(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { ...placeholder('payload-depth-10'), leaf: true };
  for (let d = depth; d > 2; d--) inner = { a: inner };
  return inner;
}

/**
 * A valid event of the topic as text, with a placeholder member at the start of the envelope, of
 * `data` and (job.proposed) of the payload and of an object at payload depth 10. job.proposed is
 * a read that the built-in policy allows, so anything accepted visibly runs or is denied.
 */
export function templateText(topic: Topic, jobId: string): string {
  const example = structuredClone(exampleEvents[topic as keyof typeof exampleEvents]) as unknown as {
    data: Record<string, unknown>;
  } & Record<string, unknown>;
  const now = new Date().toISOString();
  const data: Record<string, unknown> = { ...placeholder('data'), ...example.data };
  if (topic === Topics.PolicyActivated) data['snapshot_id'] = `cfg:tenant:${jobId}:policy#sha256:${'c'.repeat(64)}`;
  else data['job_id'] = jobId;
  if (topic === Topics.JobProposed) {
    Object.assign(data, {
      tenant: 'globex',
      topic: 'job.repo.read',
      risk_tags: [],
      proposed_at: now,
      // payload is depth 1, nest depth 2, and eight `a`s down the slot's object is at depth 10.
      payload: { ...placeholder('payload'), repo: 'api', branch: 'main', nest: nestTo(10) },
    });
  }
  const event = { ...placeholder('envelope'), ...example, event_id: randomUUID(), occurred_at: now, data };
  return JSON.stringify(event);
}

/** The template with `member` (raw text or bytes, e.g. `"x":1e309`) spliced into `slot`; other slots vanish. */
export function splice(template: string, slot: Exclude<Slot, 'message'> | null, member?: string | Buffer): Buffer {
  const parts: Buffer[] = [];
  let rest = template;
  for (let m = MARK_RE.exec(rest); m; m = MARK_RE.exec(rest)) {
    parts.push(Buffer.from(rest.slice(0, m.index)));
    if (m[1] === slot && member !== undefined) parts.push(Buffer.from(member), Buffer.from(','));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(Buffer.from(rest));
  if (slot !== null && member !== undefined && !template.includes(SLOT_MARK(slot)))
    throw new Error(`raw-poison: the template has no ${slot} slot`);
  return Buffer.concat(parts);
}

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** `"x_fuzz":<raw>`: an extra member the schema ignores, so the refusal can only come from the raw value. */
const member = (raw: string | Buffer) => bytes('"x_fuzz":', typeof raw === 'string' ? raw : [...raw]);

const NUMBERS: [PoisonClass, string][] = [
  ['non-finite', '1e309'],
  ['non-finite', '-1e309'],
  ['non-finite', '1e400'],
  ['non-finite', '1E309'],
  ['big-integer', '9007199254740993'],
  ['big-integer', '-9007199254740993'],
  ['big-integer', '123456789012345678901234567890'],
];

/** String values no service can store, hash or show: as JSON escapes and as raw bytes. */
const STRINGS: [PoisonClass, string, Buffer][] = [
  ['lone-surrogate', 'a lone high surrogate escape \\ud800', bytes('"a\\ud800b"')],
  ['lone-surrogate', 'a lone low surrogate escape \\udc00', bytes('"\\udc00"')],
  ['lone-surrogate', 'a reversed surrogate pair escape', bytes('"\\udc00\\ud800"')],
  ['invalid-utf8', 'a lone surrogate as raw bytes (ED A0 80)', bytes('"a', [0xed, 0xa0, 0x80], 'b"')],
  ['invalid-utf8', 'invalid UTF-8 bytes C3 28', bytes('"a', [0xc3, 0x28], 'b"')],
  ['invalid-utf8', 'the byte FF', bytes('"', [0xff], '"')],
  ['invalid-utf8', 'an overlong encoding (C0 AF)', bytes('"', [0xc0, 0xaf], '"')],
  ['nul', 'a NUL escape \\u0000', bytes('"a\\u0000b"')],
  ['nul', 'a raw NUL byte in a string', bytes('"a', [0x00], 'b"')],
];

const RESERVED: [string, string][] = [
  ['__proto__', '"__proto__":{"admin":true}'],
  ['constructor', '"constructor":{"prototype":{"polluted":true}}'],
  ['prototype', '"prototype":{"isAdmin":true}'],
];

/** Nested `depth` deep, as arrays or objects. */
const deep = (depth: number, as: 'array' | 'object') =>
  as === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** The id field every event of the topic requires. */
const idField = (topic: Topic) => (topic === Topics.PolicyActivated ? 'snapshot_id' : 'job_id');

/** Which family of cases a batch holds: the spec checks liveness after each batch. */
export type PoisonFamily = 'numbers' | 'text' | 'structure';
export const FAMILY: Record<PoisonClass, PoisonFamily> = {
  'non-finite': 'numbers',
  'big-integer': 'numbers',
  'negative-zero': 'numbers',
  'lone-surrogate': 'text',
  'invalid-utf8': 'text',
  bom: 'text',
  nul: 'text',
  truncated: 'text',
  'duplicate-key': 'structure',
  'reserved-key': 'structure',
  'deep-nesting': 'structure',
  size: 'structure',
};

/**
 * Every raw case for one topic. `maxMessageBytes` is the consumers' MAX_MESSAGE_BYTES: the size
 * cases sit exactly at it (with a poison inside, so the content is refused) and one byte and four
 * times over it (valid events, refused by size alone).
 */
export function rawPoisons(topic: Topic, maxMessageBytes: number): PoisonCase[] {
  const cases: PoisonCase[] = [];
  const proposed = topic === Topics.JobProposed;
  const add = (
    kind: PoisonClass,
    slot: Slot,
    what: string,
    build: (template: string, jobId: string) => Buffer,
    expect: PoisonExpectation = 'dlq',
    reason: RegExp = REASONS[kind],
  ) => {
    const jobId = `poison-${randomUUID()}`;
    cases.push({
      name: `${topic} ${what}${slot === 'message' ? '' : ` in ${slot}`}`,
      topic,
      kind,
      slot,
      jobId,
      value: build(templateText(topic, jobId), jobId),
      expect,
      reason,
    });
  };
  const slots: Exclude<Slot, 'message'>[] = proposed
    ? ['envelope', 'data', 'payload', 'payload-depth-10']
    : ['envelope', 'data'];

  for (const slot of slots) {
    for (const [kind, n] of NUMBERS) add(kind, slot, n, (t) => splice(t, slot, member(n)));
    for (const [kind, what, raw] of STRINGS) add(kind, slot, what, (t) => splice(t, slot, member(raw)));
    // A poisoned key, not only a poisoned value.
    add('lone-surrogate', slot, 'a lone surrogate escape as a key', (t) => splice(t, slot, '"k\\ud800":1'));
    add('nul', slot, 'a NUL escape in a key', (t) => splice(t, slot, '"k\\u0000":1'));
    for (const [key, raw] of RESERVED) {
      // Inside a job.proposed payload the contract keeps them so the policy can DENY them visibly.
      const inPayload = proposed && slot.startsWith('payload');
      add('reserved-key', slot, `a ${key} key`, (t) => splice(t, slot, raw), inPayload ? 'deny' : 'dlq');
    }
    add('deep-nesting', slot, 'arrays nested 5,000 deep', (t) => splice(t, slot, member(deep(5000, 'array'))));
  }
  // -0: JSON.parse keeps it, but RFC 8785 and jsonb write 0: the contract reads it as 0 everywhere.
  if (proposed)
    for (const slot of ['data', 'payload', 'payload-depth-10'] as const)
      add('negative-zero', slot, '-0', (t) => splice(t, slot, member('-0')), 'normalised');

  // Duplicate keys: JSON.parse keeps the last, a reader in another language may keep the first.
  add('duplicate-key', 'envelope', 'a duplicate event_id', (t) =>
    splice(t, 'envelope', `"event_id":"${randomUUID()}"`),
  );
  add('duplicate-key', 'envelope', 'a duplicate type', (t) => splice(t, 'envelope', `"type":"${topic}"`));
  add('duplicate-key', 'data', `a duplicate ${idField(topic)}`, (t, id) =>
    splice(t, 'data', `"${idField(topic)}":"${id}-other"`),
  );
  add('duplicate-key', 'data', 'the same key twice with the same value', (t) =>
    splice(t, 'data', '"x_fuzz":1,"x_fuzz":1'),
  );
  if (proposed) {
    add('duplicate-key', 'payload', 'a duplicate payload key', (t) => splice(t, 'payload', '"repo":"billing"'));
    add('duplicate-key', 'payload-depth-10', 'a duplicate key at depth 10', (t) =>
      splice(t, 'payload-depth-10', '"leaf":false'),
    );
    add('deep-nesting', 'payload', 'objects nested 5,000 deep', (t) =>
      splice(t, 'payload', member(deep(5000, 'object'))),
    );
    // Past the payload limit (64) but inside the old whole-event limit (100): must be refused, not hidden.
    add('deep-nesting', 'payload', 'objects nested 70 deep', (t) => splice(t, 'payload', member(deep(70, 'object'))));
  }
  add('deep-nesting', 'message', 'a whole message of arrays nested 5,000 deep', () => Buffer.from(deep(5000, 'array')));

  // Whole-message bytes.
  add('bom', 'message', 'a UTF-8 BOM before the event', (t) => bytes([0xef, 0xbb, 0xbf], splice(t, null).toString()));
  add(
    'nul',
    'message',
    'a NUL byte after the event',
    (t) => bytes(splice(t, null).toString(), [0x00]),
    'dlq',
    /NUL|U\+0000|after JSON/,
  );
  add('truncated', 'message', 'truncated by one byte', (t) => splice(t, null).subarray(0, -1));
  add('truncated', 'message', 'truncated at half', (t) => {
    const b = splice(t, null);
    return b.subarray(0, Math.floor(b.length / 2));
  });
  add('truncated', 'message', 'truncated inside the id string', (t, id) => {
    const b = splice(t, null);
    return b.subarray(0, b.indexOf(id) + 5);
  });
  add('truncated', 'message', 'truncated after a key', (t) => {
    const b = splice(t, null);
    return b.subarray(0, b.indexOf('"data":') + 7);
  });

  // Sizes: exactly at the limit (accepted by size, so the poison inside must be what refuses it), and over.
  const padded = (t: string, total: number, poison: string) => {
    const base = splice(t, 'data', `${poison}"x_pad":""`);
    const pad = total - base.length;
    if (pad < 0) throw new Error('raw-poison: template larger than the size asked for');
    return splice(t, 'data', `${poison}"x_pad":"${'x'.repeat(pad)}"`);
  };
  add('non-finite', 'message', `1e309 in a message of exactly MAX_MESSAGE_BYTES (${maxMessageBytes})`, (t) =>
    padded(t, maxMessageBytes, '"x_fuzz":1e309,'),
  );
  add('size', 'message', `a valid event of MAX_MESSAGE_BYTES + 1 (${maxMessageBytes + 1})`, (t) =>
    padded(t, maxMessageBytes + 1, ''),
  );
  add('size', 'message', `a valid event of 4 x MAX_MESSAGE_BYTES (${4 * maxMessageBytes})`, (t) =>
    padded(t, 4 * maxMessageBytes, ''),
  );
  return cases;
}
