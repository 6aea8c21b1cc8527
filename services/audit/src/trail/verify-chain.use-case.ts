import { rangeReversed } from './trail.errors';
import { Inject, Injectable } from '@nestjs/common';
import type { TrailStore } from './trail.port';
import { AuditRecordRepository } from '../records/audit-record.repository';
import { checkHead, GENESIS_HASH, stitchRanges, type ChainBreakReason } from '../records/core/hash-chain';

export type VerifyResult =
  | { ok: true; checked: number; last_seq: number }
  | { ok: false; broken_seq: number; reason: ChainBreakReason; detail: string; checked: number };

/**
 * Recomputes the chain from the stored rows: every record's hash, every link, no missing seq, and
 * (when the range reaches the end) the chain head. The rows are streamed in keyset batches, never
 * loaded whole, by worker threads each taking a seq range of one snapshot; the ranges are then
 * stitched, so the answer is the first break in seq order, as a single pass would find it.
 */
@Injectable()
export class VerifyChainUseCase {
  constructor(@Inject(AuditRecordRepository) private readonly records: TrailStore) {}

  async execute(fromSeq = 1, toSeq?: number): Promise<VerifyResult> {
    if (toSeq !== undefined && toSeq < fromSeq) throw rangeReversed();
    let prevHash = GENESIS_HASH;
    if (fromSeq > 1) {
      const anchor = await this.records.recordHashAt(fromSeq - 1);
      if (anchor === undefined) {
        const head = await this.records.head();
        if (head.seq < fromSeq) return { ok: true, checked: 0, last_seq: head.seq };
        return {
          ok: false,
          broken_seq: fromSeq - 1,
          reason: 'GAP',
          detail: `seq ${fromSeq - 1}, which the range starts from, is missing`,
          checked: 0,
        };
      }
      prevHash = anchor;
    }
    const { head, ranges } = await this.records.verifyRanges(fromSeq, toSeq);
    const stitched = stitchRanges({ prevHash }, ranges);
    if (stitched.break) return { ok: false, ...stitched.break, checked: stitched.checked };
    const lastSeq = ranges.length > 0 ? stitched.lastSeq : fromSeq - 1;
    // The end of the chain is checked against its head whenever the range reaches it.
    if (toSeq === undefined || toSeq >= head.seq) {
      const tail = checkHead(lastSeq, stitched.lastHash, head);
      if (tail) return { ok: false, ...tail, checked: stitched.checked };
    } else if (lastSeq < toSeq) {
      return {
        ok: false,
        broken_seq: lastSeq + 1,
        reason: 'GAP',
        detail: `seq ${lastSeq + 1} is missing`,
        checked: stitched.checked,
      };
    }
    return { ok: true, checked: stitched.checked, last_seq: lastSeq };
  }
}
