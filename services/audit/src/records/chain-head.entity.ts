import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';

/** The single row naming the chain's last record; appends lock it, so they are serialised across replicas. */
@Entity({ schema: 'audit', name: 'chain_head' })
export class ChainHeadEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'char', length: 64 })
  record_hash!: string;
}
