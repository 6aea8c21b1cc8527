import { randomUUID } from 'node:crypto';
import type { EventClaim, EventToClaim, OutboxItem, StagedEvent } from '@countersign/bus';
import type { DecisionMadeData, DecisionMadeV1, JobProposedV1 } from '@countersign/contracts';
import { generateSigningKeyPair, publicKeyFromPem, signerFromPem } from '@countersign/crypto';
import { decisionData, proposal, signedEvent } from '@countersign/testkit';
import type { Logger } from 'pino';
import type { BindingConfig } from '../config/binding-config';
import type { Env } from '../config/env.schema';
import { topicMatcher } from '../config/executors.config';
import { ExecutionEntity } from '../execution/execution.entity';
import type { ExecutionRunner } from '../execution/execution-runner';
import { BindJobService, type LaunchTicket } from './bind-job.service';
import type { BindingChanges } from './binding-changes';
import { BindingStore, type BindingTx, type LockedExecution, type RefusedFact } from './binding.port';
import { JobEntity, WAITING_STATES } from './job.entity';
import { OutcomeWriter } from './outcome-writer';
import { RecordFactUseCase } from './record-fact.use-case';
import { systemClock } from '@countersign/clock';

const key = (...parts: string[]) => parts.join('\u0000');
const copy = <T extends object>(make: () => T, v: T): T => Object.assign(make(), structuredClone(v));

interface State {
  processed: Map<string, string>;
  refused: Set<string>;
  jobs: Map<string, JobEntity>;
  executions: Map<string, ExecutionEntity>;
  outbox: OutboxItem[];
}

/**
 * An in-memory BindingStore: a transaction works on a copy of the state and commits it only when
 * its callback resolves, as PostgreSQL would. `failWrites` names jobs whose write throws.
 */
class FakeBindingStore extends BindingStore {
  state: State = { processed: new Map(), refused: new Set(), jobs: new Map(), executions: new Map(), outbox: [] };
  transactions = 0;
  commits = 0;
  readonly failWrites = new Set<string>();
  private gate: Promise<void> | undefined;

  /** Holds the next transactions until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((r) => (release = r));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  async transaction<T>(fn: (tx: BindingTx) => Promise<T>): Promise<T> {
    this.transactions += 1;
    await this.gate;
    const working = this.clone(this.state);
    const result = await fn(new FakeTx(working, this.failWrites));
    this.state = working;
    this.commits += 1;
    return result;
  }

  private clone(s: State): State {
    return {
      processed: new Map(s.processed),
      refused: new Set(s.refused),
      jobs: new Map([...s.jobs].map(([k, j]) => [k, copy(() => new JobEntity(), j)])),
      executions: new Map([...s.executions].map(([k, e]) => [k, copy(() => new ExecutionEntity(), e)])),
      outbox: [...s.outbox],
    };
  }

  async findJob(jobId: string): Promise<JobEntity | null> {
    return this.state.jobs.get(jobId) ?? null;
  }

  async findExecution(jobId: string): Promise<ExecutionEntity | null> {
    return this.state.executions.get(jobId) ?? null;
  }

  async dueExecutionIds(): Promise<string[]> {
    return [];
  }
}

class FakeTx implements BindingTx {
  constructor(
    private readonly s: State,
    private readonly failWrites: ReadonlySet<string>,
  ) {}

  /** The same answers as libs/bus claimEvents: a repeated id within the call is judged against the first. */
  async claimEvents(claims: readonly EventToClaim[]): Promise<EventClaim[]> {
    return claims.map((c) => {
      const known = this.s.processed.get(key(c.topic, c.eventId));
      if (known === undefined) {
        this.s.processed.set(key(c.topic, c.eventId), c.digest);
        return { status: 'new' };
      }
      return known === c.digest ? { status: 'redelivery' } : { status: 'conflict', knownDigest: known };
    });
  }

  async recordRefusal(f: RefusedFact): Promise<{ knownDigest: string | null } | null> {
    const k = key(f.topic, f.eventId, f.digest);
    if (this.s.refused.has(k)) return null;
    this.s.refused.add(k);
    return { knownDigest: this.s.processed.get(key(f.topic, f.eventId)) ?? null };
  }

  async lockOrCreateJobs(jobIds: readonly string[], now: Date): Promise<Map<string, JobEntity>> {
    const out = new Map<string, JobEntity>();
    for (const id of [...new Set(jobIds)].sort()) {
      const job = this.s.jobs.get(id) ?? Object.assign(new JobEntity(), emptyJob(id, now));
      this.s.jobs.set(id, job);
      out.set(
        id,
        copy(() => new JobEntity(), job),
      );
    }
    return out;
  }

  async lockDueWaiting(now: Date): Promise<JobEntity[]> {
    return [...this.s.jobs.values()].filter(
      (j) => (WAITING_STATES as readonly string[]).includes(j.state) && j.deadlineAt && j.deadlineAt <= now,
    );
  }

  async lockExecutions(jobIds: readonly string[]): Promise<Map<string, LockedExecution>> {
    const out = new Map<string, LockedExecution>();
    for (const id of jobIds) {
      const job = this.s.jobs.get(id);
      const execution = this.s.executions.get(id);
      if (job && execution)
        out.set(id, { job: copy(() => new JobEntity(), job), execution: copy(() => new ExecutionEntity(), execution) });
    }
    return out;
  }

  async write(changes: BindingChanges): Promise<StagedEvent[]> {
    for (const job of changes.jobs) {
      if (this.failWrites.has(job.jobId)) throw new Error(`write of ${job.jobId} failed`);
      this.s.jobs.set(
        job.jobId,
        copy(() => new JobEntity(), job),
      );
    }
    for (const e of changes.newExecutions) {
      if (this.s.executions.has(e.jobId)) throw new Error(`duplicate key: execution ${e.jobId}`);
      this.s.executions.set(
        e.jobId,
        copy(() => new ExecutionEntity(), e),
      );
    }
    for (const e of changes.executions)
      this.s.executions.set(
        e.jobId,
        copy(() => new ExecutionEntity(), e),
      );
    this.s.outbox.push(...changes.events);
    return changes.events.map((item, i) => ({
      id: String(this.s.outbox.length - changes.events.length + i + 1),
      topic: item.topic,
      key: item.key,
      value: JSON.stringify(item.event),
      headers: {},
      trace: null,
    }));
  }
}

function emptyJob(jobId: string, now: Date): Partial<JobEntity> {
  const nulls = [
    'tenant',
    'deadlineAt',
    'proposal',
    'proposalEventId',
    'proposalReceivedAt',
    'jobHash',
    'decision',
    'decisionEventId',
    'decisionSignatureError',
    'decisionReceivedAt',
    'resolution',
    'resolutionEventId',
    'resolutionSignatureError',
    'resolutionReceivedAt',
    'duplicate',
    'blockReason',
    'blockDetail',
    'reasonText',
    'blockedAt',
    'releasedAt',
    'executedAt',
  ] as const;
  return {
    jobId,
    state: 'pending',
    firstSeenAt: now,
    updatedAt: now,
    lateFacts: 0,
    ...Object.fromEntries(nulls.map((n) => [n, null])),
  };
}

describe('RecordFactUseCase (batch passes)', () => {
  const policyKeys = generateSigningKeyPair();
  const policySigner = signerFromPem(policyKeys.privateKeyPem);
  const ownSigner = signerFromPem(generateSigningKeyPair().privateKeyPem);
  const config = {
    env: { INCOMPLETE_AFTER_MS: 600_000, EXECUTION_LEASE_GRACE_MS: 30_000, RELEASE_REPORT_GRACE_SEC: 3600 } as Env,
    keys: {
      signer: ownSigner,
      policyDecision: [publicKeyFromPem(policyKeys.publicKeyPem)],
      approvalQueue: [],
      ownGrants: [ownSigner.publicKey],
    },
    executors: {
      file: 'executors.yaml',
      executors: [
        {
          name: 'hook',
          kind: 'http',
          match: ['**'],
          url: 'https://hook.test/x',
          secret_env: 'S',
          idempotent: false,
          timeout_sec: 30,
          retry: { max_attempts: 1, initial_backoff_ms: 100, max_backoff_ms: 100 },
          matches: topicMatcher(['**']),
        },
      ],
      secrets: new Map(),
      generatedSecrets: [],
    },
    approverAuth: {},
  } as BindingConfig;
  const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;

  let store: FakeBindingStore;
  let published: StagedEvent[][];
  let launched: { ticket: LaunchTicket; committed: boolean }[];
  let sut: RecordFactUseCase;

  beforeEach(() => {
    store = new FakeBindingStore();
    published = [];
    launched = [];
    const relay = { publishNow: async (rows: readonly StagedEvent[]) => void published.push([...rows]) };
    const runner = {
      // At most once: the execution row must be committed before its attempt is launched.
      launch: (ticket: LaunchTicket) => launched.push({ ticket, committed: store.state.executions.has(ticket.jobId) }),
    } as unknown as ExecutionRunner;
    const binder = new BindJobService(config, new OutcomeWriter(config), logger);
    sut = new RecordFactUseCase(config, store, relay, binder, runner, logger, systemClock);
  });

  const asSent = (e: object) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>;

  function decision(
    p: JobProposedV1,
    over: Partial<DecisionMadeData> = {},
    eventId: string = randomUUID(),
  ): DecisionMadeV1 {
    return signedEvent('decision.made', decisionData(p.data, over), {
      signer: policySigner,
      producer: 'policy-decision',
      eventId,
    });
  }

  const submitProposal = (p: JobProposedV1) => sut.proposal(p, asSent(p));
  const submitDecision = (d: DecisionMadeV1) => sut.decision(d, asSent(d));

  /**
   * Submits the facts while a warm-up pass holds the store, so they all form the next pass (as the
   * consumer's concurrent handlers do); returns their settled results.
   */
  async function inOnePass(submit: () => Promise<void>[]): Promise<PromiseSettledResult<void>[]> {
    const release = store.hold();
    const warmUp = submitProposal(proposal());
    const submitted = submit();
    release();
    await warmUp;
    const before = store.transactions;
    const results = await Promise.allSettled(submitted);
    expect(store.transactions - before).toBeGreaterThanOrEqual(1);
    return results;
  }

  const blocksOf = (jobId: string) =>
    store.state.outbox
      .filter((o) => o.topic === 'job.blocked' && o.key === jobId)
      .map((o) => o.event.data as { reason_code: string; report_only?: boolean; detail: string });

  it('records a job proposal, decision and a second decision in one pass: executes once, reports the late fact', async () => {
    const p = proposal();
    const d = decision(p);
    const late = decision(p, { decision: 'DENY' });
    const before = store.transactions;
    const results = await inOnePass(() => [submitProposal(p), submitDecision(d), submitDecision(late)]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(store.transactions - before).toBe(2); // the warm-up's and this one
    const job = store.state.jobs.get(p.data.job_id)!;
    expect(job).toMatchObject({
      state: 'executing',
      proposalEventId: p.event_id,
      decisionEventId: d.event_id,
      lateFacts: 1,
    });
    expect(store.state.executions.get(p.data.job_id)).toMatchObject({ state: 'started', executorName: 'hook' });
    expect(launched.filter((l) => l.ticket.jobId === p.data.job_id)).toEqual([
      expect.objectContaining({ committed: true }),
    ]);
    expect(blocksOf(p.data.job_id)).toEqual([expect.objectContaining({ reason_code: 'DUPLICATE', report_only: true })]);
    // Published right after the commit: the pass's own outbox rows, at once.
    expect(published.flat().filter((row) => row.key === p.data.job_id)).toHaveLength(1);
  });

  it('in one pass, ignores a duplicate of an event id and blocks a conflicting body EVENT_ID_CONFLICT, never applied', async () => {
    const p = proposal();
    const d = decision(p);
    const forged = decision(p, { decision: 'ALLOW', policy_reason: 'edited' }, d.event_id);
    const results = await inOnePass(() => [
      submitDecision(d),
      submitDecision(d),
      submitDecision(forged),
      submitProposal(p),
    ]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const job = store.state.jobs.get(p.data.job_id)!;
    expect(job).toMatchObject({ state: 'blocked', blockReason: 'EVENT_ID_CONFLICT', decisionEventId: d.event_id });
    expect(job.decision?.policy_reason).toBe('test policy');
    expect(store.state.executions.has(p.data.job_id)).toBe(false);
    expect(launched.filter((l) => l.ticket.jobId === p.data.job_id)).toHaveLength(0);
    expect(store.state.refused.size).toBe(1);
    const blocks = blocksOf(p.data.job_id);
    expect(blocks.filter((b) => !b.report_only)).toEqual([
      expect.objectContaining({ reason_code: 'EVENT_ID_CONFLICT' }),
    ]);
    expect(blocks.filter((b) => b.report_only)).toHaveLength(1); // the proposal, after the outcome
  });

  it('when one fact of a pass fails, the others commit and it fails alone', async () => {
    const [a, bad, c] = [proposal(), proposal(), proposal()];
    store.failWrites.add(bad.data.job_id);
    const results = await inOnePass(() => [a, bad, c].flatMap((p) => [submitProposal(p), submitDecision(decision(p))]));

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    for (const p of [a, c]) {
      expect(store.state.jobs.get(p.data.job_id)).toMatchObject({ state: 'executing' });
      expect(launched.filter((l) => l.ticket.jobId === p.data.job_id)).toEqual([
        expect.objectContaining({ committed: true }),
      ]);
    }
    // Nothing of the failed facts committed, not even their claims: a redelivery will try them again.
    expect(store.state.jobs.has(bad.data.job_id)).toBe(false);
    expect([...store.state.processed.keys()].some((k) => k.includes(bad.event_id))).toBe(false);
    expect(launched.filter((l) => l.ticket.jobId === bad.data.job_id)).toHaveLength(0);
  });

  it('a bad signature claims no event id, and the genuine fact under that id is still applied', async () => {
    const p = proposal();
    const d = decision(p);
    const forged = { ...asSent(d), data: { ...d.data, decision: 'DENY' } } as unknown as DecisionMadeV1;
    const results = await inOnePass(() => [submitDecision(forged), submitDecision(d), submitProposal(p)]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(store.state.processed.get(key('decision.made', d.event_id))).toBeDefined();
    expect(store.state.jobs.get(p.data.job_id)).toMatchObject({ decisionEventId: d.event_id });
    expect(store.state.refused.size).toBe(1);
  });
});
