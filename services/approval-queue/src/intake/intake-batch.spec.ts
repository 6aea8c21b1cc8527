import { classifyFailure, PoisonMessageError } from '@countersign/bus';
import {
  DEFAULT_REDACT_FIELDS,
  exampleEvents,
  type DecisionMadeData,
  type DecisionMadeV1,
  type JobProposedData,
  type JobProposedV1,
} from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { signedEvent } from '@countersign/testkit';
import type { Logger } from 'pino';
import { approvalItem } from '../approvals/approvals-store.fake';
import type { Env } from '../config/env.schema';
import { IntakeBatch, type IntakeItem } from './intake-batch';
import type { IntakeClaim, IntakeItemRow, IntakeStore, IntakeTx, IntakeWrite } from './intake.port';
import { IntakeProposalUseCase } from './intake-proposal.use-case';

const NOW = new Date('2026-01-01T10:00:10.000Z');

interface StoredRow {
  row: IntakeItemRow;
  payload: Record<string, unknown> | null;
  redactedFields: string[];
}

/** A new row as intake reads it: the entity's blank shape without the columns intake never reads. */
function emptyRow(jobId: string): IntakeItemRow {
  const {
    payload: _payload,
    redactedFields: _redacted,
    escalatedAt: _escalated,
    resolvedBy: _by,
    resolvedComment: _comment,
    resolvedAt: _at,
    createdAt: _created,
    updatedAt: _updated,
    ...row
  } = approvalItem({ jobId });
  return row;
}

/** The port in memory, with the transaction's all-or-nothing rule, counting transactions and statements. */
class FakeIntakeStore implements IntakeStore {
  rows = new Map<string, StoredRow>();
  processed = new Set<string>();
  transactions = 0;
  statements = 0;
  /** A write touching this job fails, as a database error would. */
  failWriteOf: string | undefined;

  async transaction<T>(fn: (tx: IntakeTx) => Promise<T>): Promise<T> {
    this.transactions++;
    const rows = new Map([...this.rows].map(([k, v]) => [k, structuredClone(v)]));
    const processed = new Set(this.processed);
    try {
      return await fn(this.tx());
    } catch (e) {
      this.rows = rows;
      this.processed = processed;
      throw e;
    }
  }

  private tx(): IntakeTx {
    const key = (c: IntakeClaim) => `${c.consumer}|${c.eventId}`;
    return {
      claim: async (claims) => {
        this.statements++;
        return claims.map((c) => !this.processed.has(key(c)) && Boolean(this.processed.add(key(c))));
      },
      unclaim: async (claims) => {
        this.statements++;
        for (const c of claims) this.processed.delete(key(c));
      },
      lockOrCreate: async (jobIds) => {
        this.statements++;
        return [...jobIds].sort().map((id) => {
          const stored = this.rows.get(id) ?? { row: emptyRow(id), payload: null, redactedFields: [] };
          this.rows.set(id, stored);
          return structuredClone(stored.row);
        });
      },
      write: async (writes: readonly IntakeWrite[]) => {
        this.statements++;
        if (writes.some((w) => w.row.jobId === this.failWriteOf))
          throw new Error(`write of ${this.failWriteOf} failed`);
        for (const w of writes) {
          const stored = this.rows.get(w.row.jobId);
          if (!stored) throw new Error(`row ${w.row.jobId} was not locked`);
          stored.row = structuredClone(w.row);
          if (w.payload) Object.assign(stored, structuredClone(w.payload));
        }
      },
    };
  }
}

const silent = { warn: jest.fn(), debug: jest.fn(), info: jest.fn(), error: jest.fn() } as unknown as Logger;
const env = { APPROVAL_QUEUE_INTAKE_BATCH_MAX: 100, REDACT_FIELDS: [...DEFAULT_REDACT_FIELDS] } as Env;

/** When the events below were proposed and decided. */
const AT = '2026-01-01T10:00:00.000Z';
let seq = 0;
function proposalOf(jobId: string, over: Partial<JobProposedData> = {}): JobProposedV1 {
  return signedEvent(
    'job.proposed',
    {
      job_id: jobId,
      tenant: 'acme',
      agent_id: 'agent-1',
      topic: 'job.config.update',
      risk_tags: ['prod'],
      payload: { key: 'feature.x', password: 'hunter2' },
      summary: { title: 'flip x' },
      requested_by: 'alice@acme.test',
      proposed_at: AT,
      ...over,
    },
    { eventId: `p-${++seq}`, occurredAt: AT, producer: 'agent' },
  );
}

function decisionOf(p: JobProposedV1, over: Partial<DecisionMadeData> = {}): DecisionMadeV1 {
  return signedEvent(
    'decision.made',
    {
      ...(exampleEvents['decision.made'].data as DecisionMadeData),
      job_id: p.data.job_id,
      job_hash: jobHash(p.data),
      approval: {
        approvals_required: 1,
        approver_roles: ['service-owner'],
        sla_seconds: 600,
        escalate_after_seconds: null,
        escalation_roles: [],
      },
      decided_at: AT,
      ...over,
    },
    { eventId: `d-${++seq}`, occurredAt: AT, producer: 'policy-decision' },
  );
}

const proposed = (p: JobProposedV1): IntakeItem => ({ kind: 'proposal', event: p, hash: jobHash(p.data) });
const decided = (d: DecisionMadeV1): IntakeItem => ({ kind: 'decision', event: d });

describe('IntakeBatch', () => {
  let store: FakeIntakeStore;
  let sut: IntakeBatch;

  beforeEach(() => {
    store = new FakeIntakeStore();
    sut = new IntakeBatch(store, { env }, { now: () => NOW }, silent);
  });

  it.each([
    ['proposal then decision', (p: IntakeItem, d: IntakeItem) => [p, d]],
    ['decision then proposal', (p: IntakeItem, d: IntakeItem) => [d, p]],
  ])(
    'opens one pending item from a proposal and its decision in one flush (%s), payload redacted',
    async (_, order) => {
      const p = proposalOf('j1');
      const out = await sut.flush(order(proposed(p), decided(decisionOf(p))));
      expect(out).toEqual([{ kind: 'taken' }, { kind: 'taken' }]);
      expect(store.transactions).toBe(1);
      expect(store.statements).toBe(3);
      const stored = store.rows.get('j1')!;
      expect(stored.row).toMatchObject({
        state: 'PENDING',
        proposalEventId: p.event_id,
        proposalHash: jobHash(p.data),
        requestedBy: 'alice@acme.test',
      });
      expect(stored.row.dueAt).toEqual(new Date('2026-01-01T10:10:00.000Z'));
      expect(stored).toMatchObject({
        payload: { key: 'feature.x', password: '[REDACTED]' },
        redactedFields: ['password'],
      });
    },
  );

  it.each([
    ['proposal then decision', (p: IntakeItem, d: IntakeItem) => [p, d]],
    ['decision then proposal', (p: IntakeItem, d: IntakeItem) => [d, p]],
  ])('keeps only the decision of a job that needs no approval, never its payload (%s)', async (_, order) => {
    const p = proposalOf('j1');
    await sut.flush(order(proposed(p), decided(decisionOf(p, { decision: 'ALLOW', approval: null }))));
    expect(store.rows.get('j1')).toMatchObject({
      row: { state: 'NOT_REQUIRED', decision: 'ALLOW' },
      payload: null,
      redactedFields: [],
    });
  });

  it('drops a stored payload when the job turns out to need no approval', async () => {
    const p = proposalOf('j1');
    await sut.flush([proposed(p)]);
    expect(store.rows.get('j1')?.payload).not.toBeNull();
    await sut.flush([decided(decisionOf(p, { decision: 'DENY', approval: null }))]);
    expect(store.rows.get('j1')).toMatchObject({ row: { state: 'NOT_REQUIRED' }, payload: null });
  });

  it('takes a redelivery inside one flush once', async () => {
    const p = proposalOf('j1');
    const d = decisionOf(p);
    const out = await sut.flush([proposed(p), decided(d), proposed(p), decided(d)]);
    expect(out.every((o) => o.kind === 'taken')).toBe(true);
    expect(store.processed.size).toBe(2);
    expect(store.rows.get('j1')?.row).toMatchObject({
      state: 'PENDING',
      proposalEventId: p.event_id,
      decisionEventId: d.event_id,
    });
  });

  it('writes nothing for a flush of redeliveries', async () => {
    const p = proposalOf('j1');
    await sut.flush([proposed(p)]);
    store.statements = 0;
    await sut.flush([proposed(p)]);
    expect(store.statements).toBe(1);
  });

  it('refuses one proposal that is not the decided job; the others in its flush commit', async () => {
    const a = proposalOf('ja');
    const b = proposalOf('jb');
    const tampered = proposalOf('jb', { payload: { key: 'something-else' }, requested_by: 'mallory' });
    const out = await sut.flush([decided(decisionOf(b)), proposed(a), proposed(tampered), decided(decisionOf(a))]);
    expect(out.map((o) => o.kind)).toEqual(['taken', 'taken', 'refused', 'taken']);
    expect(out[2]).toMatchObject({ reason: expect.stringMatching(/does not match the decided job/) });
    expect(store.transactions).toBe(1);
    expect(store.rows.get('ja')?.row).toMatchObject({ state: 'PENDING', proposalEventId: a.event_id });
    expect(store.rows.get('jb')?.row).toMatchObject({ state: 'PENDING', proposalEventId: null, requestedBy: null });
    // Its claim is dropped: a redelivery is refused again, and the right proposal is still taken.
    expect(await sut.flush([proposed(tampered), proposed(b)])).toEqual([
      { kind: 'refused', reason: expect.any(String) },
      { kind: 'taken' },
    ]);
    expect(store.rows.get('jb')?.row).toMatchObject({ proposalEventId: b.event_id, requestedBy: 'alice@acme.test' });
  });

  it('never shows a requester the decision was not made for: the job hash covers requested_by', async () => {
    const real = proposalOf('jr');
    const resent = proposalOf('jr', { requested_by: 'mallory@acme.test' });
    // The decided job first: the same content for another requester is not that job.
    expect(await sut.flush([decided(decisionOf(real)), proposed(resent)])).toEqual([
      { kind: 'taken' },
      { kind: 'refused', reason: expect.stringMatching(/does not match the decided job/) },
    ]);
    expect(store.rows.get('jr')?.row).toMatchObject({ state: 'PENDING', proposalEventId: null, requestedBy: null });
    await sut.flush([proposed(real)]);
    expect(store.rows.get('jr')?.row).toMatchObject({ proposalEventId: real.event_id, requestedBy: 'alice@acme.test' });

    // The other requester's proposal first: the decision drops it and waits for the decided one.
    const early = proposalOf('je', { requested_by: 'mallory@acme.test' });
    await sut.flush([proposed(early), decided(decisionOf(proposalOf('je')))]);
    expect(store.rows.get('je')?.row).toMatchObject({ state: 'PENDING', proposalEventId: null, requestedBy: null });
  });

  it('refuses a REQUIRE_APPROVAL decision without its requirement, alone', async () => {
    const a = proposalOf('ja');
    const b = proposalOf('jb');
    const out = await sut.flush([decided(decisionOf(a, { approval: null })), decided(decisionOf(b))]);
    expect(out.map((o) => o.kind)).toEqual(['refused', 'taken']);
    expect(store.rows.get('ja')?.row.state).toBe('AWAITING_DECISION');
    expect(store.rows.get('jb')?.row.state).toBe('PENDING');
  });

  it('shares one flush between events submitted while another flush runs, and runs a failing flush item by item', async () => {
    const jobs = ['j1', 'j2', 'j3', 'j4'].map((j) => proposalOf(j));
    store.failWriteOf = 'j3';
    const results = await Promise.allSettled(jobs.map((p) => sut.submit(proposed(p))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toEqual(new Error('write of j3 failed'));
    // j1 alone, then j2..j4 together (failed), then j2, j3, j4 one by one.
    expect(store.transactions).toBe(5);
    expect([...store.rows.values()].filter((r) => r.row.proposalEventId !== null).map((r) => r.row.jobId)).toEqual([
      'j1',
      'j2',
      'j4',
    ]);
    expect(store.processed.has(`approval-queue:job.proposed|${jobs[2]!.event_id}`)).toBe(false);
  });

  it('hands a refusal to the message inbox as a poison message (DLQ), while the rest of the flush commits', async () => {
    const intake = new IntakeProposalUseCase(sut, silent);
    const good = proposalOf('jg');
    const p = proposalOf('jb');
    await sut.flush([decided(decisionOf(p))]);
    const tampered = proposalOf('jb', { payload: { key: 'other' } });
    const [ok, refused] = await Promise.allSettled([intake.execute(good), intake.execute(tampered)]);
    expect(ok.status).toBe('fulfilled');
    const reason = (refused as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(PoisonMessageError);
    expect(classifyFailure(reason).kind).toBe('permanent');
    expect(store.rows.get('jg')?.row.proposalEventId).toBe(good.event_id);
  });
});
