import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';

/** One row of the append-only, hash-chained trail (see migrations/1764000000000-audit-trail.ts). */
@Entity({ schema: 'audit', name: 'audit_records' })
export class AuditRecordEntity {
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'char', length: 64 })
  prev_hash!: string;

  @Column({ type: 'char', length: 64 })
  record_hash!: string;

  @Index('audit_records_dedupe', { unique: true })
  @Column({ type: 'text' })
  dedupe_key!: string;

  @Column({ type: 'text' })
  source_topic!: string;

  @Column({ type: 'text', nullable: true })
  source_event_id!: string | null;

  @Column({ type: 'text' })
  event_type!: string;

  @Column({ type: 'text', nullable: true })
  job_id!: string | null;

  @Column({ type: 'text', nullable: true })
  tenant!: string | null;

  @Column({ type: 'timestamptz' })
  recorded_at!: Date;

  /** The body's canonical JSON text, exactly as hashed. */
  @Column({ type: 'text' })
  body!: string;

  /** 1: the original hashed format; 2: the columns below are hashed too (hash-chain.ts). */
  @Column({ type: 'smallint', default: 1 })
  format!: number;

  @Column({ type: 'text', nullable: true })
  kind!: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  digest!: string | null;

  @Column({ type: 'text', nullable: true })
  signature!: string | null;

  @Column({ type: 'text', nullable: true })
  signature_reason!: string | null;

  @Column({ type: 'text', nullable: true })
  redaction!: string | null;

  @Column({ type: 'text', nullable: true })
  conflict!: string | null;
}
