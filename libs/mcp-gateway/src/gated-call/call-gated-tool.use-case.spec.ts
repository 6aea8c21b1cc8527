import {
  BlockedError,
  DeniedError,
  ExpiredError,
  RejectedError,
  ReportError,
  TimeoutError,
  buildProposal,
  type Grant,
  type ProposeInput,
} from '@countersign/agent-sdk';
import { canonicalJson, jobHash } from '@countersign/crypto';
import { elapse, waitUntil } from '@countersign/testkit';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolRoute } from '../routing/tool-route';
import {
  CallGatedToolUseCase,
  MAX_AUDITED_RESULT_CHARS,
  type GateRunner,
  type UpstreamCallOptions,
} from './call-gated-tool.use-case';
import { META_CODE, META_JOB_ID } from './explain-gate-error';

const ROUTE: ToolRoute = {
  server: 'repo',
  tool: 'delete_branch',
  topic: 'job.deploy.delete',
  riskTags: ['prod', 'write'],
  mapped: true,
};

const grant = (jobId: string): Grant => ({
  jobId,
  jobHash: 'h',
  policySnapshot: 's',
  constraints: {},
  expiresAt: new Date(Date.now() + 60_000),
  signal: new AbortController().signal,
});

/** A gate that releases (or throws) when told to, and keeps what it was asked and what fn returned. */
class FakeGate implements GateRunner {
  actions: ProposeInput[] = [];
  reported: { status: 'SUCCEEDED' | 'FAILED'; value: unknown }[] = [];
  private release!: () => void;
  private refuse!: (e: unknown) => void;
  readonly asked: Promise<void>;
  private onAsked!: () => void;

  constructor(private readonly mode: 'release' | 'manual' | { throws: unknown } | { reportFails: true } = 'release') {
    this.asked = new Promise((r) => (this.onAsked = r));
  }

  async run<T>(action: ProposeInput, fn: (grant: Grant) => Promise<T> | T): Promise<T> {
    this.actions.push(action);
    this.onAsked();
    if (typeof this.mode === 'object' && 'throws' in this.mode) throw this.mode.throws;
    if (this.mode === 'manual')
      await new Promise<void>((res, rej) => {
        this.release = res;
        this.refuse = rej;
      });
    let value: T;
    try {
      value = await fn(grant(action.jobId as string));
    } catch (e) {
      this.reported.push({ status: 'FAILED', value: (e as Error).message });
      throw e;
    }
    this.reported.push({ status: 'SUCCEEDED', value });
    if (typeof this.mode === 'object' && 'reportFails' in this.mode)
      throw new ReportError(action.jobId as string, 'HTTP 400', value);
    return value;
  }

  doRelease() {
    this.release();
  }
  doRefuse(e: unknown) {
    this.refuse(e);
  }
}

class FakeUpstream {
  calls: { server: string; tool: string; args: unknown; opts: UpstreamCallOptions }[] = [];
  constructor(
    private readonly answer: (args: unknown) => CallToolResult | Promise<CallToolResult> = () => ({
      content: [{ type: 'text', text: 'deleted' }],
    }),
  ) {}
  callTool = async (server: string, tool: string, args: unknown, opts: UpstreamCallOptions) => {
    this.calls.push({ server, tool, args, opts });
    return this.answer(args);
  };
}

const log = { warn: jest.fn() };
const ctx = (signal = new AbortController().signal) => {
  const progress: string[] = [];
  return { progress, ctx: { signal, progress: (m: string) => progress.push(m) } };
};

function setup(gate: GateRunner, upstream = new FakeUpstream(), jobState?: (id: string) => Promise<string | null>) {
  const sut = new CallGatedToolUseCase(
    gate,
    upstream,
    { requestedBy: 'alice@acme.test', progressIntervalMs: 20, log },
    jobState,
  );
  return { sut, upstream };
}

describe('CallGatedToolUseCase', () => {
  it('proposes {server, tool, arguments} and calls the upstream once with that very frozen object', async () => {
    const gate = new FakeGate();
    const { sut, upstream } = setup(gate);
    const args = { repo: 'api', branch: 'old', opts: { force: false, tags: ['a'] } };

    const result = await sut.execute({ route: ROUTE, arguments: args, waitMs: 60_000, jobId: 'job-1' }, ctx().ctx);

    const action = gate.actions[0]!;
    expect(action).toMatchObject({
      jobId: 'job-1',
      topic: 'job.deploy.delete',
      riskTags: ['prod', 'write'],
      requestedBy: 'alice@acme.test',
      payload: { server: 'repo', tool: 'delete_branch', arguments: args },
    });
    expect(upstream.calls).toHaveLength(1);
    const sent = upstream.calls[0]!;
    expect(sent).toMatchObject({ server: 'repo', tool: 'delete_branch' });
    // Not an equal copy: the same object the proposal carries, frozen all the way down.
    expect(sent.args).toBe((action.payload as { arguments: unknown }).arguments);
    expect(Object.isFrozen(sent.args)).toBe(true);
    expect(Object.isFrozen((sent.args as typeof args).opts.tags)).toBe(true);
    expect(() => ((sent.args as typeof args).opts.tags as string[]).push('b')).toThrow(TypeError);
    expect(result).toEqual({ content: [{ type: 'text', text: 'deleted' }], _meta: { [META_JOB_ID]: 'job-1' } });
    expect(gate.reported).toEqual([{ status: 'SUCCEEDED', value: { content: [{ type: 'text', text: 'deleted' }] } }]);
  });

  it('sends upstream exactly the arguments whose hash the grant binds, even if the caller changes its object meanwhile', async () => {
    const gate = new FakeGate('manual');
    const { sut, upstream } = setup(gate);
    const args: Record<string, unknown> = { branch: 'feature-x' };
    const pending = sut.execute({ route: ROUTE, arguments: args, waitMs: 60_000, jobId: 'job-2' }, ctx().ctx);
    await gate.asked;
    const proposal = buildProposal(gate.actions[0]!, { agentId: 'desktop-agent', tenant: 'acme' });
    const approvedHash = jobHash(proposal.data);

    args['branch'] = 'main'; // whoever holds the request object now tries to change what runs
    gate.doRelease();
    await pending;

    const sent = upstream.calls[0]!.args;
    expect(sent).toEqual({ branch: 'feature-x' });
    expect(canonicalJson(sent)).toBe(canonicalJson(proposal.data.payload['arguments']));
    const sentProposal = { ...proposal.data, payload: { server: 'repo', tool: 'delete_branch', arguments: sent } };
    expect(jobHash(sentProposal)).toBe(approvedHash);
  });

  it('never calls the upstream when the gate does not release', async () => {
    const cases: [unknown, string, RegExp][] = [
      [
        new DeniedError('job-3', 'DENIED', 'decision DENY', 'Trial tenants cannot move money'),
        'DENIED',
        /Denied by policy: repo\/delete_branch was NOT run\. Reason: Trial tenants cannot move money/,
      ],
      [
        new RejectedError('job-3', 'REJECTED', 'resolution REJECTED', 'not during the freeze'),
        'REJECTED',
        /Reviewer's reason: "not during the freeze"/,
      ],
      [new ExpiredError('job-3', 'EXPIRED', 'approval expired', null), 'EXPIRED', /before its approval deadline/],
      [
        new BlockedError('job-3', 'DUPLICATE', 'second proposal with another event id', null),
        'DUPLICATE',
        /Blocked by Countersign \(DUPLICATE\).*neither is executed/,
      ],
      [new TimeoutError('job-3', 60_000, 'grant'), 'TIMEOUT', /No decision within 1m: repo\/delete_branch was NOT run/],
      [
        new Error('connect ECONNREFUSED 127.0.0.1:9092'),
        'GATE_UNAVAILABLE',
        /could not be asked \(connect ECONNREFUSED/,
      ],
    ];
    for (const [error, code, text] of cases) {
      const { sut, upstream } = setup(new FakeGate({ throws: error }));
      const result = await sut.execute({ route: ROUTE, arguments: {}, waitMs: 60_000, jobId: 'job-3' }, ctx().ctx);
      expect(upstream.calls).toHaveLength(0);
      expect(result.isError).toBe(true);
      expect(result._meta).toEqual({ [META_JOB_ID]: 'job-3', [META_CODE]: code });
      expect((result.content[0] as { text: string }).text).toMatch(text);
      expect((result.content[0] as { text: string }).text).toContain('job-3');
    }
  });

  it('reports an upstream tool error as FAILED and hands the upstream answer to the client', async () => {
    const gate = new FakeGate();
    const answer: CallToolResult = { isError: true, content: [{ type: 'text', text: 'branch is protected' }] };
    const { sut } = setup(gate, new FakeUpstream(() => answer));
    const result = await sut.execute({ route: ROUTE, arguments: {}, waitMs: 60_000, jobId: 'job-4' }, ctx().ctx);
    expect(result).toEqual({ ...answer, _meta: { [META_JOB_ID]: 'job-4' } });
    expect(gate.reported).toEqual([{ status: 'FAILED', value: 'the tool reported an error: branch is protected' }]);
  });

  it('says the upstream failed after approval when it could not answer', async () => {
    const gate = new FakeGate();
    const { sut } = setup(
      gate,
      new FakeUpstream(() => {
        throw new Error('Request timed out');
      }),
    );
    const result = await sut.execute({ route: ROUTE, arguments: {}, waitMs: 60_000, jobId: 'job-5' }, ctx().ctx);
    expect(result._meta).toMatchObject({ [META_CODE]: 'UPSTREAM_FAILED' });
    expect((result.content[0] as { text: string }).text).toMatch(
      /approved and sent, but upstream server repo failed: Request timed out/,
    );
    expect(gate.reported[0]?.status).toBe('FAILED');
  });

  it('still returns what the upstream did when the report fails', async () => {
    const { sut } = setup(new FakeGate({ reportFails: true }));
    const result = await sut.execute({ route: ROUTE, arguments: {}, waitMs: 60_000, jobId: 'job-6' }, ctx().ctx);
    expect(result.content).toEqual([{ type: 'text', text: 'deleted' }]);
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ job_id: 'job-6' }),
      expect.stringMatching(/UNKNOWN/),
    );
  });

  it('audits a large result by digest, within what the report endpoint accepts', async () => {
    const gate = new FakeGate();
    const big = 'x'.repeat(MAX_AUDITED_RESULT_CHARS + 10);
    const { sut } = setup(gate, new FakeUpstream(() => ({ content: [{ type: 'text', text: big }] })));
    const result = await sut.execute({ route: ROUTE, arguments: {}, waitMs: 60_000 }, ctx().ctx);
    expect((result.content[0] as { text: string }).text).toBe(big);
    const audited = gate.reported[0]?.value as Record<string, unknown>;
    expect(audited).toMatchObject({ truncated: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(audited).length).toBeLessThan(65_536);
  });

  it('sends progress while the call waits, naming the job and where it stands', async () => {
    const gate = new FakeGate('manual');
    const { sut } = setup(gate, new FakeUpstream(), async () => 'awaiting human approval, decision REQUIRE_APPROVAL');
    const { progress, ctx: c } = ctx();
    const pending = sut.execute({ route: ROUTE, arguments: {}, waitMs: 30 * 60_000, jobId: 'job-7' }, c);
    await waitUntil(() => progress.some((m) => m.startsWith('Waiting for Countersign')), {
      what: 'a waiting notice',
      every: 5,
    });
    gate.doRelease();
    await pending;
    expect(progress[0]).toBe('Asking Countersign for permission (job job-7, job.deploy.delete [prod, write])');
    expect(progress).toContainEqual(
      expect.stringMatching(
        /^Waiting for Countersign \(job job-7: awaiting human approval, decision REQUIRE_APPROVAL\); waited \d+s of up to 30m$/,
      ),
    );
    expect(progress.at(-1)).toBe('Released by Countersign (job job-7); calling repo/delete_branch');
    const count = progress.length;
    await elapse(60, 'longer than the progress interval: a timer left running would add a line');
    expect(progress).toHaveLength(count);
  });

  it('answers a cancelled call at once, and a late release then never reaches the upstream', async () => {
    const gate = new FakeGate('manual');
    const { sut, upstream } = setup(gate);
    const abort = new AbortController();
    const pending = sut.execute({ route: ROUTE, arguments: {}, waitMs: 60_000, jobId: 'job-8' }, ctx(abort.signal).ctx);
    await gate.asked;
    abort.abort();
    const result = await pending;
    expect(result._meta).toMatchObject({ [META_CODE]: 'CANCELLED' });
    gate.doRelease();
    await new Promise((r) => setImmediate(r));
    expect(upstream.calls).toHaveLength(0);
    expect(gate.reported).toEqual([{ status: 'FAILED', value: expect.stringMatching(/cancelled/) }]);
  });

  it('refuses arguments that are not JSON without proposing anything', async () => {
    const gate = new FakeGate();
    const { sut } = setup(gate);
    const result = await sut.execute(
      { route: ROUTE, arguments: { n: 1n } as unknown as Record<string, unknown>, waitMs: 1 },
      ctx().ctx,
    );
    expect(result._meta).toMatchObject({ [META_CODE]: 'INVALID_ARGUMENTS' });
    expect(gate.actions).toHaveLength(0);
  });
});
