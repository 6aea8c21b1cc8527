import { CodedError } from '@countersign/contracts';
import { Injectable } from '@nestjs/common';
import { AuditRecordRepository, type ChainHead } from '../records/audit-record.repository';
import { ChainVerifier, GENESIS_HASH, type ChainBreakReason } from '../records/hash-chain';

export type VerifyResult =
  | { ok: true; checked: number; last_seq: number }
  | { ok: false; broken_seq: number; reason: ChainBreakReason; detail: string; checked: number };

/**
 * Recomputes the chain from the stored rows: every record's hash, every link, no missing seq, and
 * (when the range reaches the end) the chain head. Streams keyset batches, never the whole table.
 */
@Injectable()
export class VerifyChainUseCase {
  constructor(private readonly records: AuditRecordRepository) {}

  async execute(fromSeq = 1, toSeq?: number): Promise<VerifyResult> {
    if (toSeq !== undefined && toSeq < fromSeq) throw new CodedError('INVALID_REQUEST', 'to_seq must not be below from_seq', 400, { field: 'to_seq' });
    let prevHash = GENESIS_HASH;
    if (fromSeq > 1) {
      const anchor = await this.records.recordHashAt(fromSeq - 1);
      if (anchor === undefined) {
        const head = await this.records.head();
        if (head.seq < fromSeq) return { ok: true, checked: 0, last_seq: head.seq };
        return { ok: false, broken_seq: fromSeq - 1, reason: 'GAP', detail: `seq ${fromSeq - 1}, which the range starts from, is missing`, checked: 0 };
      }
      prevHash = anchor;
    }
    const verifier = new ChainVerifier({ seq: fromSeq, prevHash });
    let head: ChainHead | undefined;
    await this.records.scan(
      fromSeq,
      toSeq,
      (rows) => {
        for (const r of rows) if (verifier.check(r)) return false;
        return true;
      },
      (h) => (head = h),
    );
    const found = verifier.break;
    if (found) return { ok: false, ...found, checked: verifier.checked };
    if (head) {
      const end = Math.min(toSeq ?? head.seq, head.seq);
      const tail =
        end >= head.seq
          ? verifier.checkHead(head)
          : verifier.lastSeq < end
            ? { broken_seq: verifier.lastSeq + 1, reason: 'GAP' as const, detail: `seq ${verifier.lastSeq + 1} is missing` }
            : undefined;
      if (tail) return { ok: false, ...tail, checked: verifier.checked };
    }
    return { ok: true, checked: verifier.checked, last_seq: verifier.lastSeq };
  }
}
