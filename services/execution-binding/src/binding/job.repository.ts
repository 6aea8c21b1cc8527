import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ChangedColumns } from './changed-columns';
import { JobEntity, WAITING_STATES } from './job.entity';

@Injectable()
export class JobRepository {
  private readonly changes = new ChangedColumns(JobEntity, 'jobId');

  constructor(private readonly dataSource: DataSource) {}

  /**
   * The job's row, created if this is its first fact, locked for the rest of the transaction: facts
   * of one job arriving on three topics (and replicas) are applied one at a time.
   */
  async lockOrCreate(m: EntityManager, jobId: string, now: Date): Promise<JobEntity> {
    await m
      .createQueryBuilder()
      .insert()
      .into(JobEntity)
      .values({ jobId, state: 'pending', firstSeenAt: now, updatedAt: now, lateFacts: 0 })
      .orIgnore()
      .execute();
    return this.changes.remember(
      m,
      await m.getRepository(JobEntity).findOneOrFail({ where: { jobId }, lock: { mode: 'pessimistic_write' } }),
    );
  }

  /** The job's row locked, or null when another transaction holds it (the caller skips it). */
  async tryLock(m: EntityManager, jobId: string): Promise<JobEntity | null> {
    return this.changes.remember(
      m,
      await m
        .getRepository(JobEntity)
        .createQueryBuilder('j')
        .where('j.jobId = :jobId', { jobId })
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getOne(),
    );
  }

  async lock(m: EntityManager, jobId: string): Promise<JobEntity | null> {
    return this.changes.remember(
      m,
      await m.getRepository(JobEntity).findOne({ where: { jobId }, lock: { mode: 'pessimistic_write' } }),
    );
  }

  /** Waiting jobs past their deadline, locked; rows another replica is sweeping are skipped. */
  async lockDueWaiting(m: EntityManager, now: Date, limit: number): Promise<JobEntity[]> {
    const jobs = await m
      .getRepository(JobEntity)
      .createQueryBuilder('j')
      .where('j.state IN (:...states)', { states: [...WAITING_STATES] })
      .andWhere('j.deadlineAt <= :now', { now })
      .orderBy('j.deadlineAt', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
    return jobs.map((job) => this.changes.remember(m, job));
  }

  /** Writes the columns changed since the job was locked (one UPDATE, no re-read). */
  async save(m: EntityManager, job: JobEntity): Promise<void> {
    await this.changes.saveChanges(m, job);
  }

  async find(jobId: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOne({ where: { jobId } });
  }
}
