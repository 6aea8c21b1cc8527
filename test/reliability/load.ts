import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka, Producer } from 'kafkajs';
import { Topics, type JobProposedV1 } from '@countersign/contracts';
import { elapse, mintToken } from '@countersign/testkit';
import type { ExpectedJob, ReviewRecord } from './invariants';

export type Tier = 'read' | 'constrained' | 'approve' | 'reject' | 'dual-approve' | 'deny';

interface Actor {
  sub: string;
  roles: string[];
}
const BOB: Actor = { sub: 'bob@globex.test', roles: ['service-owner'] };
const CAROL: Actor = { sub: 'carol@globex.test', roles: ['finance-approver'] };
const DAVE: Actor = { sub: 'dave@globex.test', roles: ['finance-approver'] };

interface TierSpec {
  tier: Tier;
  /** Out of 100. */
  weight: number;
  tenant: string;
  topic: string;
  risk_tags: string[];
  expected: Pick<ExpectedJob, 'outcome' | 'reasonCode' | 'gated'>;
  review?: { action: 'approve' | 'reject'; actors: Actor[] };
}

/**
 * The tier mix of the shipped system policy (policies/system.yaml): mostly reads, some bounded
 * egress, production changes approved or rejected by one service owner, payments approved by two
 * finance approvers, and payments from a trial tenant denied outright.
 */
export const TIERS: TierSpec[] = [
  {
    tier: 'read',
    weight: 55,
    tenant: 'globex',
    topic: 'job.repo.read',
    risk_tags: [],
    expected: { outcome: 'executed', gated: false },
  },
  {
    tier: 'constrained',
    weight: 15,
    tenant: 'globex',
    topic: 'job.notify.send',
    risk_tags: ['egress'],
    expected: { outcome: 'executed', gated: false },
  },
  {
    tier: 'approve',
    weight: 12,
    tenant: 'globex',
    topic: 'job.config.update',
    risk_tags: ['prod', 'write'],
    expected: { outcome: 'executed', gated: true },
    review: { action: 'approve', actors: [BOB] },
  },
  {
    tier: 'reject',
    weight: 5,
    tenant: 'globex',
    topic: 'job.config.update',
    risk_tags: ['prod', 'write'],
    expected: { outcome: 'blocked', reasonCode: 'REJECTED', gated: true },
    review: { action: 'reject', actors: [BOB] },
  },
  {
    tier: 'dual-approve',
    weight: 5,
    tenant: 'globex',
    topic: 'job.payment.transfer',
    risk_tags: ['payment'],
    expected: { outcome: 'executed', gated: true },
    review: { action: 'approve', actors: [CAROL, DAVE] },
  },
  {
    tier: 'deny',
    weight: 8,
    tenant: 'trial-chaos',
    topic: 'job.payment.transfer',
    risk_tags: ['payment'],
    expected: { outcome: 'blocked', reasonCode: 'DENIED', gated: false },
  },
];

/** Executor config for the spec: http target for reads, changes and payments; the kafka dispatch for egress. */
export function executorsYaml(targetUrl: string, dispatchTopic: string): string {
  return [
    'executors:',
    '  - name: chaos-target',
    '    kind: http',
    '    match: ["job.repo.**", "job.config.**", "job.payment.**"]',
    `    url: ${targetUrl}`,
    '    secret_env: EXECUTOR_HTTP_SECRET',
    '    idempotent: false',
    '    timeout_sec: 5',
    '  - name: chaos-dispatch',
    '    kind: kafka',
    '    match: ["job.notify.**"]',
    `    topic: ${dispatchTopic}`,
  ].join('\n');
}

function tierFor(i: number): TierSpec {
  // A fixed interleaving (not random) so every run has the same mix and small runs get every tier.
  const slot = (i * 37) % 100;
  let acc = 0;
  for (const t of TIERS) {
    acc += t.weight;
    if (slot < acc) return t;
  }
  return TIERS[0]!;
}

/** Records every call by its Idempotency-Key, so a second call for one job is visible at the target. */
export class ExecutorTarget {
  readonly calls = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const jobId = String(req.headers['idempotency-key'] ?? '');
        this.calls.set(jobId, (this.calls.get(jobId) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"done":true}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/execute`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

interface ReviewTask {
  jobId: string;
  spec: NonNullable<TierSpec['review']>;
  step: number;
  notBefore: number;
  tries: number;
}

/**
 * The automated reviewer: works the approval queue over REST with signed JWTs, one actor at a
 * time per job. Anything transient (decision not there yet, service or database down) is retried;
 * a response lost to a crash shows up as 409 on the retry and is resolved from its details.
 */
export class Reviewer {
  readonly reviews: ReviewRecord[] = [];
  readonly refusals: string[] = [];
  retries = 0;
  private readonly queue: ReviewTask[] = [];
  private readonly tokens = new Map<string, string>();
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly baseUrl: () => string,
    private readonly jwtSecret: string,
    private readonly concurrency = 4,
  ) {}

  get pending(): number {
    return this.queue.length + this.inFlight;
  }
  private inFlight = 0;

  add(jobId: string, spec: NonNullable<TierSpec['review']>): void {
    this.queue.push({ jobId, spec, step: 0, notBefore: Date.now() + 500, tries: 0 });
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private next(): ReviewTask | undefined {
    const now = Date.now();
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const t = this.queue[i]!;
      if (t.notBefore <= now && (best < 0 || t.notBefore < this.queue[best]!.notBefore)) best = i;
    }
    return best < 0 ? undefined : this.queue.splice(best, 1)[0];
  }

  private async work(): Promise<void> {
    while (this.running) {
      const task = this.next();
      if (!task) {
        await elapse(100, 'an idle reviewer looks at its queue again (tasks wait for their notBefore)');
        continue;
      }
      this.inFlight++;
      try {
        const again = await this.attempt(task);
        if (again) {
          task.tries++;
          this.retries++;
          task.notBefore = Date.now() + Math.min(3000, 250 * 2 ** Math.min(task.tries, 4));
          this.queue.push(task);
        }
      } finally {
        this.inFlight--;
      }
    }
  }

  private async token(actor: Actor): Promise<string> {
    let t = this.tokens.get(actor.sub);
    if (!t) {
      t = mintToken(this.jwtSecret, { sub: actor.sub, roles: actor.roles }, { ttlSeconds: 12 * 3600 });
      this.tokens.set(actor.sub, t);
    }
    return t;
  }

  /** Returns true when the step must be tried again. */
  private async attempt(task: ReviewTask): Promise<boolean> {
    const actor = task.spec.actors[task.step]!;
    const last = task.step === task.spec.actors.length - 1;
    let status: number;
    let body: { resolution?: string | null; error?: { code?: string; resolution?: { resolution?: string } } };
    try {
      const res = await fetch(`${this.baseUrl()}/api/v1/approvals/${task.jobId}/${task.spec.action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.token(actor)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `chaos reviewer ${task.spec.action}s` }),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      body = (await res.json().catch(() => ({}))) as typeof body;
    } catch {
      return true;
    }
    const code = body.error?.code;
    if (status === 200) {
      if (last)
        this.reviews.push({
          jobId: task.jobId,
          resolution: task.spec.action === 'approve' ? 'APPROVED' : 'REJECTED',
          confirmedBy: 'response',
        });
      if (last !== (body.resolution != null))
        this.refusals.push(`${task.jobId}: step ${task.step} answered resolution=${body.resolution}`);
      task.step++;
      return !last;
    }
    if (status === 409 && code === 'ALREADY_DECIDED_BY_ACTOR') {
      task.step++;
      return !last;
    }
    if (status === 409 && code === 'ALREADY_RESOLVED') {
      // Our own final action committed but its answer was lost (the service died mid-request).
      const reported = body.error?.resolution?.resolution;
      this.reviews.push({
        jobId: task.jobId,
        resolution: task.spec.action === 'approve' ? 'APPROVED' : 'REJECTED',
        confirmedBy: 'retry',
        reported,
      });
      return false;
    }
    if (status === 404 || status >= 500 || (status === 409 && code === 'PROPOSAL_PENDING')) return true;
    this.refusals.push(
      `${task.jobId}: ${task.spec.action} by ${actor.sub} answered ${status} ${JSON.stringify(body).slice(0, 300)}`,
    );
    return false;
  }
}

/**
 * Publishes proposals at a steady rate, as an agent fleet would. A send that fails (broker down)
 * is retried with the same event, so the job is proposed once however long the outage lasts.
 */
export class Publisher {
  readonly expected = new Map<string, ExpectedJob>();
  sent = 0;
  sendRetries = 0;
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly reviewer: Reviewer,
    private readonly runId: string,
  ) {}

  async run(total: number, ratePerSec: number, onProgress?: (sent: number) => void): Promise<void> {
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.connect();
    const start = Date.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / ratePerSec;
      if (due > Date.now()) await elapse(due - Date.now(), 'proposals leave at the asked rate');
      const spec = tierFor(i);
      const event = this.proposal(i, spec);
      for (;;) {
        try {
          await this.producer.send({
            topic: Topics.JobProposed,
            messages: [{ key: event.data.job_id, value: JSON.stringify(event) }],
          });
          break;
        } catch {
          this.sendRetries++;
          await elapse(1000, 'back off while the broker is down');
          await this.connect();
        }
      }
      this.expected.set(event.data.job_id, { tier: spec.tier, ...spec.expected });
      if (spec.review) this.reviewer.add(event.data.job_id, spec.review);
      this.sent++;
      if (onProgress && this.sent % 100 === 0) onProgress(this.sent);
    }
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    for (;;) {
      try {
        await this.producer!.connect();
        return;
      } catch {
        await elapse(1000, 'back off while the broker is down');
      }
    }
  }

  private proposal(i: number, spec: TierSpec): JobProposedV1 {
    const now = new Date().toISOString();
    const jobId = `chaos-${this.runId}-${String(i).padStart(6, '0')}-${spec.tier}`;
    return {
      event_id: randomUUID(),
      type: 'job.proposed',
      schema_version: 1,
      occurred_at: now,
      producer: 'chaos-agent',
      data: {
        job_id: jobId,
        tenant: spec.tenant,
        agent_id: `chaos-agent-${i % 7}`,
        topic: spec.topic,
        risk_tags: spec.risk_tags,
        payload: { n: i, tier: spec.tier },
        summary: { title: `chaos ${spec.tier} #${i}` },
        requested_by: 'runner@globex.test',
        proposed_at: now,
      },
    };
  }
}
