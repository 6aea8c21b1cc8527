import type { KeyObject } from 'node:crypto';
import {
  AgentIdSchema,
  Headers,
  IdSchema,
  Topics,
  type JobBlockedData,
  type JobExecutedData,
  type JobProposedV1,
} from '@countersign/contracts';
import { jobHash, publicKeyFromPem } from '@countersign/crypto';
import type { KafkaConfig } from 'kafkajs';
import { CountersignError, NotReleasedError, TimeoutError } from './errors';
import { verifyGrant, type Grant } from './grant';
import { KafkaTransport } from './kafka-transport';
import { blockedError, outcomeOf, signalOf, type ExecutionOutcome } from './outcome';
import { DEFAULT_MAX_PROPOSAL_BYTES, buildProposal, serializeProposal, type ProposeInput } from './proposal';
import { jsonResult, sendReport } from './report-client';

export interface CountersignOptions {
  brokers: string[];
  agentId: string;
  tenant: string;
  /** execution-binding's base URL (e.g. http://localhost:8083); needed by `run()` to report outcomes. */
  executionUrl?: string;
  /** execution-binding's Ed25519 public key(s), PEM: grants signed by anything else are refused. */
  trustedExecutorKeys: string | readonly string[];
  /**
   * Kafka client id and consumer-group prefix; defaults to `countersign-sdk-<agentId>`, as it is: Kafka
   * takes any string there, workload ids with `/ : = , +` included.
   */
  clientId?: string;
  /** Extra kafkajs settings (ssl, sasl, logLevel, ...). */
  kafka?: Partial<KafkaConfig>;
  /** Default wait of `outcome()` and `run()`; 15 minutes unless set. */
  defaultTimeoutMs?: number;
  /**
   * Largest serialized proposal `propose()` and `run()` send, in bytes; larger ones throw
   * ProposalTooLargeError before anything is sent. 1 MiB unless set: keep it at or below the services'
   * `MAX_MESSAGE_BYTES` (and the broker's `max.message.bytes`).
   */
  maxProposalBytes?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
}

interface Watch {
  released?: Record<string, unknown>;
  executed?: JobExecutedData;
  blocked?: JobBlockedData;
  waiters: Set<() => void>;
}

const OUTCOME_TOPICS = [Topics.JobReleased, Topics.JobBlocked, Topics.JobExecuted] as const;
const MAX_WATCHES = 10_000;

function parseKeys(pems: string | readonly string[]): KeyObject[] {
  const text = typeof pems === 'string' ? pems : pems.join('\n');
  const found = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (found.length === 0) throw new CountersignError('INVALID_OPTIONS', 'trustedExecutorKeys: no PEM public key found');
  return found.map((pem) => publicKeyFromPem(pem));
}

/**
 * The gate in front of an agent's actions. `propose()` asks; `outcome()` waits for what the gate did;
 * `run()` is for actions only the agent can do: it waits for a verified grant, runs the function once
 * and reports what happened.
 */
export class Countersign {
  private readonly transport: KafkaTransport;
  private readonly trusted: KeyObject[];
  private readonly watches = new Map<string, Watch>();
  private started: Promise<void> | undefined;

  constructor(private readonly opts: CountersignOptions) {
    for (const [name, value, schema] of [
      ['agentId', opts.agentId, AgentIdSchema],
      ['tenant', opts.tenant, IdSchema],
    ] as const) {
      const r = schema.safeParse(value);
      if (!r.success)
        throw new CountersignError('INVALID_OPTIONS', `${name}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    }
    if (!opts.brokers?.length)
      throw new CountersignError('INVALID_OPTIONS', 'brokers: at least one broker is required');
    if (
      opts.maxProposalBytes !== undefined &&
      (!Number.isSafeInteger(opts.maxProposalBytes) || opts.maxProposalBytes < 1)
    )
      throw new CountersignError('INVALID_OPTIONS', 'maxProposalBytes: must be a positive whole number of bytes');
    this.trusted = parseKeys(opts.trustedExecutorKeys);
    this.transport = new KafkaTransport({
      brokers: opts.brokers,
      clientId: opts.clientId ?? `countersign-sdk-${opts.agentId}`,
      ...(opts.kafka ? { kafka: opts.kafka } : {}),
    });
  }

  /** Validates and publishes a proposal; resolves to its job id once the broker has it. */
  async propose(input: ProposeInput): Promise<string> {
    return (await this.publishProposal(input)).data.job_id;
  }

  /**
   * What the gate did with a job this instance proposed (or is watching since before its outcome):
   * resolves to the execution outcome (SUCCEEDED, FAILED or UNKNOWN), or throws DeniedError,
   * RejectedError (with the reviewer's reason), ExpiredError, BlockedError or TimeoutError.
   */
  async outcome(jobId: string, opts: WaitOptions = {}): Promise<ExecutionOutcome> {
    await this.ensureStarted();
    const watch = this.watch(jobId);
    await this.until(jobId, watch, (w) => Boolean(w.executed ?? w.blocked), opts.timeoutMs, 'outcome');
    if (watch.blocked) throw blockedError(watch.blocked);
    return outcomeOf(watch.executed as JobExecutedData);
  }

  /**
   * Proposes the action, waits for its grant, verifies it (execution-binding's signature, this job,
   * this agent, the hash of exactly what was proposed, not expired), runs `fn` once and reports its
   * outcome. Returns what `fn` returned; rethrows what it threw (after reporting FAILED).
   */
  async run<T>(action: ProposeInput, fn: (grant: Grant) => Promise<T> | T, opts: WaitOptions = {}): Promise<T> {
    const executionUrl = this.opts.executionUrl;
    if (!executionUrl)
      throw new CountersignError('INVALID_OPTIONS', 'run() reports outcomes to execution-binding: set executionUrl');
    const proposal = await this.publishProposal(action);
    const jobId = proposal.data.job_id;
    const watch = this.watch(jobId);
    await this.until(jobId, watch, (w) => Boolean(w.released ?? w.blocked ?? w.executed), opts.timeoutMs, 'grant');
    if (watch.blocked) throw blockedError(watch.blocked);
    if (!watch.released) throw new NotReleasedError(jobId, outcomeOf(watch.executed as JobExecutedData));

    const grantEvent = watch.released;
    const grant = verifyGrant(
      grantEvent,
      { jobId, jobHash: jobHash(proposal.data), agentId: this.opts.agentId, tenant: this.opts.tenant },
      this.trusted,
      new Date(),
    );
    const runtime = grant.constraints.max_runtime_sec;
    const signal = runtime ? AbortSignal.timeout(runtime * 1000) : new AbortController().signal;
    let result: T;
    try {
      result = await fn({ ...grant, signal });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      // The function's own error matters more than a failed report; the gate records UNKNOWN if it hears nothing.
      await sendReport(executionUrl, jobId, { grant: grantEvent, status: 'FAILED', error: error.slice(0, 2000) }).catch(
        () => undefined,
      );
      throw e;
    }
    await sendReport(executionUrl, jobId, { grant: grantEvent, status: 'SUCCEEDED', result: jsonResult(result) });
    return result;
  }

  async close(): Promise<void> {
    await this.started?.catch(() => undefined);
    await this.transport.close();
    this.started = undefined;
  }

  private async publishProposal(input: ProposeInput): Promise<JobProposedV1> {
    const event = buildProposal(input, { agentId: this.opts.agentId, tenant: this.opts.tenant });
    const value = serializeProposal(event, this.opts.maxProposalBytes ?? DEFAULT_MAX_PROPOSAL_BYTES);
    // Subscribed before the proposal leaves, so the outcome cannot slip past.
    await this.ensureStarted();
    this.watch(event.data.job_id);
    await this.transport.publish(Topics.JobProposed, event.data.job_id, value, {
      [Headers.EventId]: event.event_id,
      [Headers.EventType]: event.type,
      [Headers.SchemaVersion]: String(event.schema_version),
      [Headers.ContentType]: 'application/json',
    });
    return event;
  }

  private ensureStarted(): Promise<void> {
    this.started ??= this.transport
      .start(OUTCOME_TOPICS, (topic, value) => this.onMessage(topic, value))
      .catch((e: unknown) => {
        this.started = undefined;
        throw e;
      });
    return this.started;
  }

  private watch(jobId: string): Watch {
    let w = this.watches.get(jobId);
    if (!w) {
      w = { waiters: new Set() };
      this.watches.set(jobId, w);
      if (this.watches.size > MAX_WATCHES) {
        const oldest = this.watches.keys().next().value;
        if (oldest !== undefined) this.watches.delete(oldest);
      }
    }
    return w;
  }

  private onMessage(topic: string, value: Buffer | null): void {
    const signal = signalOf(topic, value, this.trusted);
    const w = signal ? this.watches.get(signal.jobId) : undefined;
    if (!signal || !w) return;
    switch (signal.kind) {
      case 'released':
        w.released ??= signal.event;
        break;
      case 'executed':
        w.executed ??= signal.data;
        break;
      case 'blocked':
        w.blocked ??= signal.data;
        break;
    }
    for (const wake of w.waiters) wake();
  }

  private until(
    jobId: string,
    w: Watch,
    done: (w: Watch) => boolean,
    timeoutMs: number | undefined,
    what: string,
  ): Promise<void> {
    const ms = timeoutMs ?? this.opts.defaultTimeoutMs ?? 15 * 60_000;
    return new Promise((resolve, reject) => {
      if (done(w)) return resolve();
      const wake = () => {
        if (!done(w)) return;
        clearTimeout(timer);
        w.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        w.waiters.delete(wake);
        reject(new TimeoutError(jobId, ms, what));
      }, ms);
      w.waiters.add(wake);
    });
  }
}
