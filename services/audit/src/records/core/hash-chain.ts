import { hash } from 'node:crypto';

/** `prev_hash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed-entry formats: 1 as first released; 2 adds what audit itself found about the record. */
export const ENTRY_FORMATS = [1, 2] as const;
export type EntryFormat = (typeof ENTRY_FORMATS)[number];
/** The format new records are written in. */
export const CURRENT_FORMAT: EntryFormat = 2;

/**
 * What a record's hash covers: every field of the audit record except `record_hash`. `body` is
 * held as its RFC 8785 canonical JSON text, so the record's canonical form is assembled by
 * concatenation instead of re-canonicalising the body: that is what makes verify fast.
 * Format 1 records have none of the format 2 fields (absent, not null), so they hash as they always did.
 */
export interface ChainedFields {
  seq: number;
  prev_hash: string;
  source_topic: string;
  source_event_id: string | null;
  event_type: string;
  job_id: string | null;
  tenant: string | null;
  /** ISO-8601 UTC with milliseconds, exactly as hashed (`2026-11-24T10:00:00.000Z`). */
  recorded_at: string;
  /** The body's canonical JSON text. */
  body: string;
  /** Absent or 1: the original format; 2: the fields below are hashed too. */
  format?: number;
  /** `event`, `conflict` (a different body under a recorded topic + event_id) or `rejected_input` (a DLQ message). */
  kind?: string | null;
  /** SHA-256 hex of the canonical JSON of the message as received, `trace` excluded (the stored body may be redacted). */
  digest?: string | null;
  /** The signature verdict: `verified`, `invalid` or `unsigned` (a topic the contract does not sign). */
  signature?: string | null;
  /** Why the signature is invalid; null otherwise. */
  signature_reason?: string | null;
  /** Canonical JSON text of `{ fields, job_hash }` when the body's payload was redacted before storing; else null. */
  redaction?: string | null;
  /** Canonical JSON text of `{ first_seq, first_digest }` for a conflict record; else null. */
  conflict?: string | null;
}

export interface ChainedRecord extends ChainedFields {
  record_hash: string;
}

/** How a format 1 record is stored: format 1, the format 2 columns null. */
export const FORMAT_1_COLUMNS = {
  format: 1,
  kind: null,
  digest: null,
  signature: null,
  signature_reason: null,
  redaction: null,
  conflict: null,
} as const satisfies Partial<ChainedFields>;

const str = (v: string) => JSON.stringify(v);
const nullable = (v: string | null) => (v === null ? 'null' : JSON.stringify(v));

/**
 * The RFC 8785 canonical JSON of the record without `record_hash`. RFC 8785 serialises strings as
 * ECMAScript's JSON.stringify does and orders keys by UTF-16 code units, which for these ASCII
 * names is the order written here; the spec checks this equals `canonicalJson(...)`.
 */
export function canonicalRecordText(r: ChainedFields): string {
  return `{"body":${r.body}${canonicalTail(r)}`;
}

/** Everything after the body, which RFC 8785 orders first. */
function canonicalTail(r: ChainedFields): string {
  if (!Number.isSafeInteger(r.seq) || r.seq < 1)
    throw new RangeError(`seq must be a positive safe integer, got ${r.seq}`);
  if (r.format === undefined || r.format === 1) {
    return (
      `,"event_type":${str(r.event_type)}` +
      `,"job_id":${nullable(r.job_id)}` +
      `,"prev_hash":${str(r.prev_hash)}` +
      `,"recorded_at":${str(r.recorded_at)}` +
      `,"seq":${r.seq}` +
      `,"source_event_id":${nullable(r.source_event_id)}` +
      `,"source_topic":${str(r.source_topic)}` +
      `,"tenant":${nullable(r.tenant)}}`
    );
  }
  if (r.format !== 2) throw new RangeError(`unknown record format ${r.format}`);
  // redaction and conflict are canonical JSON texts already (written by canonicalJson).
  return (
    `,"conflict":${r.conflict ?? 'null'}` +
    `,"digest":${nullable(r.digest ?? null)}` +
    `,"event_type":${str(r.event_type)}` +
    `,"format":2` +
    `,"job_id":${nullable(r.job_id)}` +
    `,"kind":${nullable(r.kind ?? null)}` +
    `,"prev_hash":${str(r.prev_hash)}` +
    `,"recorded_at":${str(r.recorded_at)}` +
    `,"redaction":${r.redaction ?? 'null'}` +
    `,"seq":${r.seq}` +
    `,"signature":${nullable(r.signature ?? null)}` +
    `,"signature_reason":${nullable(r.signature_reason ?? null)}` +
    `,"source_event_id":${nullable(r.source_event_id)}` +
    `,"source_topic":${str(r.source_topic)}` +
    `,"tenant":${nullable(r.tenant)}}`
  );
}

/** SHA-256 hex of the canonical text (one-shot `crypto.hash`, measurably the cheapest: verify does this a million times). */
export function recordHash(r: ChainedFields): string {
  return hash('sha256', canonicalRecordText(r), 'hex');
}

/** Links new records onto a chain whose last record is `head`, numbering them from head.seq + 1. */
export function linkRecords<T extends Omit<ChainedFields, 'seq' | 'prev_hash'>>(
  head: { seq: number; record_hash: string },
  records: readonly T[],
): (T & { seq: number; prev_hash: string; record_hash: string })[] {
  let seq = head.seq;
  let prev = head.record_hash;
  return records.map((r) => {
    seq += 1;
    const linked = { ...r, seq, prev_hash: prev };
    const record_hash = recordHash(linked);
    prev = record_hash;
    return { ...linked, record_hash };
  });
}

export type ChainBreakReason = 'HASH_MISMATCH' | 'PREV_HASH_MISMATCH' | 'GAP' | 'HEAD_MISMATCH';

export interface ChainBreak {
  broken_seq: number;
  reason: ChainBreakReason;
  detail: string;
}

export interface VerifyStart {
  /** The first seq expected (1 for the whole chain). */
  seq: number;
  /**
   * The hash the first record must name as prev_hash: genesis for seq 1, else record seq-1's hash.
   * null for a range verified on its own: its first link is checked when ranges are stitched.
   */
  prevHash: string | null;
}

/**
 * Checks records one at a time, in seq order, so a caller can stream millions of them through it.
 * Stops at the first break: after a break the rest of the chain is untrustworthy anyway.
 */
export class ChainVerifier {
  private expectedSeq: number;
  private lastHash: string | null;
  private count = 0;
  private broken: ChainBreak | undefined;
  private firstPrev: string | null = null;

  constructor(start: VerifyStart = { seq: 1, prevHash: GENESIS_HASH }) {
    this.expectedSeq = start.seq;
    this.lastHash = start.prevHash;
  }

  /** prev_hash of the first record checked (what an open-start range must be stitched to). */
  get firstPrevHash(): string | null {
    return this.firstPrev;
  }

  get checked(): number {
    return this.count;
  }

  /** The last seq verified, 0 when none. */
  get lastSeq(): number {
    return this.expectedSeq - 1;
  }

  get lastRecordHash(): string | null {
    return this.lastHash;
  }

  get break(): ChainBreak | undefined {
    return this.broken;
  }

  /** Returns the break this record reveals, if any; once broken, the verifier ignores further input. */
  check(r: ChainedRecord): ChainBreak | undefined {
    if (this.broken) return this.broken;
    if (r.seq !== this.expectedSeq) {
      return this.fail(
        r.seq > this.expectedSeq
          ? {
              broken_seq: this.expectedSeq,
              reason: 'GAP',
              detail: `seq ${this.expectedSeq} is missing (next present is ${r.seq})`,
            }
          : { broken_seq: r.seq, reason: 'GAP', detail: `seq ${r.seq} out of order (expected ${this.expectedSeq})` },
      );
    }
    const actual = recordHash(r);
    if (actual !== r.record_hash) {
      return this.fail({
        broken_seq: r.seq,
        reason: 'HASH_MISMATCH',
        detail: `record_hash does not match the record's content`,
      });
    }
    if (this.count === 0) this.firstPrev = r.prev_hash;
    if (this.lastHash !== null && r.prev_hash !== this.lastHash) {
      return this.fail({
        broken_seq: r.seq,
        reason: 'PREV_HASH_MISMATCH',
        detail:
          r.seq === 1
            ? 'the first record does not start from the genesis hash'
            : `prev_hash does not equal record ${r.seq - 1}'s hash`,
      });
    }
    this.count += 1;
    this.expectedSeq += 1;
    this.lastHash = r.record_hash;
    return undefined;
  }

  /**
   * After the last record: the chain must end where its head says it does, so a record deleted
   * from the end (or the end rewritten) is found too.
   */
  checkHead(head: { seq: number; record_hash: string }): ChainBreak | undefined {
    if (this.broken) return this.broken;
    const b = checkHead(this.lastSeq, this.lastHash, head);
    return b ? this.fail(b) : undefined;
  }

  private fail(b: ChainBreak): ChainBreak {
    this.broken = b;
    return b;
  }
}

/**
 * The chain must end where its head row says: records deleted from the end (or the end rewritten)
 * leave the head pointing past them.
 */
export function checkHead(
  lastSeq: number,
  lastHash: string | null,
  head: { seq: number; record_hash: string },
): ChainBreak | undefined {
  if (head.seq > lastSeq)
    return {
      broken_seq: lastSeq + 1,
      reason: 'GAP',
      detail: `the chain head is at ${head.seq} but records end at ${lastSeq}`,
    };
  if (head.seq < lastSeq)
    return {
      broken_seq: head.seq + 1,
      reason: 'HEAD_MISMATCH',
      detail: `records run past the chain head (${head.seq})`,
    };
  if (lastSeq > 0 && head.record_hash !== lastHash) {
    return {
      broken_seq: lastSeq,
      reason: 'HASH_MISMATCH',
      detail: 'the last record differs from the one the chain head recorded',
    };
  }
  return undefined;
}

/** What verifying one seq range on its own found: enough to stitch it to its neighbours. */
export interface RangeResult {
  from: number;
  to: number;
  checked: number;
  /** prev_hash of the record at `from` (null if that record is missing, which `break` then reports). */
  firstPrevHash: string | null;
  lastSeq: number;
  lastHash: string | null;
  break?: ChainBreak;
}

/** Verifies the records of [from, to] without knowing the hash before `from`; a missing tail is a gap. */
export function verifyRange(from: number, to: number, records: Iterable<ChainedRecord>): RangeResult {
  const v = new ChainVerifier({ seq: from, prevHash: null });
  for (const r of records) if (v.check(r)) break;
  return rangeResult(from, to, v);
}

export function rangeResult(from: number, to: number, v: ChainVerifier): RangeResult {
  let found = v.break;
  if (!found && v.lastSeq < to)
    found = { broken_seq: v.lastSeq + 1, reason: 'GAP', detail: `seq ${v.lastSeq + 1} is missing` };
  return {
    from,
    to,
    checked: v.checked,
    firstPrevHash: v.firstPrevHash,
    lastSeq: v.lastSeq,
    lastHash: v.lastRecordHash,
    ...(found ? { break: found } : {}),
  };
}

/** Below this many records a verify worker costs more to start than it saves. */
export const PARALLEL_FROM = 50_000;

/** Splits [from, to] into at most `parts` contiguous ranges of near-equal size (one when small). */
export function splitRange(from: number, to: number, parts: number): [number, number][] {
  if (to < from) return [];
  const count = to - from + 1;
  const n = count < PARALLEL_FROM ? 1 : Math.max(1, Math.min(parts, count));
  const size = Math.ceil(count / n);
  const out: [number, number][] = [];
  for (let a = from; a <= to; a += size) out.push([a, Math.min(a + size - 1, to)]);
  return out;
}

/**
 * Joins ranges verified independently (in parallel) into the verdict a single pass would give:
 * the first break in seq order, where a range's first link counts as checked right after its
 * first record's own hash (the order ChainVerifier.check uses).
 */
export function stitchRanges(
  start: { prevHash: string },
  ranges: readonly RangeResult[],
): { checked: number; lastSeq: number; lastHash: string; break?: ChainBreak } {
  let prev = start.prevHash;
  let checked = 0;
  let lastSeq = (ranges[0]?.from ?? 1) - 1;
  for (const r of ranges) {
    const result = (b: ChainBreak) => ({
      checked: checked + Math.max(0, Math.min(r.checked, b.broken_seq - r.from)),
      lastSeq,
      lastHash: prev,
      break: b,
    });
    if (r.break && r.break.broken_seq <= r.from) return result(r.break);
    if (r.firstPrevHash !== prev) {
      return result({
        broken_seq: r.from,
        reason: 'PREV_HASH_MISMATCH',
        detail:
          r.from === 1
            ? 'the first record does not start from the genesis hash'
            : `prev_hash does not equal record ${r.from - 1}'s hash`,
      });
    }
    if (r.break) return result(r.break);
    checked += r.checked;
    lastSeq = r.lastSeq;
    prev = r.lastHash ?? prev;
  }
  return { checked, lastSeq, lastHash: prev };
}

/** Verifies a whole in-memory chain (tests, the CLI's export check). */
export function verifyChain(
  records: Iterable<ChainedRecord>,
  start?: VerifyStart,
): { ok: true; checked: number; last_seq: number } | ({ ok: false } & ChainBreak) {
  const v = new ChainVerifier(start);
  for (const r of records) {
    const b = v.check(r);
    if (b) return { ok: false, ...b };
  }
  return { ok: true, checked: v.checked, last_seq: v.lastSeq };
}
