import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';

/** A policy document by snapshot id, from the `policy.activated` record that carried it. */
@Entity({ schema: 'audit', name: 'policy_snapshots' })
export class PolicySnapshotEntity {
  @PrimaryColumn({ type: 'text' })
  snapshot_id!: string;

  @Column({ type: 'text' })
  scope!: string;

  /** Canonical JSON of the document. */
  @Column({ type: 'text' })
  document!: string;

  @Column({ type: 'timestamptz' })
  activated_at!: Date;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  record_seq!: number;
}
