import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ChangedColumns } from '../binding/changed-columns';
import { ExecutionEntity, type ExecutionState } from './execution.entity';

@Injectable()
export class ExecutionRepository {
  private readonly changes = new ChangedColumns(ExecutionEntity, 'jobId');

  constructor(private readonly dataSource: DataSource) {}

  /** Fails on a second row for the job (primary key): the at-most-once guarantee lives in the schema. */
  async insert(m: EntityManager, execution: ExecutionEntity): Promise<void> {
    // The JSON columns hold plain JSON; TypeORM's deep-partial type cannot express `unknown` payload values.
    await m.getRepository(ExecutionEntity).insert(execution as QueryDeepPartialEntity<ExecutionEntity>);
  }

  async lock(m: EntityManager, jobId: string): Promise<ExecutionEntity | null> {
    return this.changes.remember(
      m,
      await m.getRepository(ExecutionEntity).findOne({ where: { jobId }, lock: { mode: 'pessimistic_write' } }),
    );
  }

  /** Writes the columns changed since the execution was locked (one UPDATE, no re-read). */
  async save(m: EntityManager, execution: ExecutionEntity): Promise<void> {
    await this.changes.saveChanges(m, execution);
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
