import { GroupCommitter, OutboxRelay, type EventClaim } from '@countersign/bus';
import { BUS_LOGGER } from '@countersign/service-kit';
import type { ApprovalResolvedV1, DecisionMadeV1, JobProposedV1 } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { CLOCK, type Clock } from '@countersign/clock';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { BINDING_CONFIG, type BindingConfig } from '../config/binding-config';
import { ExecutionRunner } from '../execution/execution-runner';
import { BindJobService } from './bind-job.service';
import type { BindingChanges } from './binding-changes';
import { BindingStore, commitPass, type BindingTx, type Publisher } from './binding.port';
import { applyFact, digestPrefix, factDigest, type IncomingFact } from './core/incoming-fact';
import { FACT_TOPIC } from './core/job-facts';
import { isBound, type JobEntity } from './job.entity';

/** The most facts one pass records; more wait for the next pass. */
export const FACT_PASS_MAX = 500;

/** A fact with its signature checked, waiting for its pass. */
export interface FactToRecord {
  fact: IncomingFact;
  /** The digest of the event as received, which its (topic, event_id) is claimed with. */
  digest: string;
}

/** What a pass does with one fact once its id is claimed (or refused). */
type Step =
  | { kind: 'apply'; jobId: string; fact: IncomingFact }
  | { kind: 'conflict'; jobId: string; detail: string; reportKey: string }
  | null;

/**
 * Records facts (proposals, decisions, resolutions) in passes: the facts submitted while a pass runs
 * form the next one, in one transaction. A fact's signature is checked before it is submitted; only
 * a verified (or unsigned-topic) fact claims its (topic, event_id), with the digest of its body: a
 * redelivery of that body does nothing, another body under the same id is a forgery attempt, blocked
 * EVENT_ID_CONFLICT and never applied. A fact whose signature fails claims nothing (it cannot pre-empt
 * the genuine event's id) and blocks BAD_SIGNATURE, once per body. All the pass's jobs are then
 * locked (created for a first fact) at once and its facts applied in arrival order with the pure
 * core, so a job may get its proposal and its decision in the same pass; a fact for a job that
 * already has its outcome is reported and ignored. The pass writes what changed, one statement per
 * table, publishes its events right after the commit, and only then launches the recorded executions.
 * If a pass fails, its facts are recorded again one by one, so one bad fact fails alone.
 */
@Injectable()
export class RecordFactUseCase {
  private readonly committer: GroupCommitter<FactToRecord, void>;

  constructor(
    @Inject(BINDING_CONFIG) private readonly config: BindingConfig,
    private readonly store: BindingStore,
    @Inject(OutboxRelay) private readonly relay: Publisher,
    private readonly binder: BindJobService,
    private readonly runner: ExecutionRunner,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.committer = new GroupCommitter((items) => this.pass(items), FACT_PASS_MAX);
  }

  /** `sent` is the event exactly as received (JSON): what its digest is taken over. */
  proposal(event: JobProposedV1, sent: Record<string, unknown>): Promise<void> {
    return this.submit({ kind: 'proposal', eventId: event.event_id, data: event.data, signatureError: null }, sent);
  }

  /** `signed` is the event exactly as received (JSON), which is what its producer signed. */
  decision(event: DecisionMadeV1, signed: Record<string, unknown>): Promise<void> {
    const check = verifyEvent(signed, this.config.keys.policyDecision);
    return this.submit(
      { kind: 'decision', eventId: event.event_id, data: event.data, signatureError: check.ok ? null : check.reason },
      signed,
    );
  }

  resolution(event: ApprovalResolvedV1, signed: Record<string, unknown>): Promise<void> {
    const check = verifyEvent(signed, this.config.keys.approvalQueue);
    return this.submit(
      { kind: 'resolution', eventId: event.event_id, data: event.data, signatureError: check.ok ? null : check.reason },
      signed,
    );
  }

  /** Resolves once the fact's pass has committed. */
  private submit(fact: IncomingFact, sent: Record<string, unknown>): Promise<void> {
    return this.committer.submit({ fact, digest: factDigest(sent) });
  }

  /** One pass: one transaction for all its facts. */
  private async pass(items: readonly FactToRecord[]): Promise<void[]> {
    const now = this.clock.now();
    const { tickets } = await commitPass(this.store, this.relay, async (tx, changes) => {
      const verified = items.flatMap((item, i) => (item.fact.signatureError ? [] : [i]));
      const claims = await tx.claimEvents(
        verified.map((i) => ({
          topic: FACT_TOPIC[items[i]!.fact.kind],
          eventId: items[i]!.fact.eventId,
          digest: items[i]!.digest,
        })),
      );
      const claimOf = new Map(verified.map((i, n) => [i, claims[n]!]));
      const steps: Step[] = [];
      for (const [i, item] of items.entries()) {
        const claim = claimOf.get(i);
        steps.push(claim ? await this.afterClaim(tx, item, claim) : await this.refuseBadSignature(tx, item));
      }
      const jobs = await tx.lockOrCreateJobs(steps.flatMap((s) => (s ? [s.jobId] : [])).sort(), now);
      for (const step of steps) if (step) this.apply(changes, jobs.get(step.jobId)!, step, now);
    });
    this.logger.debug({ facts: items.length, launched: tickets.length }, 'fact pass committed');
    for (const ticket of tickets) this.runner.launch(ticket);
    return items.map(() => undefined);
  }

  private apply(changes: BindingChanges, job: JobEntity, step: NonNullable<Step>, now: Date): void {
    if (step.kind === 'conflict') return this.binder.blockConflict(changes, job, step.detail, now, step.reportKey);
    if (isBound(job.state)) return this.binder.reportLateFact(changes, job, step.fact, now);
    applyFact(job, step.fact, now);
    this.binder.bindAndApply(changes, job, now);
  }

  /**
   * A verified fact whose (topic, event_id) was claimed: applied when new; nothing for a redelivery;
   * a conflicting body is refused (once per body) and blocks its job instead of being applied.
   */
  private async afterClaim(tx: BindingTx, { fact, digest }: FactToRecord, claim: EventClaim): Promise<Step> {
    const topic = FACT_TOPIC[fact.kind];
    const log = { job_id: fact.data.job_id, topic, event_id: fact.eventId };
    if (claim.status === 'new') return { kind: 'apply', jobId: fact.data.job_id, fact };
    if (claim.status === 'redelivery') {
      this.logger.debug(log, 'redelivered fact ignored');
      return null;
    }
    const refusal = await tx.recordRefusal({
      topic,
      eventId: fact.eventId,
      digest,
      reason: 'EVENT_ID_CONFLICT',
      jobId: fact.data.job_id,
    });
    if (!refusal) {
      this.logger.debug(log, 'redelivered conflicting fact ignored; already reported');
      return null;
    }
    this.logger.warn({ ...log, digest, known_digest: claim.knownDigest }, 'event id conflict: fact refused');
    return {
      kind: 'conflict',
      jobId: fact.data.job_id,
      detail:
        `${topic} ${fact.eventId} arrived with another body than the event already processed under that id ` +
        `(sha256 ${digestPrefix(digest)}, processed ${digestPrefix(claim.knownDigest)}); a forgery attempt, never applied`,
      reportKey: `${fact.eventId}/${digest}`,
    };
  }

  /**
   * A fact whose signature fails: reported once per body (a redelivery of the same forgery does
   * nothing), claiming no event id. When its id is that of a processed event, the report says so:
   * typically a genuine event copied with its data edited.
   */
  private async refuseBadSignature(tx: BindingTx, { fact, digest }: FactToRecord): Promise<Step> {
    const topic = FACT_TOPIC[fact.kind];
    const refusal = await tx.recordRefusal({
      topic,
      eventId: fact.eventId,
      digest,
      reason: 'BAD_SIGNATURE',
      jobId: fact.data.job_id,
    });
    if (!refusal) {
      this.logger.debug({ job_id: fact.data.job_id, topic, event_id: fact.eventId }, 'redelivered forged fact ignored');
      return null;
    }
    if (!refusal.knownDigest || refusal.knownDigest === digest) return { kind: 'apply', jobId: fact.data.job_id, fact };
    return {
      kind: 'apply',
      jobId: fact.data.job_id,
      fact: {
        ...fact,
        signatureError:
          `${fact.signatureError}; its event_id is that of a processed ${topic} with another body ` +
          `(sha256 ${digestPrefix(digest)}, processed ${digestPrefix(refusal.knownDigest)})`,
      } as IncomingFact,
    };
  }
}
