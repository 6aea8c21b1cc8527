import fc from 'fast-check';
import { exampleEvents, parseEvent, type Topic } from '@countersign/contracts';
import { CONSUMERS } from './security-stack';

export type FuzzKind =
  | 'random-bytes'
  | 'empty'
  | 'tombstone'
  | 'json-garbage'
  | 'wrong-type'
  | 'null-field'
  | 'huge-field'
  | 'deep-nesting'
  | 'truncated-json'
  | 'sql-metacharacters';

export interface FuzzMessage {
  index: number;
  key: string;
  topic: Topic;
  kind: FuzzKind;
  value: Buffer | null;
  /** `size`: over the consumers' MAX_MESSAGE_BYTES; `contract`: fails parsing or the event schema. */
  refusal: 'size' | 'contract';
}

const FUZZED_TOPICS = Object.keys(CONSUMERS) as Topic[];

const example = (topic: Topic) =>
  structuredClone(exampleEvents[topic as keyof typeof exampleEvents]) as unknown as Record<string, unknown>;

/** A required field of every event of the topic: breaking it makes the event invalid. */
const idField = (topic: Topic) => (topic === 'policy.activated' ? 'snapshot_id' : 'job_id');

const ENVELOPE_FIELDS = ['event_id', 'type', 'schema_version', 'occurred_at', 'producer', 'data'] as const;

/** A value of the wrong JSON type for any envelope field or id (never a string, never the literal 1). */
const wrongValue = fc.oneof(
  fc.integer().filter((n) => n !== 1),
  fc.double({ noNaN: true }).filter((n) => n !== 1),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

const SQL = [
  "'; DROP TABLE approval_items; --",
  "' OR '1'='1",
  '1; DELETE FROM execution_binding.jobs',
  "job-1' UNION SELECT * FROM pg_user --",
  '$$; SELECT pg_sleep(10); $$',
  '\\x00\'"`;--/*',
];

function withField(topic: Topic, path: 'envelope' | 'data', field: string, value: unknown): Record<string, unknown> {
  const e = example(topic);
  if (path === 'envelope') e[field] = value;
  else (e['data'] as Record<string, unknown>)[field] = value;
  return e;
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** One fuzzed message for a topic, of any kind. */
function messageFor(topic: Topic): fc.Arbitrary<{ kind: FuzzKind; value: Buffer | null }> {
  const id = idField(topic);
  const field = fc.oneof(
    fc.constantFrom(...ENVELOPE_FIELDS).map((f) => ({ path: 'envelope' as const, f })),
    fc.constant({ path: 'data' as const, f: id }),
  );
  return fc.oneof(
    {
      weight: 48,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 2048 })
        .map((b) => ({ kind: 'random-bytes' as const, value: Buffer.from(b) })),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'empty' as const, value: Buffer.alloc(0) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'tombstone' as const, value: null }) },
    {
      weight: 48,
      arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'json-garbage' as const, value: json(v) })),
    },
    {
      weight: 64,
      arbitrary: fc
        .tuple(field, wrongValue)
        .map(([{ path, f }, v]) => ({ kind: 'wrong-type' as const, value: json(withField(topic, path, f, v)) })),
    },
    {
      weight: 32,
      arbitrary: fc
        .oneof(
          field.map(({ path, f }) => json(withField(topic, path, f, null))),
          fc.constant(Buffer.from('null')),
        )
        .map((value) => ({ kind: 'null-field' as const, value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('producer', id), fc.integer({ min: 8 * 1024, max: 300 * 1024 }))
        .map(([f, n]) => ({
          kind: 'huge-field' as const,
          value: json(withField(topic, f === 'producer' ? 'envelope' : 'data', f, 'x'.repeat(n))),
        })),
    },
    {
      weight: 12,
      arbitrary: fc.tuple(fc.boolean(), fc.integer({ min: 64, max: 20000 })).map(([whole, depth]) => ({
        kind: 'deep-nesting' as const,
        // Nested arrays as the whole value, or where the id string should be.
        value: whole
          ? Buffer.from(nested(depth))
          : Buffer.from(JSON.stringify(withField(topic, 'data', id, '@@')).replace('"@@"', nested(depth))),
      })),
    },
    {
      weight: 40,
      arbitrary: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }).map((at) => {
        const text = JSON.stringify(example(topic));
        return {
          kind: 'truncated-json' as const,
          value: Buffer.from(text.slice(0, Math.max(1, Math.floor(at * text.length)))),
        };
      }),
    },
    {
      weight: 24,
      arbitrary: fc.tuple(fc.constantFrom(...SQL), fc.constantFrom('envelope', 'data')).map(([sql, where]) => ({
        kind: 'sql-metacharacters' as const,
        value: json(
          where === 'data' ? withField(topic, 'data', id, sql) : withField(topic, 'envelope', 'event_id', sql),
        ),
      })),
    },
  );
}

/**
 * `count` fuzzed Kafka messages spread over every consumed topic, reproducible from `seed`. Each is
 * checked here to be one the consumers must refuse, and says why: over `maxMessageBytes`, or not a
 * valid event of its topic.
 */
export function fuzzMessages(seed: number, count: number, maxMessageBytes: number): FuzzMessage[] {
  const arb = fc.constantFrom(...FUZZED_TOPICS).chain((topic) => messageFor(topic).map((m) => ({ ...m, topic })));
  return fc.sample(arb, { seed, numRuns: count }).map((m, index) => {
    const size = m.value?.length ?? 0;
    const refusal = size > maxMessageBytes ? ('size' as const) : ('contract' as const);
    if (refusal === 'contract' && parseEvent(m.topic, m.value).ok)
      throw new Error(`fuzz generator bug (seed ${seed}, #${index}, ${m.kind}): a valid ${m.topic} event`);
    return { index, key: `fuzz-${seed}-${index}`, topic: m.topic, kind: m.kind, value: m.value, refusal };
  });
}
