import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { Topics } from '@countersign/contracts';
import { bearer, mintToken, waitUntil } from '@countersign/testkit';
import { KafkaProbe, consumerPassed, publishRaw } from '../support/kafka-probe';
import {
  KAFKA_BROKERS,
  ROOT,
  createTestStack,
  makeTestKeys,
  stackConfig,
  outboxPublished,
  startServices,
  type ServiceHandle,
  type TestKeys,
} from '../support/stack';
import { stopSpecStack } from '../support/teardown';

interface UpstreamCall {
  tool: string;
  args: Record<string, unknown>;
}

/**
 * An MCP client (as a desktop agent would run it) talks over stdio to the gateway process, which
 * fronts a small MCP server over streamable HTTP (in this process, so calls can be counted) and one
 * over stdio, against the four real services on the real broker and Postgres.
 */
describe('MCP gateway: every tool call through the gate, end to end', () => {
  const services = new Map<string, ServiceHandle>();
  const probe = new KafkaProbe();
  const upstreamCalls: UpstreamCall[] = [];
  const gatewayLog: string[] = [];
  const agentId = `mcp-e2e-${process.pid}-${Date.now()}`;
  let keys: TestKeys;
  let db: string;
  let upstream: Server;
  let client: Client;

  const svc = (name: string) => services.get(name)!;
  const callsOf = (tool: string) => upstreamCalls.filter((c) => c.tool === tool);
  const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;
  const jobOf = (r: CallToolResult) => String(r._meta?.['countersign/job_id']);

  const token = (sub: string, roles: string[]) => mintToken(keys.jwtSecret, { sub, roles, tenants: ['globex'] });
  const review = async (jobId: string, action: 'approve' | 'reject', sub: string, roles: string[], reason: string) => {
    const res = await fetch(`${svc('approval-queue').url}/api/v1/approvals/${jobId}/${action}`, {
      method: 'POST',
      headers: { ...bearer(token(sub, roles)), 'content-type': 'application/json' },
      body: JSON.stringify({ reason }),
    });
    return res.status;
  };
  /** The queue item of this agent's call whose arguments match: how a reviewer finds it. */
  const pending = (roles: string[], args: Record<string, unknown>) =>
    waitUntil(
      async () => {
        const res = await fetch(`${svc('approval-queue').url}/api/v1/approvals?limit=200`, {
          headers: bearer(token('bob', roles)),
        });
        const page = (await res.json()) as { items?: Record<string, unknown>[] };
        const item = page.items?.find(
          (i) =>
            i['agent_id'] === agentId &&
            JSON.stringify((i['payload'] as { arguments?: unknown } | undefined)?.arguments) === JSON.stringify(args),
        );
        return item as ({ job: { id: string } } & Record<string, unknown>) | undefined;
      },
      {
        what: `a pending approval for ${JSON.stringify(args)} (gateway log: ${gatewayLog.slice(-10).join('')})`,
        timeout: 60000,
        every: 250,
      },
    );
  const call = (name: string, args: Record<string, unknown>, progress?: string[]) =>
    client.callTool({ name, arguments: args }, undefined, {
      timeout: 110000,
      resetTimeoutOnProgress: true,
      ...(progress ? { onprogress: (p) => progress.push(p.message ?? '') } : {}),
    }) as Promise<CallToolResult>;

  /** The test's upstream MCP server: a read tool, a destructive one, and one nobody mapped. */
  function repoServer(): McpServer {
    const server = new McpServer({ name: 'repo', version: '1.0.0' });
    server.registerTool('read_file', { description: 'Reads a file', inputSchema: { path: z.string() } }, ({ path }) => {
      upstreamCalls.push({ tool: 'read_file', args: { path } });
      return { content: [{ type: 'text', text: `contents of ${path}` }] };
    });
    server.registerTool(
      'delete_branch',
      { description: 'Deletes a branch', inputSchema: { repo: z.string(), branch: z.string() } },
      (args) => {
        upstreamCalls.push({ tool: 'delete_branch', args });
        return { content: [{ type: 'text', text: `deleted ${args.repo}@${args.branch}` }] };
      },
    );
    server.registerTool('whoami', { description: 'Says who the agent is' }, () => {
      upstreamCalls.push({ tool: 'whoami', args: {} });
      return { content: [{ type: 'text', text: 'an agent' }] };
    });
    return server;
  }

  beforeAll(async () => {
    keys = makeTestKeys();
    const { dir, env: configEnv } = stackConfig(
      'mcp',
      'executors:\n  - name: agent\n    kind: release\n    match: ["**"]\n    grant_ttl_sec: 300\n',
    );

    // Stateless streamable HTTP: a fresh server and transport per request, as the SDK documents.
    upstream = createServer((req, res) => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const server = repoServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close().then(() => server.close()));
      void server.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));

    const stack = await createTestStack('mcp_gateway', keys);
    db = stack.databaseUrl;
    await probe.start([Topics.JobProposed, Topics.JobExecuted, Topics.JobBlocked]);
    const started = await startServices(stack, configEnv);
    for (const s of started) services.set(s.name, s);

    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `countersign:
  brokers: ${JSON.stringify(KAFKA_BROKERS.split(','))}
  agent_id: ${agentId}
  tenant: globex
  requested_by: alice@globex.test
  execution_url: ${svc('execution-binding').url}
  trusted_executor_keys_file: ${keys.files['execution-binding'].publicKey}
approval:
  timeout: 100s
  progress_interval: 1s
  policy_dir: policies
servers:
  repo:
    url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp
    tools:
      - { match: read_file, topic: job.fs.read }
      - { match: delete_branch, topic: job.deploy.delete, risk_tags: [prod, write] }
  echo:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(join(ROOT, 'libs/mcp-gateway/test/fixtures/echo-server.mjs'))}]
    tools:
      - { match: echo, topic: job.echo.read }
`,
    );
    const logDir = join(ROOT, 'test-results', 'logs');
    mkdirSync(logDir, { recursive: true });
    const logFile = createWriteStream(join(logDir, `mcp-gateway-${process.pid}-${Date.now()}.log`));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(ROOT, 'libs/mcp-gateway/dist/main.js'), '--config', config],
      env: {
        ...getDefaultEnvironment(),
        LOG_LEVEL: 'debug',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        // The job state API needs an operator (or auditor) token; with it progress says where the job stands.
        COUNTERSIGN_JOB_STATE_TOKEN: token('olivia@globex.test', ['operator']),
      },
      stderr: 'pipe',
    });
    (transport.stderr as Readable | null)?.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      gatewayLog.push(chunk.toString('utf8'));
    });
    client = new Client({ name: 'e2e-desktop-agent', version: '1.0.0' });
    await client.connect(transport);
  }, 240000);

  afterAll(async () => {
    await client?.close();
    await stopSpecStack(services.values(), probe);
    await new Promise((r) => upstream?.close(r));
  });

  it('lists the upstream tools, prefixed by server, with what the gate will do with them', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'echo__echo',
      'repo__delete_branch',
      'repo__read_file',
      'repo__whoami',
    ]);
    const del = tools.find((t) => t.name === 'repo__delete_branch');
    expect(del?.description).toMatch(
      /^Deletes a branch\n\nCountersign: each call waits for human approval \(Production writes require human approval; up to 30m\)\.$/,
    );
    expect(del?.inputSchema).toMatchObject({ properties: { repo: { type: 'string' }, branch: { type: 'string' } } });
  });

  it('runs a read at once, exactly once, and records its result as the job outcome', async () => {
    const result = await call('repo__read_file', { path: 'README.md' });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('contents of README.md');
    expect(callsOf('read_file')).toEqual([{ tool: 'read_file', args: { path: 'README.md' } }]);

    const proposed = await probe.waitForJob(Topics.JobProposed, jobOf(result));
    expect(proposed.json?.['data']).toMatchObject({
      agent_id: agentId,
      topic: 'job.fs.read',
      risk_tags: [],
      payload: { server: 'repo', tool: 'read_file', arguments: { path: 'README.md' } },
    });
    const executed = await probe.waitForJob(Topics.JobExecuted, jobOf(result));
    expect(executed.json?.['data']).toMatchObject({
      status: 'SUCCEEDED',
      result: { content: [{ type: 'text', text: 'contents of README.md' }] },
    });
  });

  it('reaches a stdio upstream too', async () => {
    const result = await call('echo__echo', { text: 'hello' });
    expect(textOf(result)).toBe('hello');
  });

  it('holds a destructive call until a reviewer approves it, then runs it once with the approved arguments', async () => {
    const args = { repo: 'api', branch: `stale-${randomUUID().slice(0, 8)}` };
    const progress: string[] = [];
    const running = call('repo__delete_branch', args, progress);

    const item = await pending(['service-owner'], args);
    expect(item).toMatchObject({
      topic: 'job.deploy.delete',
      policy_rule_id: 'prod-write-gate',
      requested_by: 'alice@globex.test',
    });
    expect(item['payload']).toEqual({ server: 'repo', tool: 'delete_branch', arguments: args });
    // The gateway says it is waiting for a human: the effect, instead of a fixed sleep.
    await waitUntil(
      () => progress.some((m) => m.startsWith(`Waiting for Countersign (job ${item.job.id}: awaiting human approval`)),
      { what: 'the gateway reporting that it waits for approval' },
    );
    expect(callsOf('delete_branch')).toEqual([]);

    expect(await review(item.job.id, 'approve', 'bob', ['service-owner'], 'branch merged long ago')).toBe(200);
    const result = await running;
    expect(result.isError).toBeFalsy();
    expect(jobOf(result)).toBe(item.job.id);
    expect(textOf(result)).toBe(`deleted api@${args.branch}`);
    expect(callsOf('delete_branch')).toEqual([{ tool: 'delete_branch', args }]);
    expect(progress.at(-1)).toBe(`Released by Countersign (job ${item.job.id}); calling repo/delete_branch`);

    const executed = await probe.waitForJob(Topics.JobExecuted, item.job.id);
    expect(executed.json?.['data']).toMatchObject({
      status: 'SUCCEEDED',
      result: { content: [{ text: `deleted api@${args.branch}` }] },
    });
    // The audit trail holds the whole call: the proposed arguments, the approval, and what the upstream answered.
    const auditor = bearer(token('erin', ['auditor']));
    const timeline = await waitUntil(
      async () => {
        const t = (await (
          await fetch(`${svc('audit').url}/api/v1/jobs/${item.job.id}/timeline`, { headers: auditor })
        ).json()) as Record<string, unknown>;
        return t['outcome'] === 'executed' && t;
      },
      { what: `the audit timeline of ${item.job.id} executed`, timeout: 30000, every: 300 },
    );
    expect(timeline['outcome']).toBe('executed');
    const steps = (timeline['steps'] ?? []) as { kind: string }[];
    expect(steps.map((s) => s.kind)).toEqual(
      expect.arrayContaining(['proposed', 'decided', 'resolved', 'released', 'executed']),
    );
    expect(steps.find((s) => s.kind === 'proposed')).toMatchObject({
      payload: { server: 'repo', tool: 'delete_branch', arguments: args },
    });
    expect(steps.find((s) => s.kind === 'resolved')).toMatchObject({
      approvals: [expect.objectContaining({ actor: 'bob', reason: 'branch merged long ago' })],
    });
    expect(steps.find((s) => s.kind === 'executed')).toMatchObject({
      status: 'SUCCEEDED',
      result: { content: [{ text: `deleted api@${args.branch}` }] },
    });
  });

  it("tells the model a reviewer's reason when the call is rejected, and never calls the upstream", async () => {
    const args = { repo: 'api', branch: 'main' };
    const running = call('repo__delete_branch', args);
    const item = await pending(['service-owner'], args);
    expect(await review(item.job.id, 'reject', 'bob', ['service-owner'], 'main is protected; open a PR instead')).toBe(
      200,
    );
    const result = await running;
    expect(result.isError).toBe(true);
    expect(result._meta).toMatchObject({ 'countersign/code': 'REJECTED', 'countersign/job_id': item.job.id });
    expect(textOf(result)).toContain(`Reviewer's reason: "main is protected; open a PR instead"`);
    expect(textOf(result)).toContain('was NOT run');
    expect(callsOf('delete_branch').filter((c) => c.args['branch'] === 'main')).toEqual([]);
  });

  it('never runs a call whose job is re-proposed with other arguments, even once approved', async () => {
    const args = { repo: 'api', branch: `feature-${randomUUID().slice(0, 8)}` };
    const running = call('repo__delete_branch', args);
    const item = await pending(['service-owner'], args);
    const original = await probe.waitForJob(Topics.JobProposed, item.job.id);
    const data = original.json?.['data'] as Record<string, unknown>;
    const tampered = {
      ...original.json,
      event_id: randomUUID(),
      data: { ...data, payload: { server: 'repo', tool: 'delete_branch', arguments: { repo: 'api', branch: 'main' } } },
    };
    await publishRaw(Topics.JobProposed, item.job.id, JSON.stringify(tampered));
    await review(item.job.id, 'approve', 'bob', ['service-owner'], 'looks fine');

    const result = await running;
    expect(result.isError).toBe(true);
    expect(result._meta).toMatchObject({ 'countersign/code': 'DUPLICATE' });
    expect(textOf(result)).toMatch(/^Blocked by Countersign \(DUPLICATE\): repo\/delete_branch was NOT run/);
    // Barrier: execution-binding has handled every fact published so far and sent all it staged.
    await consumerPassed(svc('execution-binding').groupId, [
      Topics.JobProposed,
      Topics.DecisionMade,
      Topics.ApprovalResolved,
    ]);
    await outboxPublished(db, 'execution_binding');
    await probe.caughtUp([Topics.JobExecuted]);
    expect(
      callsOf('delete_branch').filter((c) => c.args['branch'] === args.branch || c.args['branch'] === 'main'),
    ).toEqual([]);
    expect(probe.forJob(Topics.JobExecuted, item.job.id)).toEqual([]);
  });

  it('gates a tool nobody mapped under its own topic and the unmapped tag (fail closed)', async () => {
    const running = call('repo__whoami', {});
    const item = await pending(['platform-operator'], {});
    expect(item).toMatchObject({ topic: 'mcp.repo.whoami', risk_tags: ['unmapped'], policy_rule_id: 'default' });
    expect(await review(item.job.id, 'reject', 'pat', ['platform-operator'], 'map this tool first')).toBe(200);
    const result = await running;
    expect(textOf(result)).toContain('"map this tool first"');
    expect(callsOf('whoami')).toEqual([]);
  });
});
