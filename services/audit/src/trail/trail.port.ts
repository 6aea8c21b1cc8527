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

/** The filter a query's parameters and its token's tenants ask for, only the keys given (no paging). */
export function recordFilter(
  q: Pick<RecordFilter, 'job_id' | 'tenant' | 'type' | 'from' | 'to'>,
  actor: { tenants?: readonly string[] | undefined },
): Omit<RecordFilter, 'afterSeq' | 'limit'> {
  return {
    ...(q.job_id !== undefined ? { job_id: q.job_id } : {}),
    ...(q.tenant !== undefined ? { tenant: q.tenant } : {}),
    ...(q.type !== undefined ? { type: q.type } : {}),
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
    ...(actor.tenants !== undefined ? { tenants: actor.tenants } : {}),
  };
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
