import { randomUUID } from 'node:crypto';
import { deterministicEventId, EventProducer, GroupCommitter } from '@countersign/bus';
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { LaunchTicket } from '../binding/bind-job.service';
import type { BindingChanges } from '../binding/binding-changes';
import { BindingDeps } from '../binding/binding-deps';
import { commitPass } from '../binding/binding.port';
import type { JobEntity } from '../binding/job.entity';
import { OutcomeWriter } from '../binding/outcome-writer';
import { PRODUCER } from '../config/binding-config';
import { afterAbandoned, afterAttempt, type AttemptOutcome, type AttemptVerdict } from './core/attempt-outcome';
import type { ExecutionEntity } from './execution.entity';
import { callHttpExecutor } from './http.executor';
import { DISPATCH_EVENT_TYPE, dispatchMessage, dispatchToKafka } from './kafka.executor';

const RECORD_ATTEMPTS = 6;
/** The most attempt outcomes one pass records. */
export const OUTCOME_PASS_MAX = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AttemptToRecord {
  ticket: LaunchTicket;
  outcome: AttemptOutcome;
}

/**
 * Makes the attempts of recorded executions and records what they found. Every transaction locks
 * the job row first and the execution row second, in job_id order, so it never deadlocks with the
 * binding. An attempt's outcome is recorded only if the execution is still claimed by that attempt's
 * token. Outcomes are recorded in passes: those that arrive while a pass runs form the next one.
 */
@Injectable()
export class ExecutionRunner implements BeforeApplicationShutdown {
  private readonly inflight = new Set<Promise<void>>();
  private readonly crashAfterRecord: boolean;
  private readonly recorder: GroupCommitter<AttemptToRecord, void>;

  constructor(
    private readonly deps: BindingDeps,
    private readonly outcomes: OutcomeWriter,
    private readonly producer: EventProducer,
  ) {
    const { env } = deps.config;
    const hook = env.EXECUTOR_TEST_CRASH_AFTER_RECORD === '1';
    this.crashAfterRecord = hook && env.NODE_ENV === 'test';
    if (hook && !this.crashAfterRecord)
      deps.logger.warn('EXECUTOR_TEST_CRASH_AFTER_RECORD ignored: it is honoured only with NODE_ENV=test');
    this.recorder = new GroupCommitter((items) => this.recordPass(items), OUTCOME_PASS_MAX);
  }

  /** Runs a claimed attempt in the background (the Kafka consumer does not wait for side effects). */
  launch(ticket: LaunchTicket): void {
    const run = this.run(ticket)
      .catch((e: unknown) =>
        this.deps.logger.error(
          { err: e, job_id: ticket.jobId },
          'execution attempt failed to run; the sweeper will recover it',
        ),
      )
      .finally(() => this.inflight.delete(run));
    this.inflight.add(run);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private async run(ticket: LaunchTicket): Promise<void> {
    if (this.crashAfterRecord) {
      this.deps.logger.warn(
        { job_id: ticket.jobId },
        'test hook: exiting after the execution record, before the side effect',
      );
      process.exit(137);
    }
    const execution = ticket.execution ?? (await this.deps.store.findExecution(ticket.jobId));
    if (!execution || execution.state !== 'started' || execution.claimToken !== ticket.claimToken) return;
    this.deps.logger.debug(
      { job_id: execution.jobId, executor: execution.executorName, attempt: execution.attempts },
      'execution attempt starting',
    );
    const outcome = await this.attempt(execution);
    // The side effect happened (or not); losing its outcome to a brief database outage would turn it
    // into UNKNOWN at lease expiry, so recording is retried for a while first.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.recorder.submit({ ticket, outcome });
        return;
      } catch (e) {
        if (attempt >= RECORD_ATTEMPTS) throw e;
        this.deps.logger.warn(
          { err: e, job_id: ticket.jobId, attempt },
          'could not record the attempt outcome; retrying',
        );
        await sleep(200 * 2 ** attempt);
      }
    }
  }

  /** One pass of attempt outcomes: one transaction, every (job, execution) pair locked in one statement. */
  private async recordPass(items: readonly AttemptToRecord[]): Promise<void[]> {
    await commitPass(this.deps.store, this.deps.relay, async (tx, changes) => {
      const locked = await tx.lockExecutions(items.map((i) => i.ticket.jobId));
      const now = this.deps.clock.now();
      for (const { ticket, outcome } of items) {
        const current = locked.get(ticket.jobId);
        if (!current || current.execution.state !== 'started' || current.execution.claimToken !== ticket.claimToken) {
          this.deps.logger.warn(
            { job_id: ticket.jobId, outcome: outcome.kind },
            'attempt outcome arrived after its claim was recovered; ignored',
          );
          continue;
        }
        this.apply(changes, current.job, current.execution, afterAttempt(current.execution, outcome, now), now);
      }
    });
    return items.map(() => undefined);
  }

  private attempt(execution: ExecutionEntity): Promise<AttemptOutcome> {
    const target = execution.target;
    switch (target.kind) {
      case 'http': {
        const secret = this.deps.config.executors.secrets.get(target.secret_env);
        // Fails closed: an unsigned call is never made.
        if (!secret)
          return Promise.resolve({
            kind: 'failed',
            retryable: false,
            error: `HMAC secret ${target.secret_env} is not configured`,
          });
        return callHttpExecutor({
          url: target.url,
          secret,
          timeoutMs: execution.timeoutMs,
          request: execution.request,
        });
      }
      case 'kafka': {
        const msg = dispatchMessage(execution.request, {
          eventId: deterministicEventId(DISPATCH_EVENT_TYPE, execution.jobId),
          occurredAt: execution.createdAt,
          producer: PRODUCER,
          executor: execution.executorName,
          signer: this.deps.config.keys.signer,
        });
        return dispatchToKafka(
          (topic, messages) => this.producer.sendRaw(topic, messages),
          target.topic,
          msg,
          execution.timeoutMs,
        );
      }
      case 'release':
        return Promise.resolve({
          kind: 'failed',
          retryable: false,
          error: 'a release executor is run by the agent, not here',
        });
    }
  }

  /** Claims a due retry of an idempotent executor; null when another replica has it or it is not due. */
  async claimRetry(jobId: string, now: Date): Promise<LaunchTicket | null> {
    const { result } = await commitPass(this.deps.store, this.deps.relay, async (tx, changes) => {
      const execution = (await tx.lockExecutions([jobId], { skipLocked: true })).get(jobId)?.execution;
      if (!execution || execution.state !== 'pending' || !execution.nextAttemptAt || execution.nextAttemptAt > now)
        return null;
      const claimToken = randomUUID();
      execution.state = 'started';
      execution.attempts += 1;
      execution.claimToken = claimToken;
      execution.startedAt = now;
      execution.nextAttemptAt = null;
      execution.leaseUntil = new Date(
        now.getTime() + execution.timeoutMs + this.deps.config.env.EXECUTION_LEASE_GRACE_MS,
      );
      changes.saveExecution(execution);
      return { jobId, claimToken, execution };
    });
    return result;
  }

  /** An execution left `started` past its lease: its process died mid-attempt. */
  async recoverAbandoned(jobId: string, now: Date): Promise<void> {
    await commitPass(this.deps.store, this.deps.relay, async (tx, changes) => {
      const locked = (await tx.lockExecutions([jobId], { skipLocked: true })).get(jobId);
      const execution = locked?.execution;
      if (!locked || !execution || execution.state !== 'started' || !execution.leaseUntil || execution.leaseUntil > now)
        return;
      const verdict = afterAbandoned(execution, now);
      this.deps.logger.warn(
        { job_id: jobId, executor: execution.executorName, next: verdict.state },
        'abandoned execution recovered',
      );
      this.apply(changes, locked.job, execution, verdict, now);
    });
  }

  /** A grant whose agent never reported: whether it ran is unknown. */
  async expireGrant(jobId: string, now: Date): Promise<void> {
    await commitPass(this.deps.store, this.deps.relay, async (tx, changes) => {
      const locked = (await tx.lockExecutions([jobId], { skipLocked: true })).get(jobId);
      const execution = locked?.execution;
      if (
        !locked ||
        !execution ||
        execution.state !== 'released' ||
        !execution.reportDeadlineAt ||
        execution.reportDeadlineAt > now
      )
        return;
      const error = `the agent did not report an outcome by ${execution.reportDeadlineAt.toISOString()}`;
      this.apply(changes, locked.job, execution, { state: 'unknown', error }, now);
    });
  }

  /** Records a verdict on a locked execution and its job into a pass; a final one emits `job.executed`. */
  apply(changes: BindingChanges, job: JobEntity, execution: ExecutionEntity, verdict: AttemptVerdict, now: Date): void {
    execution.claimToken = null;
    execution.leaseUntil = null;
    if (verdict.state === 'pending') {
      execution.state = 'pending';
      execution.nextAttemptAt = verdict.nextAttemptAt;
      execution.error = verdict.error;
      changes.saveExecution(execution);
      this.deps.logger.info(
        { job_id: job.jobId, attempt: execution.attempts, next_at: verdict.nextAttemptAt, error: verdict.error },
        'execution will be retried',
      );
      return;
    }
    execution.state = verdict.state;
    execution.finishedAt = now;
    execution.nextAttemptAt = null;
    execution.result = verdict.state === 'succeeded' ? (verdict.result ?? null) : null;
    execution.error = verdict.state === 'succeeded' ? null : verdict.error;
    changes.saveExecution(execution);
    job.state = 'executed';
    job.executedAt = now;
    job.updatedAt = now;
    changes.saveJob(job);
    const status = verdict.state === 'succeeded' ? 'SUCCEEDED' : verdict.state === 'failed' ? 'FAILED' : 'UNKNOWN';
    this.outcomes.executed(
      changes,
      execution,
      verdict.state === 'succeeded'
        ? { status, result: verdict.result, error: null }
        : { status, error: verdict.error },
      now,
    );
    this.deps.logger.debug({ job_id: job.jobId, status, attempts: execution.attempts }, 'job executed');
  }
}
