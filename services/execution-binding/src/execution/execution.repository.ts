import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ExecutionEntity, type ExecutionState } from './execution.entity';

@Injectable()
export class ExecutionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Fails on a second row for the job (primary key): the at-most-once guarantee lives in the schema. */
  async insert(m: EntityManager, execution: ExecutionEntity): Promise<void> {
    // The JSON columns hold plain JSON; TypeORM's deep-partial type cannot express `unknown` payload values.
    await m.getRepository(ExecutionEntity).insert(execution as QueryDeepPartialEntity<ExecutionEntity>);
  }

  async lock(m: EntityManager, jobId: string): Promise<ExecutionEntity | null> {
    return m.getRepository(ExecutionEntity).findOne({ where: { jobId }, lock: { mode: 'pessimistic_write' } });
  }

  async save(m: EntityManager, execution: ExecutionEntity): Promise<void> {
    await m.getRepository(ExecutionEntity).save(execution);
  }

  async find(jobId: string): Promise<ExecutionEntity | null> {
    return this.dataSource.getRepository(ExecutionEntity).findOne({ where: { jobId } });
  }

  /** Job ids of executions in a state whose time has come (next attempt, lease or report deadline). */
  async dueIds(
    state: ExecutionState,
    column: 'nextAttemptAt' | 'leaseUntil' | 'reportDeadlineAt',
    now: Date,
    limit: number,
  ): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(ExecutionEntity)
      .createQueryBuilder('e')
      .select('e.jobId', 'jobId')
      .where('e.state = :state', { state })
      .andWhere(`e.${column} <= :now`, { now })
      .orderBy(`e.${column}`, 'ASC')
      .limit(limit)
      .getRawMany<{ jobId: string }>();
    return rows.map((r) => r.jobId);
  }
}
