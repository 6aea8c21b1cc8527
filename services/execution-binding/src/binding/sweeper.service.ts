import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ExecutionRunner } from '../execution/execution-runner';
import { BindJobService } from './bind-job.service';
import { BindingDeps } from './binding-deps';
import { commitPass } from './binding.port';

const BATCH = 50;

/**
 * The clock-driven half of the service, safe with replicas (rows are locked with SKIP LOCKED, so
 * two sweepers never take the same job): blocks jobs whose facts never completed (`INCOMPLETE`),
 * claims due retries, recovers executions abandoned by a dead process, and records grants whose
 * agent never reported. It runs once at startup, then every SWEEP_INTERVAL_MS.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private current: Promise<void> | undefined;

  constructor(
    private readonly deps: BindingDeps,
    private readonly binder: BindJobService,
    private readonly runner: ExecutionRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.sweep(this.deps.clock.now())
        .catch((e: unknown) => this.deps.logger.warn({ err: e }, 'sweep failed; will retry'))
        .finally(() => this.schedule(this.deps.config.env.SWEEP_INTERVAL_MS));
    }, ms);
  }

  async sweep(now: Date): Promise<void> {
    const { tickets } = await commitPass(this.deps.store, this.deps.relay, async (tx, changes) => {
      for (const job of await tx.lockDueWaiting(now, BATCH)) this.binder.bindAndApply(changes, job, now);
    });
    for (const t of tickets) this.runner.launch(t);

    for (const jobId of await this.deps.store.dueExecutionIds('started', 'leaseUntil', now, BATCH))
      await this.runner.recoverAbandoned(jobId, now);
    for (const jobId of await this.deps.store.dueExecutionIds('pending', 'nextAttemptAt', now, BATCH)) {
      const ticket = await this.runner.claimRetry(jobId, now);
      if (ticket) this.runner.launch(ticket);
    }
    for (const jobId of await this.deps.store.dueExecutionIds('released', 'reportDeadlineAt', now, BATCH))
      await this.runner.expireGrant(jobId, now);
  }
}
