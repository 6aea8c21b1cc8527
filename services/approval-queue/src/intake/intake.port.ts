import type { ApprovalItemEntity } from '../approvals/approval-item.entity';

/**
 * What intake reads and writes of a job's row. The payload is write-only here: the batch pass never
 * needs a stored payload back (only its hash, `proposalHash`), so locking a row does not read it.
 */
export type IntakeItemRow = Omit<
  ApprovalItemEntity,
  | 'payload'
  | 'redactedFields'
  | 'escalatedAt'
  | 'resolvedBy'
  | 'resolvedComment'
  | 'resolvedAt'
  | 'createdAt'
  | 'updatedAt'
>;

/** A row to write back; `payload` only when it changes (stored with a proposal, or dropped). */
export interface IntakeWrite {
  row: IntakeItemRow;
  payload?: { payload: Record<string, unknown> | null; redactedFields: string[] };
}

/** An event a consumer takes: the dedupe key of `processed_events`. */
export interface IntakeClaim {
  consumer: string;
  eventId: string;
}

/** The statements of one intake flush, all in one transaction. */
export interface IntakeTx {
  /** For each claim in order, true when new (now recorded), false when already processed. A claim given twice is new once. */
  claim(claims: readonly IntakeClaim[]): Promise<boolean[]>;
  /** Forgets claims made in this transaction (refused events), so a redelivery is refused again. */
  unclaim(claims: readonly IntakeClaim[]): Promise<void>;
  /** Creates the rows missing and locks them all, in job_id order (replicas never deadlock). */
  lockOrCreate(jobIds: readonly string[]): Promise<IntakeItemRow[]>;
  write(writes: readonly IntakeWrite[]): Promise<void>;
}

export interface IntakeStore {
  transaction<T>(fn: (tx: IntakeTx) => Promise<T>): Promise<T>;
}
