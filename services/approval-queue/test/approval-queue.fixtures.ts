import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Topics,
  type ApprovalRequirement,
  type DecisionMadeData,
  type DecisionMadeV1,
  type JobProposedV1,
} from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { signedEvent } from '@countersign/testkit';
import { publishRaw } from '../../../test/support/kafka-probe';
import {
  createTestDatabase,
  keyEnv,
  startService,
  type ServiceHandle,
  type TestKeys,
} from '../../../test/support/stack';

/* Helpers for the approval-queue integration specs (tokens, waits and signing come from @countersign/testkit). */

/** The same derivation as `deterministicEventId` in @countersign/bus (a v8 UUID from the parts). */
export function expectedEventId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const SNAPSHOT = `cfg:system:policy#sha256:${'5'.repeat(64)}`;

export function requirement(over: Partial<ApprovalRequirement> = {}): ApprovalRequirement {
  return {
    approvals_required: 1,
    approver_roles: ['service-owner'],
    sla_seconds: 3600,
    escalate_after_seconds: null,
    escalation_roles: ['oncall'],
    ...over,
  };
}

/** A decision.made for a proposal, signed with the given PEM (the policy-decision key unless forging). */
export function signedDecision(
  privateKeyPem: string,
  p: JobProposedV1,
  over: Partial<DecisionMadeData> = {},
  opts: { eventId?: string; unsigned?: boolean } = {},
): DecisionMadeV1 {
  return signedEvent(
    Topics.DecisionMade,
    {
      job_id: p.data.job_id,
      tenant: p.data.tenant,
      decision: 'REQUIRE_APPROVAL',
      policy_snapshot: SNAPSHOT,
      policy_rule_id: 'prod-writes',
      policy_reason: 'production writes need an owner',
      matched_rules: ['prod-writes'],
      job_hash: jobHash(p.data),
      constraints: {},
      approval: requirement(),
      decision_summary: {
        title: p.data.summary?.title ?? 'a job',
        why: 'production write',
        next_effect: 'the change is applied',
      },
      decided_at: new Date().toISOString(),
      ...over,
    },
    {
      signer: opts.unsigned ? null : privateKeyPem,
      producer: 'policy-decision',
      ...(opts.eventId ? { eventId: opts.eventId } : {}),
    },
  );
}

export async function publishProposal(p: JobProposedV1): Promise<void> {
  await publishRaw(Topics.JobProposed, p.data.job_id, JSON.stringify(p));
}

export async function publishDecision(d: DecisionMadeV1): Promise<void> {
  await publishRaw(Topics.DecisionMade, d.data.job_id, JSON.stringify(d));
}

export function policyKey(keys: TestKeys): string {
  return keys.pems['policy-decision'].privateKeyPem;
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** A tiny JSON client for the queue's REST API. */
export class Api {
  constructor(private readonly base: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    token?: string | null,
    body?: unknown,
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  get<T = Record<string, unknown>>(path: string, token?: string | null): Promise<Reply<T>> {
    return this.request<T>('GET', path, token);
  }

  approve(jobId: string, token: string, body: Record<string, unknown> = {}): Promise<Reply> {
    return this.request('POST', `/api/v1/approvals/${encodeURIComponent(jobId)}/approve`, token, body);
  }

  reject(jobId: string, token: string, body: Record<string, unknown> = {}): Promise<Reply> {
    return this.request('POST', `/api/v1/approvals/${encodeURIComponent(jobId)}/reject`, token, body);
  }

  /** The queue filtered by a rule id, which each spec makes unique to itself. */
  async list(
    token: string,
    query: Record<string, string | number | boolean> = {},
  ): Promise<Reply<{ items: QueueItemJson[]; next_cursor: string | null }>> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.get(`/api/v1/approvals${qs ? `?${qs}` : ''}`, token);
  }
}

export interface QueueItemJson {
  job: { id: string; state: string };
  tenant: string;
  topic: string | null;
  agent_id: string | null;
  requested_by: string | null;
  proposal_received: boolean;
  payload: Record<string, unknown> | null;
  redacted_fields: string[];
  approvals: { actor: string; role: string; action: string; reason: string | null; note: string | null; at: string }[];
  approvals_required: number;
  approver_roles: string[];
  due_at: string;
  resolution: string | null;
  resolved_by: string | null;
  history: { job_id: string; resolution: string; actor: string | null; reason: string | null; at: string }[];
  [k: string]: unknown;
}

/** Receives the escalation webhook's POSTs. */
export class WebhookSink {
  readonly received: { path: string; body: unknown }[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString('utf8')));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', body: data ? (JSON.parse(data) as unknown) : null });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export { dropDatabase, makeTestKeys, sql } from '../../../test/support/stack';

/** The queue as a process on `databaseUrl`, with the test keys and `env` on top. */
export function startQueue(
  keys: TestKeys,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServiceHandle> {
  return startService('approval-queue', { databaseUrl, env: { ...keyEnv(keys), ...env } });
}

/**
 * A database for one run of one spec: the name carries the process id, so two runs of the suite at
 * once (a CI job beside a developer) never drop each other's database. Drop it with dropDatabase.
 */
export function createRunDatabase(name: string): Promise<string> {
  return createTestDatabase(`${name}_${process.pid}`);
}
