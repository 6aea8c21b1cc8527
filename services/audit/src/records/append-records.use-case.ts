import { Inject, Injectable } from '@nestjs/common';
import type { AppendResult, EntryToAppend } from './audit-record.repository';
import { GroupCommitter } from '@countersign/bus';
import { CLOCK, type Clock } from '@countersign/clock';
import { AUDIT_CONFIG, type AuditConfig } from '../config/audit-config';

export const APPEND_STORE = Symbol('APPEND_STORE');

/** The store the use case appends through (the repository; a fake in unit specs). */
export interface AppendStore {
  append(entries: readonly EntryToAppend[], now: Date): Promise<AppendResult[]>;
}

/**
 * Appends one entry to the chain, once. Concurrent calls (one per partition being consumed) are
 * committed together, so the chain head is locked once per batch instead of once per record; each
 * call still resolves only after its record is committed, so no offset moves before the record exists.
 */
@Injectable()
export class AppendRecordsUseCase {
  private readonly committer: GroupCommitter<EntryToAppend, AppendResult>;

  constructor(
    @Inject(APPEND_STORE) store: AppendStore,
    @Inject(AUDIT_CONFIG) settings: Pick<AuditConfig, 'appendBatchMax'>,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.committer = new GroupCommitter((entries) => store.append(entries, clock.now()), settings.appendBatchMax);
  }

  execute(entry: EntryToAppend): Promise<AppendResult> {
    return this.committer.submit(entry);
  }
}
