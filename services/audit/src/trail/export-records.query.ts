import type { Actor } from '@countersign/service-kit';
import { BUS_LOGGER } from '@countersign/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { recordFilter, type RecordFilter, type TrailStore } from './trail.port';
import { AuditRecordRepository, toAuditRecord } from '../records/audit-record.repository';
import type { ExportQuery } from './trail.schemas';

const BATCH = 1000;

interface NdjsonSink extends Writable {
  setHeader(name: string, value: string): unknown;
  status(code: number): unknown;
}

/** Streams matching records as NDJSON in seq order, a keyset batch at a time, honouring backpressure. */
@Injectable()
export class ExportRecordsQuery {
  constructor(
    @Inject(AuditRecordRepository) private readonly records: TrailStore,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  async streamTo(q: ExportQuery, actor: Pick<Actor, 'tenants'>, out: NdjsonSink): Promise<void> {
    const filter: Omit<RecordFilter, 'afterSeq'> = {
      ...recordFilter(q, actor),
      limit: BATCH,
    };
    out.status(200);
    out.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    let closed = false;
    out.once('close', () => (closed = true));
    let afterSeq = 0;
    try {
      for (;;) {
        const rows = await this.records.list({ ...filter, afterSeq });
        if (rows.length === 0 || closed) break;
        const chunk = rows.map((r) => `${JSON.stringify(toAuditRecord(r))}\n`).join('');
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
        afterSeq = rows[rows.length - 1]!.seq;
        if (rows.length < BATCH) break;
      }
      out.end();
    } catch (e) {
      // Headers are gone already: cut the stream so the client sees it incomplete, never a partial file that looks whole.
      this.logger.error({ err: e }, 'audit export failed');
      out.destroy(e as Error);
    }
  }
}
