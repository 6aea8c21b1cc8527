import type { AuditRecordEntity } from '../records/audit-record.entity';
import type { RangeResult } from '../records/core/hash-chain';
import type { PolicySnapshotEntity } from '../records/policy-snapshot.entity';

export interface RecordFilter {
  job_id?: string;
  tenant?: string;
  type?: string;
  from?: Date;
  to?: Date;
  /** Only these tenants' records (a token's `tenants` claim); undefined = all. */
  tenants?: readonly string[];
  afterSeq?: number;
  limit: number;
}

export interface ChainHead {
  seq: number;
  record_hash: string;
}

/** What the trail's reads need: PostgreSQL in production (AuditRecordRepository), a fake in unit specs. */
export interface TrailStore {
  /** Records matching the filter, in seq order after `afterSeq`. */
  list(f: RecordFilter): Promise<AuditRecordEntity[]>;
  /** Every record about a job, in seq order. */
  forJob(jobId: string): Promise<AuditRecordEntity[]>;
  snapshot(id: string): Promise<PolicySnapshotEntity | null>;
  head(): Promise<ChainHead>;
  recordHashAt(seq: number): Promise<string | undefined>;
  /** [fromSeq, toSeq] checked range by range in one snapshot, in seq order, with the head of that snapshot. */
  verifyRanges(fromSeq: number, toSeq: number | undefined): Promise<{ head: ChainHead; ranges: RangeResult[] }>;
}
