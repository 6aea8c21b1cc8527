import type { AuditRecordEntity } from '../records/audit-record.entity';
import { splitRange, verifyRange, type ChainedRecord } from '../records/core/hash-chain';
import type { PolicySnapshotEntity } from '../records/policy-snapshot.entity';
import type { ChainHead, RecordFilter, TrailStore } from './trail.port';

/**
 * TrailStore in memory, for use-case specs. `verifyRanges` checks ranges with the same pure
 * `verifyRange` the repository's worker threads run, split into `parts` ranges.
 */
export class FakeTrailStore implements TrailStore {
  readonly records = new Map<number, AuditRecordEntity>();
  readonly snapshots = new Map<string, PolicySnapshotEntity>();
  chainHead: ChainHead = { seq: 0, record_hash: '' };
  readonly listCalls: RecordFilter[] = [];

  constructor(private readonly parts = 2) {}

  add(...records: AuditRecordEntity[]): this {
    for (const r of records) this.records.set(r.seq, r);
    const last = [...this.records.values()].sort((a, b) => b.seq - a.seq)[0];
    if (last) this.chainHead = { seq: last.seq, record_hash: last.record_hash };
    return this;
  }

  async list(f: RecordFilter): Promise<AuditRecordEntity[]> {
    this.listCalls.push(f);
    return this.sorted()
      .filter(
        (r) =>
          (f.afterSeq === undefined || r.seq > f.afterSeq) &&
          (f.job_id === undefined || r.job_id === f.job_id) &&
          (f.tenant === undefined || r.tenant === f.tenant) &&
          (f.type === undefined || r.event_type === f.type) &&
          (f.from === undefined || r.recorded_at >= f.from) &&
          (f.to === undefined || r.recorded_at < f.to) &&
          (f.tenants === undefined || (r.tenant !== null && f.tenants.includes(r.tenant))),
      )
      .slice(0, f.limit);
  }

  async forJob(jobId: string): Promise<AuditRecordEntity[]> {
    return this.sorted().filter((r) => r.job_id === jobId);
  }

  async snapshot(id: string): Promise<PolicySnapshotEntity | null> {
    return this.snapshots.get(id) ?? null;
  }

  async head(): Promise<ChainHead> {
    return { ...this.chainHead };
  }

  async recordHashAt(seq: number): Promise<string | undefined> {
    return this.records.get(seq)?.record_hash;
  }

  async verifyRanges(fromSeq: number, toSeq: number | undefined) {
    const max = Math.max(0, ...this.records.keys());
    const upper = Math.min(toSeq ?? Number.MAX_SAFE_INTEGER, max);
    const ranges = splitRange(fromSeq, upper, this.parts).map(([from, to]) =>
      verifyRange(
        from,
        to,
        this.sorted()
          .filter((r) => r.seq >= from && r.seq <= to)
          .map((r) => chained(r)),
      ),
    );
    return { head: { ...this.chainHead }, ranges };
  }

  private sorted(): AuditRecordEntity[] {
    return [...this.records.values()].sort((a, b) => a.seq - b.seq);
  }
}

/** The record as hashed: format 1 records have none of the format 2 fields (absent, not null). */
function chained(r: AuditRecordEntity): ChainedRecord {
  const {
    recorded_at,
    dedupe_key: _dedupe,
    format,
    kind,
    digest,
    signature,
    signature_reason,
    redaction,
    conflict,
    ...common
  } = r;
  const findings = { format, kind, digest, signature, signature_reason, redaction, conflict };
  return { ...common, recorded_at: recorded_at.toISOString(), ...(format === 2 ? findings : {}) };
}
