import { BUS_LOGGER, claimEvent } from '@countersign/bus';
import type { ApprovalResolvedV1, DecisionMadeV1, JobProposedV1 } from '@countersign/contracts';
import { verifyEvent } from '@countersign/crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { BINDING_CONFIG, CONSUMER, SCHEMA, type BindingConfig } from '../config/binding-config';
import { ExecutionRunner } from '../execution/execution-runner';
import { BindJobService } from './bind-job.service';
import { applyFact, digestPrefix, factDigest, type IncomingFact } from './incoming-fact';
import { FACT_TOPIC } from './job-facts';
import { isBound } from './job.entity';
import { JobRepository } from './job.repository';

/**
 * Takes one fact (proposal, decision or resolution) in one transaction. Its signature is checked
 * first; only a verified (or unsigned-topic) fact claims its (topic, event_id), with the digest of
 * its body: a redelivery of that body does nothing, another body under the same id is a forgery
 * attempt, blocked EVENT_ID_CONFLICT and never applied. A fact whose signature fails claims
 * nothing (it cannot pre-empt the genuine event's id) and blocks BAD_SIGNATURE, once per body.
 * A fact for a job that already has its outcome is reported and ignored; otherwise the fact is
 * stored and the job is bound as far as its facts allow. The attempt of a recorded execution
 * starts only after that transaction committed.
 */
@Injectable()
export class RecordFactUseCase {
  constructor(
    @Inject(BINDING_CONFIG) private readonly config: BindingConfig,
    private readonly dataSource: DataSource,
    private readonly jobs: JobRepository,
    private readonly binder: BindJobService,
    private readonly runner: ExecutionRunner,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  /** `sent` is the event exactly as received (JSON): what its digest is taken over. */
  proposal(event: JobProposedV1, sent: Record<string, unknown>): Promise<void> {
    return this.record({ kind: 'proposal', eventId: event.event_id, data: event.data, signatureError: null }, sent);
  }

  /** `signed` is the event exactly as received (JSON), which is what its producer signed. */
  decision(event: DecisionMadeV1, signed: Record<string, unknown>): Promise<void> {
    const check = verifyEvent(signed, this.config.keys.policyDecision);
    return this.record(
      { kind: 'decision', eventId: event.event_id, data: event.data, signatureError: check.ok ? null : check.reason },
      signed,
    );
  }

  resolution(event: ApprovalResolvedV1, signed: Record<string, unknown>): Promise<void> {
    const check = verifyEvent(signed, this.config.keys.approvalQueue);
    return this.record(
      { kind: 'resolution', eventId: event.event_id, data: event.data, signatureError: check.ok ? null : check.reason },
      signed,
    );
  }

  private async record(fact: IncomingFact, sent: Record<string, unknown>): Promise<void> {
    const now = new Date();
    const digest = factDigest(sent);
    const ticket = await this.dataSource.transaction(async (m) => {
      const admitted = fact.signatureError
        ? await this.refuseBadSignature(m, fact, digest)
        : await this.claim(m, fact, digest, now);
      if (!admitted) return null;
      const job = await this.jobs.lockOrCreate(m, admitted.data.job_id, now);
      if (isBound(job.state)) {
        await this.binder.reportLateFact(m, job, admitted, now);
        return null;
      }
      applyFact(job, admitted, now);
      return this.binder.bindAndApply(m, job, now);
    });
    if (ticket) this.runner.launch(ticket);
  }

  /**
   * A verified fact claims its (topic, event_id): the fact to apply when new; null for a redelivery
   * and for a conflicting body, which is blocked here instead of applied.
   */
  private async claim(m: EntityManager, fact: IncomingFact, digest: string, now: Date): Promise<IncomingFact | null> {
    const topic = FACT_TOPIC[fact.kind];
    const claim = await claimEvent(m, SCHEMA, CONSUMER, topic, fact.eventId, digest);
    const log = { job_id: fact.data.job_id, topic, event_id: fact.eventId };
    if (claim.status === 'new') return fact;
    if (claim.status === 'redelivery') {
      this.logger.debug(log, 'redelivered fact ignored');
      return null;
    }
    const refusal = await this.jobs.recordRefusal(m, SCHEMA, CONSUMER, {
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
    const job = await this.jobs.lockOrCreate(m, fact.data.job_id, now);
    const detail =
      `${topic} ${fact.eventId} arrived with another body than the event already processed under that id ` +
      `(sha256 ${digestPrefix(digest)}, processed ${digestPrefix(claim.knownDigest)}); a forgery attempt, never applied`;
    await this.binder.blockConflict(m, job, detail, now, `${fact.eventId}/${digest}`);
    this.logger.warn({ ...log, digest, known_digest: claim.knownDigest }, 'event id conflict: fact refused');
    return null;
  }

  /**
   * A fact whose signature fails: reported once per body (a redelivery of the same forgery does
   * nothing), claiming no event id. When its id is that of a processed event, the report says so:
   * typically a genuine event copied with its data edited.
   */
  private async refuseBadSignature(m: EntityManager, fact: IncomingFact, digest: string): Promise<IncomingFact | null> {
    const topic = FACT_TOPIC[fact.kind];
    const refusal = await this.jobs.recordRefusal(m, SCHEMA, CONSUMER, {
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
    if (!refusal.knownDigest || refusal.knownDigest === digest) return fact;
    return {
      ...fact,
      signatureError:
        `${fact.signatureError}; its event_id is that of a processed ${topic} with another body ` +
        `(sha256 ${digestPrefix(digest)}, processed ${digestPrefix(refusal.knownDigest)})`,
    } as IncomingFact;
  }
}
