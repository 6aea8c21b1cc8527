import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Consumer } from 'kafkajs';
import {
  Topics,
  type ApprovalResolvedData,
  type ApprovalResolvedV1,
  type DecisionMadeData,
  type DecisionMadeV1,
  type JobProposedV1,
} from '@countersign/contracts';
import { jobHash, signEvent, signerFromPem } from '@countersign/crypto';
import { MessageWaits, mintToken, waitUntil } from '@countersign/testkit';
import { closePublisher, headersOf, jsonOf, type ProbedMessage } from '../../support/kafka-probe';
import {
  SERVICE_NAMES,
  createTestDatabase,
  kafka,
  keyEnv,
  makeTestKeys,
  stackConfig,
  startService,
  type ServiceHandle,
  type ServiceName,
  type TestKeys,
} from '../../support/stack';

/** Polls until `fn` returns something other than undefined (a throw counts as not yet). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const hit = await waitUntil(
    async () => {
      const v = await fn().catch(() => undefined);
      return v === undefined ? undefined : { v };
    },
    { what, timeout: timeoutMs, every: 250 },
  );
  return hit.v;
}

/** Which services consume each topic (docs/events.md, ARCHITECTURE.md), i.e. who DLQs a bad message on it. */
export const CONSUMERS: Record<string, readonly ServiceName[]> = {
  [Topics.JobProposed]: ['policy-decision', 'approval-queue', 'execution-binding', 'audit'],
  [Topics.DecisionMade]: ['approval-queue', 'execution-binding', 'audit'],
  [Topics.ApprovalResolved]: ['execution-binding', 'audit'],
  [Topics.ApprovalEscalated]: ['audit'],
  [Topics.JobReleased]: ['audit'],
  [Topics.JobBlocked]: ['audit'],
  [Topics.JobExecuted]: ['audit'],
  [Topics.PolicyActivated]: ['audit'],
};

/** A message as the probe keeps it (`value` is null for DLQ records, whose JSON is kept without the original bytes). */
export interface TailedMessage extends ProbedMessage {
  /** When the tail read it (Date.now()), to time publish-to-record latencies. */
  receivedAt: number;
}

/**
 * Reads topics from their current end (not their history, which on the shared broker can be long),
 * keeping each message's JSON. The end offsets are read before the group joins and every partition
 * is sought back to them, so nothing published after `start()` returns is missed.
 */
export class TopicTail {
  readonly messages: TailedMessage[] = [];
  private consumer: Consumer | undefined;
  private readonly waits = new MessageWaits();

  find(topic: string, predicate: (m: TailedMessage) => boolean = () => true): TailedMessage[] {
    return this.messages.filter((m) => m.topic === topic && predicate(m));
  }

  forJob(topic: string, jobId: string): TailedMessage[] {
    return this.find(topic, (m) => (m.json?.['data'] as { job_id?: string } | undefined)?.job_id === jobId);
  }

  async waitFor(topic: string, predicate: (m: TailedMessage) => boolean, timeoutMs = 30000): Promise<TailedMessage> {
    const [hit] = await this.waits.waitFor(
      () => this.find(topic, predicate),
      1,
      timeoutMs,
      () => `no message on ${topic} matching within ${timeoutMs} ms (saw ${this.find(topic).length} on the topic)`,
    );
    return hit!;
  }

  async start(topics: readonly string[]): Promise<void> {
    const k = kafka();
    const admin = k.admin();
    await admin.connect();
    const ends = new Map<string, { partition: number; offset: string }[]>();
    try {
      for (const t of topics)
        ends.set(
          t,
          (await admin.fetchTopicOffsets(t)).map((o) => ({ partition: o.partition, offset: o.high })),
        );
    } finally {
      await admin.disconnect();
    }
    const consumer = k.consumer({ groupId: `security-tail-${randomUUID()}`, maxBytesPerPartition: 4 * 1048576 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: false });
    const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const from = ends.get(topic)?.find((p) => p.partition === partition)?.offset;
        if (from !== undefined && BigInt(message.offset) < BigInt(from)) return;
        let value = message.value ? message.value.toString('utf8') : null;
        const json = jsonOf(value);
        if (json && typeof json['value_base64'] === 'string') {
          json['value_base64'] = `(${json['value_base64'].length} chars)`;
          value = null;
        }
        const headers = headersOf(message.headers);
        const key = message.key?.toString('utf8') ?? null;
        this.messages.push({
          topic,
          partition,
          offset: message.offset,
          key,
          value,
          json,
          headers,
          receivedAt: Date.now(),
        });
        this.waits.seen();
      },
    });
    await joined;
    for (const [topic, partitions] of ends)
      for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.offset });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

export interface ExecutorCall {
  jobId: string;
  body: string;
}

export interface TokenOptions {
  /** Default `["*"]` (every tenant); null: no `tenants` claim (no tenant). */
  tenants?: string[] | null;
  secret?: string;
  /** Seconds until the token expires (negative: expired). Default one hour. */
  ttlSeconds?: number;
  extraClaims?: Record<string, unknown>;
}

export interface SecurityStack {
  keys: TestKeys;
  services: Map<ServiceName, ServiceHandle>;
  /** decision.made, approval.resolved, job.executed and job.blocked from the start of the stack on. */
  events: TopicTail;
  /** Every call the http executor target received, in order. */
  calls: ExecutorCall[];
  url(name: ServiceName): string;
  callsFor(jobId: string): ExecutorCall[];
  token(sub: string, roles: string[], opts?: TokenOptions): Promise<string>;
  /** A decision.made for `proposal`, signed by the stack's real policy-decision key (or `signerPem`). */
  decision(proposal: JobProposedV1, data?: Partial<DecisionMadeData>, signerPem?: string): DecisionMadeV1;
  /** An approval.resolved for `proposal`, signed by the stack's real approval-queue key (or `signerPem`). */
  resolution(
    proposal: JobProposedV1,
    snapshot: string,
    data?: Partial<ApprovalResolvedData>,
    signerPem?: string,
  ): ApprovalResolvedV1;
  /** execution-binding's view of a job. */
  state(jobId: string): Promise<Record<string, unknown> & { state?: string }>;
  /** The job's outcome event (executed, or blocked but not report-only). */
  outcome(jobId: string, timeoutMs?: number): Promise<TailedMessage>;
  /** Every service still answers /readyz with 200. */
  allReady(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const isOutcome = (jobId: string) => (m: TailedMessage) => {
  const d = m.json?.['data'] as { job_id?: string; report_only?: boolean } | undefined;
  return d?.job_id === jobId && d.report_only !== true;
};

/**
 * The four services as processes on the real broker and Postgres (fresh database, fresh keys), with
 * an http executor for every topic whose target records each call, so a spec can assert that no
 * forged or replayed action ever reached it.
 */
export async function startSecurityStack(
  name: string,
  opts: { env?: Record<string, string>; serviceEnv?: Partial<Record<ServiceName, Record<string, string>>> } = {},
): Promise<SecurityStack> {
  const keys = makeTestKeys();
  const calls: ExecutorCall[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ jobId: String(req.headers['idempotency-key'] ?? ''), body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"done":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  const config = stackConfig(name, [
    'executors:',
    '  - name: recorder',
    '    kind: http',
    '    match: ["**"]',
    `    url: http://127.0.0.1:${port}/execute`,
    '    secret_env: EXECUTOR_HTTP_SECRET',
    '    timeout_sec: 10',
  ]);
  const db = await createTestDatabase(name);
  const events = new TopicTail();
  await events.start([Topics.DecisionMade, Topics.ApprovalResolved, Topics.JobExecuted, Topics.JobBlocked]);
  const env = {
    ...keyEnv(keys),
    ...config.env,
    EXECUTOR_HTTP_SECRET: 'security-executor-secret-0123456789',
    // Debug lines for 10,000 fuzzed messages only slow the machine down.
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const services = new Map<ServiceName, ServiceHandle>();
  const started = await Promise.allSettled(
    SERVICE_NAMES.map((n) => startService(n, { databaseUrl: db, env: { ...env, ...opts.serviceEnv?.[n] } })),
  );
  for (const s of started) if (s.status === 'fulfilled') services.set(s.value.name, s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all([...services.values()].map((s) => s.stop()));
    await events.stop();
    server.close();
    throw failed.reason;
  }

  const url = (n: ServiceName) => services.get(n)!.url;
  const signed = <T extends Record<string, unknown>>(event: T, pem: string) => signEvent(event, signerFromPem(pem));

  const stack: SecurityStack = {
    keys,
    services,
    events,
    calls,
    url,
    callsFor: (jobId) => calls.filter((c) => c.jobId === jobId),
    token: (sub, roles, o = {}) =>
      // Every tenant unless told (`tenants: null` leaves the claim out: a token without it covers none).
      Promise.resolve(
        mintToken(
          o.secret ?? keys.jwtSecret,
          { sub, roles, tenants: o.tenants === null ? undefined : (o.tenants ?? ['*']), ...o.extraClaims },
          { ttlSeconds: o.ttlSeconds ?? 3600 },
        ),
      ),
    decision: (p, data = {}, signerPem = keys.pems['policy-decision'].privateKeyPem) =>
      signed(
        {
          event_id: randomUUID(),
          type: Topics.DecisionMade,
          schema_version: 1 as const,
          occurred_at: new Date().toISOString(),
          producer: 'policy-decision',
          data: {
            job_id: p.data.job_id,
            tenant: p.data.tenant,
            decision: 'ALLOW' as const,
            policy_snapshot: `cfg:system:policy#sha256:${'a'.repeat(64)}`,
            policy_rule_id: 'allow-read',
            policy_reason: 'reads are allowed',
            matched_rules: ['allow-read'],
            job_hash: jobHash(p.data),
            constraints: {},
            approval: null,
            decision_summary: { title: p.data.summary?.title ?? 'job', why: 'allowed', next_effect: 'runs now' },
            decided_at: new Date().toISOString(),
            ...data,
          },
        },
        signerPem,
      ) as DecisionMadeV1,
    resolution: (p, snapshot, data = {}, signerPem = keys.pems['approval-queue'].privateKeyPem) =>
      signed(
        {
          event_id: randomUUID(),
          type: Topics.ApprovalResolved,
          schema_version: 1 as const,
          occurred_at: new Date().toISOString(),
          producer: 'approval-queue',
          data: {
            job_id: p.data.job_id,
            tenant: p.data.tenant,
            resolution: 'APPROVED' as const,
            job_hash: jobHash(p.data),
            policy_snapshot: snapshot,
            approvals: [
              {
                actor: 'mallory',
                role: 'service-owner',
                action: 'approve' as const,
                reason: 'lgtm',
                note: null,
                at: new Date().toISOString(),
              },
            ],
            resolved_by: 'mallory',
            resolved_comment: 'lgtm',
            resolved_at: new Date().toISOString(),
            ...data,
          },
        },
        signerPem,
      ) as ApprovalResolvedV1,
    state: async (jobId) => {
      const operator = await stack.token('olivia', ['operator']);
      const res = await fetch(`${url('execution-binding')}/api/v1/jobs/${encodeURIComponent(jobId)}/state`, {
        headers: { authorization: `Bearer ${operator}` },
      });
      return (await res.json()) as Record<string, unknown> & { state?: string };
    },
    outcome: (jobId, timeoutMs = 60000) =>
      Promise.race([
        events.waitFor(Topics.JobExecuted, isOutcome(jobId), timeoutMs),
        events.waitFor(Topics.JobBlocked, isOutcome(jobId), timeoutMs),
      ]),
    allReady: async () => {
      const out: Record<string, number> = {};
      for (const [n, s] of services)
        out[n] = await fetch(`${s.url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
      return out;
    },
    stop: async () => {
      await Promise.all([...services.values()].map((s) => s.stop()));
      await events.stop();
      await closePublisher();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  return stack;
}

export const ALL_READY = Object.fromEntries(SERVICE_NAMES.map((n) => [n, 200]));
