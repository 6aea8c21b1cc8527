import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ChangedColumns } from './changed-columns';
import { JobEntity, WAITING_STATES } from './job.entity';

/** A fact refused as a forgery: its event id conflicts with a processed one, or its signature fails. */
export interface RefusedFact {
  topic: string;
  eventId: string;
  digest: string;
  reason: 'EVENT_ID_CONFLICT' | 'BAD_SIGNATURE';
  jobId: string;
}

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

  /**
   * Remembers a forged body (one statement): null when this very body was already refused (a
   * redelivery of the forgery: nothing new to report); otherwise the digest of the body processed
   * under the same (topic, event_id), if any, for the report.
   */
  async recordRefusal(
    m: EntityManager,
    schema: string,
    consumer: string,
    f: RefusedFact,
  ): Promise<{ knownDigest: string | null } | null> {
    const rows: { known_digest: string | null }[] = await m.query(
      `INSERT INTO "${schema}".refused_facts (topic, event_id, digest, reason, job_id, known_digest)
       SELECT $1, $2, $3, $4, $5,
         (SELECT digest FROM "${schema}".processed_events WHERE consumer = $6 AND topic = $1 AND event_id = $2)
       ON CONFLICT DO NOTHING RETURNING known_digest`,
      [f.topic, f.eventId, f.digest, f.reason, f.jobId, consumer],
    );
    return rows[0] ? { knownDigest: rows[0].known_digest } : null;
  }

  /** Writes the columns changed since the job was locked (one UPDATE, no re-read). */
  async save(m: EntityManager, job: JobEntity): Promise<void> {
    await this.changes.saveChanges(m, job);
  }

  async find(jobId: string): Promise<JobEntity | null> {
    return this.dataSource.getRepository(JobEntity).findOne({ where: { jobId } });
  }
}
