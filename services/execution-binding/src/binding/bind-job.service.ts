import { randomUUID } from 'node:crypto';
import { BUS_LOGGER } from '@countersign/service-kit';
import type { BlockReason } from '@countersign/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { BINDING_CONFIG, type BindingConfig } from '../config/binding-config';
import { ExecutionEntity, type ExecutionRequest, type ExecutionTarget } from '../execution/execution.entity';
import { planExecution } from '../execution/core/plan-execution';
import { bind, lateFactReport, type BindResult } from './core/bind';
import type { BindingChanges } from './binding-changes';
import { factsOf, waitingState, type IncomingFact } from './core/incoming-fact';
import { isBound, type JobEntity } from './job.entity';
import { OutcomeWriter } from './outcome-writer';

/** An execution recorded as `started` whose attempt this process should now make (after commit). */
export interface LaunchTicket {
  jobId: string;
  claimToken: string;
  /** The execution as committed with this claim, so the attempt need not read it back. */
  execution?: ExecutionEntity;
}

type Block = { reason: BlockReason; detail: string; reasonText: string | null };

/**
 * Applies the pure binding decision to a locked job, in memory, into the caller's pass: waits,
 * blocks with an event, or records the execution (the unique row) and its grant, which the pass
 * commits before any side effect; the attempt to launch is a ticket of the pass.
 */
@Injectable()
export class BindJobService {
  constructor(
    @Inject(BINDING_CONFIG) private readonly config: BindingConfig,
    private readonly outcomes: OutcomeWriter,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  bindAndApply(changes: BindingChanges, job: JobEntity, now: Date): void {
    const result = bind(factsOf(job), now, { incompleteAfterMs: this.config.env.INCOMPLETE_AFTER_MS });
    switch (result.action) {
      case 'wait':
        job.state = waitingState(job);
        job.deadlineAt = result.until;
        job.updatedAt = now;
        changes.saveJob(job);
        this.logger.debug(
          { job_id: job.jobId, state: job.state, waiting_for: result.waitingFor },
          'job waiting for facts',
        );
        return;
      case 'block':
        return this.block(changes, job, result, now);
      case 'execute':
        return this.execute(changes, job, result, now);
    }
  }

  /** A fact for a job that already has its outcome: reported, never acted on. */
  reportLateFact(changes: BindingChanges, job: JobEntity, fact: IncomingFact, now: Date): void {
    const outcome = job.state === 'blocked' ? `blocked (${job.blockReason ?? 'unknown'})` : job.state;
    const report = lateFactReport(fact.kind, fact.eventId, fact.signatureError, outcome);
    job.lateFacts += 1;
    job.updatedAt = now;
    changes.saveJob(job);
    this.outcomes.blocked(changes, job, { ...report, reasonText: null }, now, fact.eventId);
    this.logger.warn(
      { job_id: job.jobId, event_id: fact.eventId, reason: report.reason },
      'late fact reported; the outcome stands',
    );
  }

  /**
   * A fact whose (topic, event_id) is already held by another body: never applied. A job with its
   * outcome gets a report-only block (the outcome stands); a job still waiting is blocked fail-closed,
   * since its own fact may be the one pre-empted and no binding can be trusted: whoever can write to
   * the topic can at worst block a job this way, never run one. `reportKey` names the forged body,
   * so each distinct forgery gets its own report.
   */
  blockConflict(changes: BindingChanges, job: JobEntity, detail: string, now: Date, reportKey: string): void {
    const block: Block = { reason: 'EVENT_ID_CONFLICT', detail, reasonText: null };
    if (!isBound(job.state)) return this.block(changes, job, block, now);
    job.lateFacts += 1;
    job.updatedAt = now;
    changes.saveJob(job);
    this.outcomes.blocked(changes, job, block, now, reportKey);
    this.logger.warn(
      { job_id: job.jobId, reason: block.reason, detail },
      'conflicting fact reported; the outcome stands',
    );
  }

  private block(changes: BindingChanges, job: JobEntity, block: Block, now: Date): void {
    job.state = 'blocked';
    job.blockReason = block.reason;
    job.blockDetail = block.detail;
    job.reasonText = block.reasonText;
    job.blockedAt = now;
    job.deadlineAt = null;
    job.updatedAt = now;
    changes.saveJob(job);
    this.outcomes.blocked(changes, job, block, now);
    this.logger.debug({ job_id: job.jobId, reason: block.reason, detail: block.detail }, 'job blocked');
  }

  private execute(
    changes: BindingChanges,
    job: JobEntity,
    bound: Extract<BindResult, { action: 'execute' }>,
    now: Date,
  ): void {
    const proposal = job.proposal;
    if (!proposal) throw new Error(`bind executed job ${job.jobId} without a proposal`);
    const plan = planExecution(proposal.topic, bound.constraints, this.config.executors.executors);
    if (plan.action === 'block') {
      return this.block(changes, job, { reason: plan.reason, detail: plan.detail, reasonText: null }, now);
    }
    const executor = plan.executor;
    const request: ExecutionRequest = {
      job_id: proposal.job_id,
      tenant: proposal.tenant,
      agent_id: proposal.agent_id,
      topic: proposal.topic,
      risk_tags: [...new Set(proposal.risk_tags)].sort(),
      payload: proposal.payload,
      requested_by: proposal.requested_by,
      job_hash: bound.jobHash,
      policy_snapshot: bound.policySnapshot,
      constraints: bound.constraints,
    };
    const target: ExecutionTarget =
      executor.kind === 'http'
        ? { kind: 'http', url: executor.url, secret_env: executor.secret_env }
        : executor.kind === 'kafka'
          ? { kind: 'kafka', topic: executor.topic }
          : { kind: 'release', grant_ttl_sec: executor.grant_ttl_sec };
    const execution = new ExecutionEntity();
    Object.assign(execution, {
      jobId: job.jobId,
      executorName: executor.name,
      kind: executor.kind,
      idempotent: executor.idempotent,
      target,
      request,
      timeoutMs: plan.timeoutMs,
      maxAttempts: executor.idempotent ? executor.retry.max_attempts : 1,
      initialBackoffMs: executor.retry.initial_backoff_ms,
      maxBackoffMs: executor.retry.max_backoff_ms,
      attempts: 1,
      claimToken: null,
      leaseUntil: null,
      nextAttemptAt: null,
      grantEventId: null,
      grantExpiresAt: null,
      reportDeadlineAt: null,
      result: null,
      error: null,
      createdAt: now,
      startedAt: now,
      finishedAt: null,
    } satisfies Omit<ExecutionEntity, 'state'>);
    job.releasedAt = now;
    job.deadlineAt = null;
    job.updatedAt = now;

    if (executor.kind === 'release') {
      const expiresAt = new Date(now.getTime() + executor.grant_ttl_sec * 1000);
      const grant = this.outcomes.released(
        changes,
        {
          job_id: request.job_id,
          tenant: request.tenant,
          agent_id: request.agent_id,
          job_hash: request.job_hash,
          policy_snapshot: request.policy_snapshot,
          constraints: request.constraints,
          released_at: now.toISOString(),
          expires_at: expiresAt.toISOString(),
        },
        now,
      );
      const runtimeMs = (bound.constraints.max_runtime_sec ?? 0) * 1000;
      execution.state = 'released';
      execution.grantEventId = grant.event_id;
      execution.grantExpiresAt = expiresAt;
      execution.reportDeadlineAt = new Date(
        expiresAt.getTime() + runtimeMs + this.config.env.RELEASE_REPORT_GRACE_SEC * 1000,
      );
      job.state = 'released';
      changes.saveJob(job);
      changes.insertExecution(execution);
      this.logger.debug(
        { job_id: job.jobId, executor: executor.name, grant: grant.event_id },
        'job released to the agent',
      );
      return;
    }

    const claimToken = randomUUID();
    execution.state = 'started';
    execution.claimToken = claimToken;
    execution.leaseUntil = new Date(now.getTime() + plan.timeoutMs + this.config.env.EXECUTION_LEASE_GRACE_MS);
    job.state = 'executing';
    changes.saveJob(job);
    changes.insertExecution(execution);
    changes.launch({ jobId: job.jobId, claimToken, execution });
    this.logger.debug({ job_id: job.jobId, executor: executor.name, kind: executor.kind }, 'execution recorded');
  }
}
