import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ApprovalResolvedData,
  ApprovalResolvedV1,
  DecisionMadeData,
  DecisionMadeV1,
  JobProposedV1,
} from '@countersign/contracts';
import { Topics } from '@countersign/contracts';
import { jobHash, publicKeyFromPem, signEvent, signerFromPem, verifyEvent, type Signer } from '@countersign/crypto';
import { TEST_SNAPSHOT, bearer, decisionData, mintToken, signedEvent, waitUntil } from '@countersign/testkit';
import { Client } from 'pg';
import {
  KafkaProbe,
  closePublisher,
  consumerPassed,
  publishRaw,
  type ProbedMessage,
} from '../../../test/support/kafka-probe';
import {
  createTestDatabase,
  makeTestKeys,
  startService,
  type ServiceHandle,
  type TestKeys,
} from '../../../test/support/stack';

export const SNAPSHOT = TEST_SNAPSHOT;
export const OTHER_SNAPSHOT = `cfg:tenant:acme:policy#sha256:${'c'.repeat(64)}`;

/** Builds decisions and resolutions for a stored proposal, signed by the test keys (or any other signer). */
export class FactFactory {
  readonly policyDecision: Signer;
  readonly approvalQueue: Signer;

  constructor(keys: TestKeys) {
    this.policyDecision = signerFromPem(keys.pems['policy-decision'].privateKeyPem);
    this.approvalQueue = signerFromPem(keys.pems['approval-queue'].privateKeyPem);
  }

  decision(
    p: JobProposedV1,
    over: Partial<DecisionMadeData> = {},
    signer: Signer = this.policyDecision,
  ): DecisionMadeV1 {
    const gated = (over.decision ?? 'ALLOW') === 'REQUIRE_APPROVAL';
    return signedEvent(
      'decision.made',
      decisionData(p.data, {
        approval: gated
          ? {
              approvals_required: 1,
              approver_roles: ['owner'],
              sla_seconds: 1800,
              escalate_after_seconds: null,
              escalation_roles: [],
            }
          : null,
        ...over,
      }),
      { signer, producer: 'policy-decision' },
    );
  }

  resolution(
    p: JobProposedV1,
    over: Partial<ApprovalResolvedData> = {},
    signer: Signer = this.approvalQueue,
  ): ApprovalResolvedV1 {
    const at = new Date().toISOString();
    return signedEvent(
      'approval.resolved',
      {
        job_id: p.data.job_id,
        tenant: p.data.tenant,
        resolution: 'APPROVED',
        job_hash: jobHash(p.data),
        policy_snapshot: SNAPSHOT,
        approvals: [{ actor: 'bob', role: 'owner', action: 'approve', reason: 'fine', note: null, at }],
        resolved_by: 'bob',
        resolved_comment: null,
        resolved_at: at,
        ...over,
      },
      { signer, producer: 'approval-queue' },
    );
  }
}

export async function publish(event: { type: string; data: { job_id: string } }): Promise<void> {
  await publishRaw(event.type, event.data.job_id, JSON.stringify(event));
}

export interface JobState {
  state: string;
  job_hash: string | null;
  facts: Record<'proposal' | 'decision' | 'resolution', { event_id: string; signature_ok?: boolean } | null>;
  block: { reason_code: string; detail: string; reason_text: string | null } | null;
  execution: {
    state: string;
    status: string | null;
    attempts: number;
    error: string | null;
    kind: string;
    result?: unknown;
  } | null;
  late_facts: number;
}

let stateToken: string | undefined;
/** The job state API needs an operator (or auditor) token: getState presents one minted with `secret`. */
export function useStateToken(secret: string): void {
  stateToken = mintToken(secret, { sub: 'olivia', roles: ['operator'] });
}

export async function getState(baseUrl: string, jobId: string): Promise<{ status: number; body: JobState }> {
  const res = await fetch(`${baseUrl}/api/v1/jobs/${encodeURIComponent(jobId)}/state`, {
    headers: stateToken ? bearer(stateToken) : {},
  });
  return { status: res.status, body: (await res.json()) as JobState };
}

/** Polls the job's state until `ok` holds. */
export async function waitForState(
  baseUrl: string,
  jobId: string,
  ok: (s: JobState) => boolean,
  timeoutMs = 30000,
): Promise<JobState> {
  return waitUntil(
    async () => {
      const r = await getState(baseUrl, jobId);
      return r.status === 200 && ok(r.body) && r.body;
    },
    { what: `job ${jobId} reaching the state asked for`, timeout: timeoutMs },
  );
}

/** Publishes a fact and waits until the service has stored it. */
export async function deliver(
  baseUrl: string,
  kind: 'proposal' | 'decision' | 'resolution',
  event: { event_id: string; type: string; data: { job_id: string } },
) {
  await publish(event);
  return waitForState(
    baseUrl,
    event.data.job_id,
    (s) => s.facts[kind]?.event_id === event.event_id || s.late_facts > 0 || s.state === 'blocked',
  );
}

/**
 * Barrier: the service has handled everything published to its input topics so far, every outbox
 * row is sent, and the probe has read all of it. After it, "exactly once" and "never" can be
 * counted without a fixed sleep.
 */
export async function settled(svc: ServiceHandle, databaseUrl: string, probe: KafkaProbe): Promise<void> {
  await consumerPassed(svc.groupId, [Topics.JobProposed, Topics.DecisionMade, Topics.ApprovalResolved]);
  await waitUntil(
    async () => {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        const r = await c.query(`SELECT 1 FROM execution_binding.outbox WHERE published_at IS NULL LIMIT 1`);
        return r.rowCount === 0;
      } finally {
        await c.end();
      }
    },
    { what: 'the execution-binding outbox sent' },
  );
  await probe.caughtUp([Topics.JobReleased, Topics.JobBlocked, Topics.JobExecuted]);
}

export interface HookCall {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP target for the http executor: records every call; each path answers as told. */
export class HookServer {
  readonly calls: HookCall[] = [];
  private server: Server | undefined;
  private readonly handlers = new Map<string, (call: HookCall, res: ServerResponse) => void>();
  port = 0;

  on(path: string, handler: (call: HookCall, res: ServerResponse) => void): void {
    this.handlers.set(path, handler);
  }

  callsTo(jobId: string): HookCall[] {
    return this.calls.filter((c) => c.headers['idempotency-key'] === jobId);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const call = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.calls.push(call);
        const handler = this.handlers.get(call.path);
        if (handler) return handler(call, res);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export function writeExecutorsFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'eb-executors-'));
  const file = join(dir, 'executors.yaml');
  writeFileSync(file, yaml);
  return file;
}

/**
 * The outcome events of THIS spec's service only: every outcome event is signed by execution-binding,
 * and another instance on the shared broker (another spec, another engineer) signs with other keys.
 */
export class OutcomeProbe {
  private readonly trusted;

  constructor(
    private readonly probe: KafkaProbe,
    keys: TestKeys,
  ) {
    this.trusted = [publicKeyFromPem(keys.pems['execution-binding'].publicKeyPem)];
  }

  private ours(m: ProbedMessage, jobId: string): boolean {
    return (
      (m.json?.['data'] as { job_id?: string } | undefined)?.job_id === jobId && verifyEvent(m.json!, this.trusted).ok
    );
  }

  forJob(topic: string, jobId: string): Record<string, unknown>[] {
    return this.probe.find(topic, (m) => this.ours(m, jobId)).map((m) => m.json!);
  }

  async waitForJob(
    topic: string,
    jobId: string,
    where: (data: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 30000,
  ) {
    const [hit] = await this.probe.waitFor(
      topic,
      (m) => this.ours(m, jobId) && where(m.json!['data'] as Record<string, unknown>),
      timeoutMs,
    );
    return hit!.json!;
  }

  /** The job's own outcome block (not a report-only one). */
  async outcomeBlock(jobId: string): Promise<Record<string, unknown>> {
    const e = await this.waitForJob('job.blocked', jobId, (d) => !d['report_only']);
    return e['data'] as Record<string, unknown>;
  }
}

/**
 * The shared broker may carry another stack (another spec, another engineer) whose policy-decision
 * decides every proposal it sees, with its own key: to this spec's service that decision is forged,
 * and it blocks the job BAD_SIGNATURE, correctly. Specs therefore store their trusted facts before
 * the proposal where the order does not matter; where it does, this names the interference plainly.
 */
export function failOnForeignDecision(state: JobState, ours: readonly string[]): void {
  const decision = state.facts.decision;
  const foreign =
    (decision && !ours.includes(decision.event_id)) ||
    (state.block?.reason_code === 'BAD_SIGNATURE' && !ours.some((id) => state.block!.detail.includes(id)));
  if (foreign) {
    throw new Error(
      `another stack on the shared broker decided this spec's proposal first (${JSON.stringify(state.block ?? state.facts)}); ` +
        'run the execution-binding specs while no other policy-decision is running',
    );
  }
}

/** Edits the bytes of an event's text: every `"field":"from"` becomes `"field":"to"`. */
export function editText(text: string, field: string, from: string, to: string): string {
  const before = `"${field}":"${from}"`;
  if (!text.includes(before)) throw new Error(`${before} is not in the text`);
  return text.split(before).join(`"${field}":"${to}"`);
}

/** A genuine event's bytes moved onto another job: job id and job hash edited, everything else kept. */
export function movedOntoText(text: string, from: JobProposedV1, to: JobProposedV1): string {
  return editText(
    editText(text, 'job_id', from.data.job_id, to.data.job_id),
    'job_hash',
    jobHash(from.data),
    jobHash(to.data),
  );
}

/**
 * Signs edited text anew, as a compromised or buggy producer would: the old signature is cut off
 * the bytes and one over the edited content is written in its place.
 */
export function resignText(text: string, signer: Signer): string {
  const unsigned = text.replace(/,"signature":\{[^}]*\}\}$/, '}');
  if (unsigned === text) throw new Error('no trailing signature to replace');
  const { signature } = signEvent(JSON.parse(unsigned) as Record<string, unknown>, signer);
  return `${unsigned.slice(0, -1)},"signature":{"alg":"Ed25519","key_id":"${signature.key_id}","value":"${signature.value}"}}`;
}

/** The executors most specs use: `test.http.**` to the rig's HTTP target, every other job released to the agent. */
export function hookAndAgentExecutors(port: number): string {
  return writeExecutorsFile(`
executors:
  - name: hook
    kind: http
    match: ["test.http.**"]
    url: http://127.0.0.1:${port}/hook
    secret_env: TEST_HOOK_SECRET
  - name: agent
    kind: release
    match: ["job.**"]
`);
}

export const HOOK_SECRET = 'test-hook-secret-0123456789';

/**
 * What every execution-binding spec sets up: test keys (and the state token), signed facts, a
 * Kafka probe with its outcome view, the HTTP target; `start` adds a fresh database and the service.
 */
export class BindingRig {
  readonly keys: TestKeys = makeTestKeys();
  readonly facts = new FactFactory(this.keys);
  readonly kafkaProbe = new KafkaProbe();
  readonly probe = new OutcomeProbe(this.kafkaProbe, this.keys);
  readonly hook = new HookServer();
  svc!: ServiceHandle;
  db!: string;

  constructor() {
    useStateToken(this.keys.jwtSecret);
  }

  /** A fresh database, the probe on `topics`, and the service with the rig's keys plus `env`. */
  async start(database: string, topics: readonly string[], env: Record<string, string>): Promise<ServiceHandle> {
    this.db = await createTestDatabase(database);
    await this.kafkaProbe.start(topics);
    this.svc = await startService('execution-binding', { databaseUrl: this.db, keys: this.keys, env });
    return this.svc;
  }

  /** The barrier of `settled` for this rig's service (or another one on `db`). */
  settled(svc: ServiceHandle = this.svc, db: string = this.db): Promise<void> {
    return settled(svc, db, this.kafkaProbe);
  }

  async stop(): Promise<void> {
    await this.svc?.stop();
    await this.kafkaProbe.stop();
    await closePublisher();
    await this.hook.stop();
  }
}
