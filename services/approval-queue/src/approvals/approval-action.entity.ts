import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ReviewAction } from './core/approval-state';

/** One reviewer's approve or reject; at most one per actor and job (unique on job_id, lower(actor)). */
@Entity({ schema: 'approval_queue', name: 'approval_actions' })
export class ApprovalActionEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'job_id', type: 'text' })
  jobId!: string;

  @Column({ type: 'text' })
  actor!: string;

  @Column({ type: 'text' })
  role!: string;

  @Column({ type: 'text' })
  action!: ReviewAction;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ type: 'timestamptz' })
  at!: Date;
}
