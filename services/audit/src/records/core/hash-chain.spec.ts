import { canonicalJson, sha256Hex } from '@countersign/crypto';
import {
  canonicalRecordText,
  ChainVerifier,
  checkHead,
  GENESIS_HASH,
  linkRecords,
  recordHash,
  splitRange,
  stitchRanges,
  verifyChain,
  verifyRange,
  type ChainedRecord,
} from './hash-chain';

const at = '2026-11-24T10:00:00.000Z';

function body(i: number): string {
  return canonicalJson({
    event_id: `e-${i}`,
    type: 'job.proposed',
    data: { job_id: `job-${i}`, note: 'ünïcödé "quoted" \\ \n\t\u0001 😀', n: i / 3 },
  });
}

function chain(n: number): ChainedRecord[] {
  return linkRecords(
    { seq: 0, record_hash: GENESIS_HASH },
    Array.from({ length: n }, (_, i) => ({
      source_topic: 'job.proposed',
      source_event_id: `e-${i}`,
      event_type: 'job.proposed',
      job_id: i % 3 === 0 ? null : `job-${i}`,
      tenant: i % 2 === 0 ? 'acme' : null,
      recorded_at: at,
      body: body(i),
    })),
  );
}

describe('canonicalRecordText', () => {
  it('is exactly the RFC 8785 canonical JSON of the record without record_hash', () => {
    for (const r of chain(7)) {
      const { record_hash: _h, body: text, ...fields } = r;
      expect(canonicalRecordText(r)).toBe(canonicalJson({ ...fields, body: JSON.parse(text) as unknown }));
    }
  });

  it('hashes that text with SHA-256', () => {
    const [r] = chain(1);
    expect(recordHash(r!)).toBe(sha256Hex(canonicalRecordText(r!)));
  });

  it('refuses a seq that is not a positive safe integer', () => {
    const [r] = chain(1);
    expect(() => canonicalRecordText({ ...r!, seq: 0 })).toThrow(RangeError);
    expect(() => canonicalRecordText({ ...r!, seq: 1.5 })).toThrow(RangeError);
  });
});

describe('linkRecords', () => {
  it('numbers from the head and links each record to the one before, starting at genesis', () => {
    const records = chain(3);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(records[1]!.prev_hash).toBe(records[0]!.record_hash);
    expect(records[2]!.prev_hash).toBe(records[1]!.record_hash);
  });

  it('continues an existing chain', () => {
    const first = chain(2);
    const more = linkRecords({ seq: 2, record_hash: first[1]!.record_hash }, [{ ...first[0]!, body: body(9) }]);
    expect(more[0]).toMatchObject({ seq: 3, prev_hash: first[1]!.record_hash });
    expect(verifyChain([...first, ...more])).toEqual({ ok: true, checked: 3, last_seq: 3 });
  });
});

describe('ChainVerifier', () => {
  it('accepts an intact chain', () => {
    expect(verifyChain(chain(50))).toEqual({ ok: true, checked: 50, last_seq: 50 });
  });

  it('accepts an empty chain', () => {
    expect(verifyChain([])).toEqual({ ok: true, checked: 0, last_seq: 0 });
  });

  it('finds an altered body at its exact seq', () => {
    const records = chain(10);
    records[4] = { ...records[4]!, body: body(99) };
    expect(verifyChain(records)).toMatchObject({ ok: false, broken_seq: 5, reason: 'HASH_MISMATCH' });
  });

  it.each(['source_topic', 'event_type', 'job_id', 'tenant', 'recorded_at', 'source_event_id'] as const)(
    'finds an altered %s',
    (field) => {
      const records = chain(5);
      records[2] = { ...records[2]!, [field]: field === 'recorded_at' ? '2026-11-24T10:00:00.001Z' : 'tampered' };
      expect(verifyChain(records)).toMatchObject({ ok: false, broken_seq: 3, reason: 'HASH_MISMATCH' });
    },
  );

  it('finds a record rewritten with a fresh hash at the next seq, as a broken link', () => {
    const records = chain(6);
    const forged = { ...records[2]!, body: body(42) };
    records[2] = { ...forged, record_hash: recordHash(forged) };
    expect(verifyChain(records)).toMatchObject({ ok: false, broken_seq: 4, reason: 'PREV_HASH_MISMATCH' });
  });

  it('finds a first record that does not start at genesis', () => {
    const [first] = chain(1);
    const forged = { ...first!, prev_hash: 'f'.repeat(64) };
    expect(verifyChain([{ ...forged, record_hash: recordHash(forged) }])).toMatchObject({
      ok: false,
      broken_seq: 1,
      reason: 'PREV_HASH_MISMATCH',
    });
  });

  it('reports a deleted record as a gap at the missing seq', () => {
    const records = chain(10);
    records.splice(6, 1);
    expect(verifyChain(records)).toMatchObject({ ok: false, broken_seq: 7, reason: 'GAP' });
  });

  it('reports a missing first record as a gap at seq 1', () => {
    expect(verifyChain(chain(3).slice(1))).toMatchObject({ ok: false, broken_seq: 1, reason: 'GAP' });
  });

  it('reports records out of order', () => {
    const records = chain(4);
    const swapped = [records[0]!, records[2]!, records[1]!, records[3]!];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, broken_seq: 2, reason: 'GAP' });
  });

  it('verifies a range from an anchor hash', () => {
    const records = chain(10);
    expect(verifyChain(records.slice(5), { seq: 6, prevHash: records[4]!.record_hash })).toEqual({
      ok: true,
      checked: 5,
      last_seq: 10,
    });
    expect(verifyChain(records.slice(5), { seq: 6, prevHash: GENESIS_HASH })).toMatchObject({
      ok: false,
      broken_seq: 6,
      reason: 'PREV_HASH_MISMATCH',
    });
  });

  it('stops at the first break and keeps reporting it', () => {
    const records = chain(5);
    records[1] = { ...records[1]!, tenant: 'evil' };
    records[3] = { ...records[3]!, tenant: 'evil' };
    const v = new ChainVerifier();
    const breaks = records.map((r) => v.check(r));
    expect(breaks[0]).toBeUndefined();
    expect(breaks[1]).toMatchObject({ broken_seq: 2 });
    expect(breaks[4]).toMatchObject({ broken_seq: 2 });
    expect(v.checked).toBe(1);
  });

  describe('against the chain head', () => {
    it('accepts a chain that ends at its head', () => {
      const records = chain(3);
      const v = new ChainVerifier();
      records.forEach((r) => v.check(r));
      expect(v.checkHead({ seq: 3, record_hash: records[2]!.record_hash })).toBeUndefined();
    });

    it('finds records deleted from the end as a gap', () => {
      const records = chain(5);
      const v = new ChainVerifier();
      records.slice(0, 3).forEach((r) => v.check(r));
      expect(v.checkHead({ seq: 5, record_hash: records[4]!.record_hash })).toMatchObject({
        broken_seq: 4,
        reason: 'GAP',
      });
    });

    it('finds a rewritten last record', () => {
      const records = chain(3);
      const forged = { ...records[2]!, body: body(7) };
      records[2] = { ...forged, record_hash: recordHash(forged) };
      const v = new ChainVerifier();
      const head = { seq: 3, record_hash: chain(3)[2]!.record_hash };
      records.forEach((r) => v.check(r));
      expect(v.checkHead(head)).toMatchObject({ broken_seq: 3, reason: 'HASH_MISMATCH' });
    });

    it('finds records past the head', () => {
      const records = chain(3);
      const v = new ChainVerifier();
      records.forEach((r) => v.check(r));
      expect(v.checkHead({ seq: 2, record_hash: records[1]!.record_hash })).toMatchObject({
        broken_seq: 3,
        reason: 'HEAD_MISMATCH',
      });
    });
  });
});

describe('verifying in parallel ranges', () => {
  const verifyInRanges = (records: ChainedRecord[], bounds: [number, number][], start = { prevHash: GENESIS_HASH }) =>
    stitchRanges(
      start,
      bounds.map(([from, to]) =>
        verifyRange(
          from,
          to,
          records.filter((r) => r.seq >= from && r.seq <= to),
        ),
      ),
    );
  const thirds: [number, number][] = [
    [1, 4],
    [5, 8],
    [9, 12],
  ];

  it('agrees with one pass on an intact chain', () => {
    expect(verifyInRanges(chain(12), thirds)).toEqual({
      checked: 12,
      lastSeq: 12,
      lastHash: chain(12)[11]!.record_hash,
    });
  });

  it.each([
    ['a record altered in the middle of a range', 6],
    ['the first record of a range', 5],
    ['the last record of a range', 8],
    ['the first record', 1],
  ])('finds %s at its seq, as one pass does', (_, seq) => {
    const records = chain(12);
    records[seq - 1] = { ...records[seq - 1]!, tenant: 'tampered' };
    const single = verifyChain(records);
    expect(verifyInRanges(records, thirds).break).toMatchObject({ broken_seq: seq, reason: 'HASH_MISMATCH' });
    expect(single).toMatchObject({ ok: false, broken_seq: seq });
  });

  it('finds a record rehashed at the start of a range as a broken link there', () => {
    const records = chain(12);
    const forged = { ...records[4]!, body: body(77) };
    records[4] = { ...forged, record_hash: recordHash(forged) };
    expect(verifyInRanges(records, thirds).break).toMatchObject({ broken_seq: 6, reason: 'PREV_HASH_MISMATCH' });
    const forgedStart = { ...records[3]!, body: body(78) };
    records[3] = { ...forgedStart, record_hash: recordHash(forgedStart) };
    expect(verifyInRanges(records, thirds).break).toMatchObject({ broken_seq: 5, reason: 'PREV_HASH_MISMATCH' });
  });

  it.each([
    ['inside a range', 6],
    ['at the start of a range', 5],
    ['at the end of a range', 8],
  ])('finds a deleted record %s as a gap', (_, seq) => {
    const records = chain(12).filter((r) => r.seq !== seq);
    expect(verifyInRanges(records, thirds).break).toMatchObject({ broken_seq: seq, reason: 'GAP' });
  });

  it('finds a whole range missing as a gap at its start', () => {
    const records = chain(12).filter((r) => r.seq < 5 || r.seq > 8);
    expect(verifyInRanges(records, thirds).break).toMatchObject({ broken_seq: 5, reason: 'GAP' });
  });

  it('reports the first break when several ranges are broken', () => {
    const records = chain(12);
    records[9] = { ...records[9]!, tenant: 'x' };
    records[2] = { ...records[2]!, tenant: 'x' };
    expect(verifyInRanges(records, thirds).break).toMatchObject({ broken_seq: 3 });
  });

  it('checks a range that starts inside the chain against its anchor', () => {
    const records = chain(12);
    expect(verifyInRanges(records, [[5, 12]], { prevHash: records[3]!.record_hash })).toMatchObject({
      checked: 8,
      lastSeq: 12,
    });
    expect(verifyInRanges(records, [[5, 12]], { prevHash: GENESIS_HASH }).break).toMatchObject({
      broken_seq: 5,
      reason: 'PREV_HASH_MISMATCH',
    });
  });

  it('splits large ranges evenly and keeps small ones whole', () => {
    expect(splitRange(1, 10, 4)).toEqual([[1, 10]]);
    expect(splitRange(1, 1_000_000, 2)).toEqual([
      [1, 500_000],
      [500_001, 1_000_000],
    ]);
    expect(splitRange(11, 100_010, 3)).toEqual([
      [11, 33_344],
      [33_345, 66_678],
      [66_679, 100_010],
    ]);
    expect(splitRange(5, 4, 2)).toEqual([]);
  });

  it('checks the end of the chain against the head', () => {
    const records = chain(3);
    expect(checkHead(3, records[2]!.record_hash, { seq: 3, record_hash: records[2]!.record_hash })).toBeUndefined();
    expect(checkHead(0, GENESIS_HASH, { seq: 0, record_hash: GENESIS_HASH })).toBeUndefined();
    expect(checkHead(0, GENESIS_HASH, { seq: 3, record_hash: records[2]!.record_hash })).toMatchObject({
      broken_seq: 1,
      reason: 'GAP',
    });
  });
});

describe('format 2 records', () => {
  const v2 = (i: number) => ({
    source_topic: 'decision.made',
    source_event_id: `e-${i}`,
    event_type: 'decision.made',
    job_id: `job-${i}`,
    tenant: 'acme',
    recorded_at: at,
    body: body(i),
    format: 2,
    kind: i === 2 ? 'conflict' : 'event',
    digest: sha256Hex(`d-${i}`),
    signature: i === 1 ? 'invalid' : 'verified',
    signature_reason: i === 1 ? 'signature does not verify' : null,
    redaction: i === 0 ? canonicalJson({ fields: ['password'], job_hash: 'a'.repeat(64) }) : null,
    conflict: i === 2 ? canonicalJson({ first_digest: 'b'.repeat(64), first_seq: 1 }) : null,
  });
  const mixed = (): ChainedRecord[] => {
    const old = chain(2);
    return [...old, ...linkRecords(old[1]!, [v2(0), v2(1), v2(2)])];
  };

  it('hashes the RFC 8785 canonical JSON of every field, findings included', () => {
    for (const r of mixed().slice(2)) {
      const { record_hash: _h, body: text, redaction, conflict, ...fields } = r;
      expect(canonicalRecordText(r)).toBe(
        canonicalJson({
          ...fields,
          body: JSON.parse(text) as unknown,
          redaction: redaction ? (JSON.parse(redaction) as unknown) : null,
          conflict: conflict ? (JSON.parse(conflict) as unknown) : null,
        }),
      );
    }
  });

  it('verifies a chain of format 1 records followed by format 2 ones', () => {
    expect(verifyChain(mixed())).toEqual({ ok: true, checked: 5, last_seq: 5 });
  });

  it.each([
    ['the signature verdict', { signature: 'invalid' }],
    ['its reason', { signature_reason: 'forged' }],
    ['the kind', { kind: 'conflict' }],
    ['the digest', { digest: 'c'.repeat(64) }],
    ['the redaction', { redaction: null }],
    ['the conflict', { conflict: canonicalJson({ first_digest: 'b'.repeat(64), first_seq: 2 }) }],
    ['the format (read back as 1)', { format: 1 }],
  ])('breaks when %s is changed', (_, change) => {
    const records = mixed();
    records[2] = { ...records[2]!, ...change };
    expect(verifyChain(records)).toMatchObject({ ok: false, broken_seq: 3, reason: 'HASH_MISMATCH' });
  });

  it('refuses an unknown format rather than guessing how it hashes', () => {
    const [r] = mixed().slice(2);
    expect(() => canonicalRecordText({ ...r!, format: 3 })).toThrow(RangeError);
  });
});
