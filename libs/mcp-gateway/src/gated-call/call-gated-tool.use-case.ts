import { createHash, randomUUID } from 'node:crypto';
import { ReportError, type Grant, type ProposeInput, type WaitOptions } from '@countersign/agent-sdk';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolRoute } from '../routing/tool-route';
import { META_JOB_ID, explainGateError, toolError } from './explain-gate-error';
import { durationText } from './duration-text';
import { frozenJsonCopy, type DeepReadonly } from './frozen-json';
import { CallCancelledError, UpstreamCallError, UpstreamToolError } from './gated-call.errors';

/** The part of the agent SDK the gateway uses (`Countersign` is one). */
export interface GateRunner {
  run<T>(action: ProposeInput, fn: (grant: Grant) => Promise<T> | T, opts?: WaitOptions): Promise<T>;
}

export interface UpstreamCallOptions {
  signal: AbortSignal;
  onProgress?: (message: string) => void;
}

/** Calls a tool on an upstream MCP server. */
export interface UpstreamCaller {
  callTool(
    server: string,
    tool: string,
    args: DeepReadonly<Record<string, unknown>>,
    opts: UpstreamCallOptions,
  ): Promise<CallToolResult>;
}

/** A few words on where a job stands (e.g. "awaiting approval"), or null when unknown. */
export type JobStateReader = (jobId: string) => Promise<string | null>;

/** What the gateway proposes: exactly what it will send upstream, and nothing else. */
export type ProposedCall = DeepReadonly<{ server: string; tool: string; arguments: Record<string, unknown> }>;

export interface GatedCallCommand {
  route: ToolRoute;
  arguments: Record<string, unknown> | undefined;
  waitMs: number;
  jobId?: string;
}

export interface GatedCallContext {
  /** Aborts when the MCP client cancels the call. */
  signal: AbortSignal;
  /** Sends an MCP progress notification (a no-op when the client did not ask for progress). */
  progress: (message: string) => void;
}

export interface GatedCallOptions {
  requestedBy: string;
  progressIntervalMs: number;
  log: { warn(obj: object, msg: string): void };
}

/** The report endpoint takes at most 64 KiB of result JSON; a bigger result is audited by digest. */
export const MAX_AUDITED_RESULT_CHARS = 60_000;

/** What the audit trail keeps of the upstream's answer: all of it, or a digest and a preview when large. */
export function auditedResult(result: CallToolResult): unknown {
  const json = JSON.stringify(result);
  if (json.length <= MAX_AUDITED_RESULT_CHARS) return result;
  const text = result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
  return {
    truncated: true,
    json_chars: json.length,
    sha256: createHash('sha256').update(json).digest('hex'),
    text_preview: text.slice(0, 4000),
  };
}

function withJob(result: CallToolResult, jobId: string): CallToolResult {
  return { ...result, _meta: { ...result._meta, [META_JOB_ID]: jobId } };
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new CallCancelledError());
    else signal.addEventListener('abort', () => reject(new CallCancelledError()), { once: true });
  });
}

/**
 * One MCP tools/call through the gate: proposes `{server, tool, arguments}` as a job, waits for a
 * verified release grant (the SDK checks it is for the hash of exactly this proposal), then calls the
 * upstream once with the very object it proposed (deep-frozen, so nothing can change in between) and
 * reports the upstream's answer as the job's outcome. Anything that stops the call becomes a tool
 * error that says plainly what happened and why.
 */
export class CallGatedToolUseCase {
  constructor(
    private readonly gate: GateRunner,
    private readonly upstream: UpstreamCaller,
    private readonly opts: GatedCallOptions,
    private readonly jobState?: JobStateReader,
  ) {}

  async execute(cmd: GatedCallCommand, ctx: GatedCallContext): Promise<CallToolResult> {
    const { route } = cmd;
    const jobId = cmd.jobId ?? `job-${randomUUID()}`;
    const describe = { jobId, server: route.server, tool: route.tool, topic: route.topic, waitMs: cmd.waitMs };
    let call: ProposedCall;
    try {
      call = frozenJsonCopy({ server: route.server, tool: route.tool, arguments: cmd.arguments ?? {} });
    } catch {
      return toolError('INVALID_ARGUMENTS', `The arguments are not plain JSON: ${route.tool} was NOT run.`, jobId);
    }
    const action: ProposeInput = {
      jobId,
      topic: route.topic,
      riskTags: [...route.riskTags],
      payload: call as unknown as Record<string, unknown>,
      summary: {
        title: `MCP tool ${route.server}/${route.tool}`.slice(0, 200),
        nextEffect: `the gateway calls ${route.tool} on MCP server ${route.server} with these arguments`.slice(0, 500),
      },
      requestedBy: this.opts.requestedBy,
    };

    ctx.progress(`Asking Countersign for permission (job ${jobId}, ${route.topic} [${route.riskTags.join(', ')}])`);
    const heartbeat = this.heartbeat(jobId, cmd.waitMs, ctx);
    let answered: CallToolResult | undefined;
    const run = this.gate.run(
      action,
      async () => {
        heartbeat.stop();
        // The client gave up while the call waited: a late release must not act for nobody.
        if (ctx.signal.aborted) throw new CallCancelledError();
        ctx.progress(`Released by Countersign (job ${jobId}); calling ${route.server}/${route.tool}`);
        let result: CallToolResult;
        try {
          result = await this.upstream.callTool(call.server, call.tool, call.arguments, {
            signal: ctx.signal,
            onProgress: (m) => ctx.progress(`${route.server}: ${m}`),
          });
        } catch (e) {
          throw new UpstreamCallError(route.server, e);
        }
        answered = result;
        if (result.isError) throw new UpstreamToolError(result);
        return auditedResult(result);
      },
      { timeoutMs: cmd.waitMs },
    );
    try {
      await Promise.race([run, untilAborted(ctx.signal)]);
    } catch (e) {
      if (answered) {
        if (e instanceof ReportError)
          this.opts.log.warn(
            { job_id: jobId, err: e.message },
            'the outcome could not be reported; the gate will record UNKNOWN',
          );
        return withJob(answered, jobId);
      }
      const { code, text } = explainGateError(e, describe);
      return toolError(code, text, jobId);
    } finally {
      heartbeat.stop();
      // After a cancellation the run goes on waiting in the background; its end is of no interest.
      run.catch(() => undefined);
    }
    return withJob(answered as CallToolResult, jobId);
  }

  /** Progress while the call waits: where the job stands and how long it has waited. */
  private heartbeat(jobId: string, waitMs: number, ctx: GatedCallContext): { stop(): void } {
    const started = Date.now();
    let stopped = false;
    let busy = false;
    const timer = setInterval(() => {
      if (stopped || busy) return;
      busy = true;
      const waited = durationText(Date.now() - started);
      void (this.jobState ? this.jobState(jobId).catch(() => null) : Promise.resolve(null))
        .then((state) => {
          if (stopped) return;
          ctx.progress(
            `Waiting for Countersign (job ${jobId}${state ? `: ${state}` : ''}); waited ${waited} of up to ${durationText(waitMs)}`,
          );
        })
        .finally(() => (busy = false));
    }, this.opts.progressIntervalMs);
    timer.unref();
    return {
      stop() {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}
