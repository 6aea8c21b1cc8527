import type { OutboxItem } from '@countersign/bus';
import type { ExecutionEntity } from '../execution/execution.entity';
import type { LaunchTicket } from './bind-job.service';
import type { JobEntity } from './job.entity';

/**
 * What one pass decided, kept in memory until the pass writes it: the jobs and executions it
 * changed, the executions it recorded, the events it caused and the attempts to launch once it
 * has committed. Written by `BindingTx.write` in one statement per table.
 */
export class BindingChanges {
  private readonly changedJobs = new Map<string, JobEntity>();
  private readonly changedExecutions = new Map<string, ExecutionEntity>();
  private readonly recorded = new Map<string, ExecutionEntity>();
  readonly events: OutboxItem[] = [];
  readonly tickets: LaunchTicket[] = [];

  saveJob(job: JobEntity): void {
    this.changedJobs.set(job.jobId, job);
  }

  /** A new execution row: the insert fails on a second one for the job (at most once). */
  insertExecution(execution: ExecutionEntity): void {
    if (this.recorded.has(execution.jobId)) throw new Error(`a second execution of job ${execution.jobId} in one pass`);
    this.recorded.set(execution.jobId, execution);
  }

  saveExecution(execution: ExecutionEntity): void {
    if (this.recorded.get(execution.jobId) !== execution) this.changedExecutions.set(execution.jobId, execution);
  }

  emit(item: OutboxItem): void {
    this.events.push(item);
  }

  /** An attempt to start after the commit, never before. */
  launch(ticket: LaunchTicket): void {
    this.tickets.push(ticket);
  }

  get jobs(): JobEntity[] {
    return [...this.changedJobs.values()];
  }

  get newExecutions(): ExecutionEntity[] {
    return [...this.recorded.values()];
  }

  get executions(): ExecutionEntity[] {
    return [...this.changedExecutions.values()];
  }
}
