import type { Actor } from '@countersign/service-kit';
import type { AuditRecord } from '@countersign/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { recordFilter, type TrailStore } from './trail.port';
import { AuditRecordRepository, toAuditRecord } from '../records/audit-record.repository';
import type { ListRecordsParams } from './trail.schemas';

export interface RecordPage {
  items: AuditRecord[];
  next_cursor: string | null;
}

/** A page of records in seq order; the cursor is the last seq of the page (keyset, so pages never shift). */
@Injectable()
export class ListRecordsQuery {
  constructor(@Inject(AuditRecordRepository) private readonly records: TrailStore) {}

  async execute(q: ListRecordsParams, actor: Pick<Actor, 'tenants'>): Promise<RecordPage> {
    const rows = await this.records.list({
      ...recordFilter(q, actor),
      ...(q.cursor !== undefined ? { afterSeq: Number(q.cursor) } : {}),
      limit: q.limit,
    });
    const items = rows.map(toAuditRecord);
    const last = items[items.length - 1];
    return { items, next_cursor: items.length === q.limit && last ? String(last.seq) : null };
  }
}
