import type { EventOf, Topic } from '@countersign/contracts';
import type { IntakeClaim, IntakeItemRow, IntakeWrite } from '../intake/intake.port';
import type { ApprovalItemEntity } from './approval-item.entity';
import type { ApprovalsStore, ApprovalsTx, HistoryEntry, ListFilter, ResolutionWrite } from './approvals.port';
import { DEFAULT_APPROVER_ROLE, type RecordedAction } from './core/approval-state';

interface State {
  items: Map<string, ApprovalItemEntity>;
  actions: Map<string, RecordedAction[]>;
  processed: Set<string>;
}

export interface PublishedEvent {
  topic: Topic;
  key: string;
  event: EventOf<Topic>;
}

/** A blank row of the entity's shape; tests override what matters. */
export function approvalItem(over: Partial<ApprovalItemEntity> & { jobId: string }): ApprovalItemEntity {
  return {
    state: 'AWAITING_DECISION',
    tenant: null,
    proposalEventId: null,
    agentId: null,
    topic: null,
    riskTags: [],
    requestedBy: null,
    payload: null,
    redactedFields: [],
    proposalSummary: null,
    proposalHash: null,
    proposedAt: null,
    decisionEventId: null,
    decision: null,
    policySnapshot: null,
    policyRuleId: null,
    policyReason: null,
    matchedRules: [],
    jobHash: null,
    constraints: null,
    decisionSummary: null,
    approvalRequirement: null,
    decidedAt: null,
    approvalsRequired: null,
    approverRoles: [],
    pendingSince: null,
    dueAt: null,
    escalateAt: null,
    escalatedAt: null,
    resolvedBy: null,
    resolvedComment: null,
    resolvedAt: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...over,
  };
}

/**
 * ApprovalsStore in memory, for use-case specs: transactions are all-or-nothing (a throw restores
 * the state from before), and events staged in a transaction are "published" only after it commits,
 * as ApprovalsRepository does with the outbox. `failOn` makes one transaction method throw once.
 */
export class FakeApprovalsStore implements ApprovalsStore {
  private state: State = { items: new Map(), actions: new Map(), processed: new Set() };
  readonly published: PublishedEvent[] = [];
  transactions = 0;
  private failures = new Map<keyof ApprovalsTx, Error>();

  seed(...items: ApprovalItemEntity[]): this {
    for (const i of items) this.state.items.set(i.jobId, structuredClone(i));
    return this;
  }

  seedActions(jobId: string, actions: RecordedAction[]): this {
    this.state.actions.set(jobId, structuredClone(actions));
    return this;
  }

  item(jobId: string): ApprovalItemEntity | undefined {
    const i = this.state.items.get(jobId);
    return i && structuredClone(i);
  }

  actionsOf(jobId: string): RecordedAction[] {
    return structuredClone(this.state.actions.get(jobId) ?? []);
  }

  failOn(method: keyof ApprovalsTx, error: Error): this {
    this.failures.set(method, error);
    return this;
  }

  async transaction<T>(fn: (tx: ApprovalsTx) => Promise<T>): Promise<T> {
    this.transactions++;
    const before = structuredClone(this.state);
    const staged: PublishedEvent[] = [];
    try {
      const out = await fn(this.tx(staged));
      this.published.push(...staged);
      return out;
    } catch (e) {
      this.state = before;
      throw e;
    }
  }

  async find(jobId: string): Promise<ApprovalItemEntity | null> {
    return this.item(jobId) ?? null;
  }

  async list(f: ListFilter) {
    const sorted = [...this.state.items.values()]
      .filter((i) => i.dueAt !== null && (f.includeResolved || i.state === 'PENDING'))
      .filter((i) => {
        const roles = i.approverRoles.length ? i.approverRoles : [DEFAULT_APPROVER_ROLE];
        if (!roles.some((r) => f.visibleToRoles.includes(r))) return false;
        if (f.visibleTenants !== undefined && !f.visibleTenants.includes(i.tenant ?? '')) return false;
        if (f.tenant !== undefined && i.tenant !== f.tenant) return false;
        if (f.topic !== undefined && i.topic !== f.topic) return false;
        if (f.riskTag !== undefined && !i.riskTags.includes(f.riskTag)) return false;
        if (f.ruleId !== undefined && i.policyRuleId !== f.ruleId) return false;
        if (f.role !== undefined && !roles.includes(f.role)) return false;
        return true;
      })
      .map((i) => ({ i, key: { dueAt: i.dueAt!.toISOString(), jobId: i.jobId } }))
      .sort((a, b) => a.key.dueAt.localeCompare(b.key.dueAt) || a.key.jobId.localeCompare(b.key.jobId))
      .filter(
        ({ key }) =>
          !f.after || key.dueAt > f.after.dueAt || (key.dueAt === f.after.dueAt && key.jobId > f.after.jobId),
      );
    const page = sorted.slice(0, f.limit);
    return {
      items: page.map(({ i }) => structuredClone(i)),
      lastKey: page.at(-1)?.key ?? null,
      more: sorted.length > f.limit,
    };
  }

  async actionsFor(jobIds: readonly string[]): Promise<Map<string, RecordedAction[]>> {
    return new Map(jobIds.filter((id) => this.state.actions.has(id)).map((id) => [id, this.actionsOf(id)]));
  }

  async historyFor(
    items: readonly { jobId: string; tenant: string; agentId: string; topic: string; before: Date | null }[],
    limit: number,
  ): Promise<Map<string, HistoryEntry[]>> {
    const out = new Map<string, HistoryEntry[]>();
    for (const p of items) {
      const entries = [...this.state.items.values()]
        .filter(
          (r) =>
            r.tenant === p.tenant &&
            r.agentId === p.agentId &&
            r.topic === p.topic &&
            (r.state === 'APPROVED' || r.state === 'REJECTED' || r.state === 'EXPIRED') &&
            r.jobId !== p.jobId &&
            r.resolvedAt !== null &&
            (p.before === null || r.resolvedAt < p.before),
        )
        .sort((a, b) => b.resolvedAt!.getTime() - a.resolvedAt!.getTime())
        .slice(0, limit)
        .map((r) => ({
          jobId: r.jobId,
          resolution: r.state,
          actor: r.resolvedBy,
          reason: r.resolvedComment,
          at: r.resolvedAt!,
        }));
      if (entries.length) out.set(p.jobId, entries);
    }
    return out;
  }

  private tx(staged: PublishedEvent[]): ApprovalsTx {
    const s = () => this.state;
    const fail = (m: keyof ApprovalsTx) => {
      const e = this.failures.get(m);
      if (e) {
        this.failures.delete(m);
        throw e;
      }
    };
    const dueLocked = (now: Date, limit: number, at: (i: ApprovalItemEntity) => Date | null) =>
      [...s().items.values()]
        .filter((i) => i.state === 'PENDING' && at(i) !== null && at(i)!.getTime() <= now.getTime())
        .sort((a, b) => at(a)!.getTime() - at(b)!.getTime() || a.jobId.localeCompare(b.jobId))
        .slice(0, limit)
        .map((i) => structuredClone(i));
    return {
      enqueue: async <T extends Topic>(topic: T, key: string, event: EventOf<T>) => {
        fail('enqueue');
        staged.push({ topic, key, event: structuredClone(event) as EventOf<Topic> });
      },
      lock: async (jobId) => {
        fail('lock');
        return this.item(jobId) ?? null;
      },
      lockDue: async (now, limit) => {
        fail('lockDue');
        return dueLocked(now, limit, (i) => i.dueAt);
      },
      lockEscalationsDue: async (now, limit) => {
        fail('lockEscalationsDue');
        return dueLocked(now, limit, (i) => (i.escalatedAt === null ? i.escalateAt : null));
      },
      actionsOf: async (jobId) => {
        fail('actionsOf');
        return this.actionsOf(jobId);
      },
      insertAction: async (jobId, a) => {
        fail('insertAction');
        s().actions.set(jobId, [...(s().actions.get(jobId) ?? []), structuredClone(a)]);
      },
      resolve: async (jobId, r: ResolutionWrite) => {
        fail('resolve');
        const i = s().items.get(jobId);
        if (!i) return;
        Object.assign(i, {
          state: r.resolution,
          resolvedBy: r.resolvedBy,
          resolvedComment: r.resolvedComment,
          resolvedAt: r.resolvedAt,
        });
      },
      update: async (jobId, patch) => {
        fail('update');
        const i = s().items.get(jobId);
        if (i) Object.assign(i, structuredClone(patch));
      },
      claim: async (claims: readonly IntakeClaim[]) => {
        fail('claim');
        return claims.map((c) => {
          const k = `${c.consumer}\u0000${c.eventId}`;
          if (s().processed.has(k)) return false;
          s().processed.add(k);
          return true;
        });
      },
      unclaim: async (claims: readonly IntakeClaim[]) => {
        fail('unclaim');
        for (const c of claims) s().processed.delete(`${c.consumer}\u0000${c.eventId}`);
      },
      lockOrCreate: async (jobIds: readonly string[]) => {
        fail('lockOrCreate');
        return [...new Set(jobIds)].sort().map((jobId) => {
          if (!s().items.has(jobId)) s().items.set(jobId, approvalItem({ jobId }));
          return structuredClone(s().items.get(jobId)!) as IntakeItemRow;
        });
      },
      write: async (writes: readonly IntakeWrite[]) => {
        fail('write');
        for (const w of writes) {
          const cur = s().items.get(w.row.jobId) ?? approvalItem({ jobId: w.row.jobId });
          s().items.set(w.row.jobId, {
            ...cur,
            ...structuredClone(w.row),
            ...(w.payload ? structuredClone(w.payload) : {}),
          });
        }
      },
    };
  }
}
