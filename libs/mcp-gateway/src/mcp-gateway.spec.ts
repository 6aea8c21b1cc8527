import type { Grant, ProposeInput } from '@countersign/agent-sdk';
import { RejectedError } from '@countersign/agent-sdk';
import { elapse } from '@countersign/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolListChangedNotificationSchema as ToolListChanged } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { gatewayConfigText } from './config/gateway-config.fixture';
import { parseGatewayConfig } from './config/load-gateway-config';
import type { GateRunner } from './gated-call/call-gated-tool.use-case';
import { META_CODE } from './gated-call/explain-gate-error';
import { McpGateway } from './mcp-gateway';

const CONFIG = gatewayConfigText(
  `  repo:
    command: unused
    tools:
      - { match: read_file, topic: job.fs.read }
      - { match: delete_branch, topic: job.deploy.delete, risk_tags: [prod, write] }
  notes:
    url: http://unused.test/mcp`,
  'approval: { progress_interval: 1s }',
);

/** Upstream servers in memory: what each tool was called with. */
function upstreams() {
  const calls: { server: string; tool: string; args: unknown }[] = [];
  const servers: Record<string, McpServer> = {};
  const repo = new McpServer({ name: 'repo', version: '1' });
  repo.registerTool('read_file', { description: 'Reads a file', inputSchema: { path: z.string() } }, ({ path }) => {
    calls.push({ server: 'repo', tool: 'read_file', args: { path } });
    return { content: [{ type: 'text', text: `contents of ${path}` }] };
  });
  repo.registerTool('delete_branch', { inputSchema: { branch: z.string() } }, ({ branch }) => {
    calls.push({ server: 'repo', tool: 'delete_branch', args: { branch } });
    return { content: [{ type: 'text', text: `deleted ${branch}` }] };
  });
  const notes = new McpServer({ name: 'notes', version: '1' });
  notes.registerTool('read_file', { inputSchema: { id: z.string() } }, ({ id }) => {
    calls.push({ server: 'notes', tool: 'read_file', args: { id } });
    return { content: [{ type: 'text', text: `note ${id}` }] };
  });
  servers['repo'] = repo;
  servers['notes'] = notes;
  return {
    calls,
    servers,
    transport: (name: string) => {
      const [client, server] = InMemoryTransport.createLinkedPair();
      void servers[name]!.connect(server);
      return client;
    },
  };
}

class Gate implements GateRunner {
  actions: ProposeInput[] = [];
  constructor(private readonly decide: (a: ProposeInput) => Promise<void> = async () => undefined) {}
  async run<T>(action: ProposeInput, fn: (g: Grant) => Promise<T> | T): Promise<T> {
    this.actions.push(action);
    await this.decide(action);
    return fn({
      jobId: action.jobId!,
      jobHash: 'h',
      policySnapshot: 's',
      constraints: {},
      expiresAt: new Date(),
      signal: new AbortController().signal,
    });
  }
}

async function connect(gate: GateRunner) {
  const up = upstreams();
  const sut = new McpGateway(parseGatewayConfig(CONFIG, 'test.yaml'), { gate, transport: up.transport });
  await sut.start();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await sut.connect(serverSide);
  const client = new Client({ name: 'test-client', version: '1' });
  await client.connect(clientSide);
  return { sut, client, up };
}

describe('McpGateway', () => {
  it('lists every upstream tool, prefixed by its server, with its own input schema', async () => {
    const { sut, client } = await connect(new Gate());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['notes__read_file', 'repo__delete_branch', 'repo__read_file']);
    expect(tools.find((t) => t.name === 'repo__read_file')).toMatchObject({
      description: 'Reads a file',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    });
    expect(client.getInstructions()).toMatch(/Countersign/);
    await client.close();
    await sut.close();
  });

  it('routes a call through the gate to the right upstream tool', async () => {
    const gate = new Gate();
    const { sut, client, up } = await connect(gate);
    const result = await client.callTool({ name: 'notes__read_file', arguments: { id: 'n-1' } });
    expect(result.content).toEqual([{ type: 'text', text: 'note n-1' }]);
    expect(gate.actions[0]).toMatchObject({
      topic: 'mcp.notes.read_file',
      riskTags: ['unmapped'],
      payload: { server: 'notes', tool: 'read_file', arguments: { id: 'n-1' } },
    });
    expect(up.calls).toEqual([{ server: 'notes', tool: 'read_file', args: { id: 'n-1' } }]);
    await client.close();
    await sut.close();
  });

  it('notifies progress to a client that asked for it while the call waits', async () => {
    // The gate answers only after the gateway's progress interval (1 s) has passed once, so a "Waiting" notice goes out.
    const gate = new Gate(() => elapse(1300, 'the approval outlasts one progress interval'));
    const { sut, client } = await connect(gate);
    const progress: string[] = [];
    const result = await client.callTool({ name: 'repo__delete_branch', arguments: { branch: 'old' } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
      resetTimeoutOnProgress: true,
    });
    expect(result.content).toEqual([{ type: 'text', text: 'deleted old' }]);
    expect(progress[0]).toMatch(
      /^Asking Countersign for permission \(job job-[0-9a-f-]+, job\.deploy\.delete \[prod, write\]\)$/,
    );
    expect(progress.some((m) => m.startsWith('Waiting for Countersign'))).toBe(true);
    expect(progress.at(-1)).toMatch(/^Released by Countersign/);
    await client.close();
    await sut.close();
  });

  it('returns the reviewer reason as a tool error and never calls the upstream', async () => {
    const gate = new Gate(async (a) => {
      throw new RejectedError(a.jobId!, 'REJECTED', 'resolution REJECTED', 'use a PR instead');
    });
    const { sut, client, up } = await connect(gate);
    const result = await client.callTool({ name: 'repo__delete_branch', arguments: { branch: 'main' } });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toMatch(/Reviewer's reason: "use a PR instead"/);
    expect(result._meta).toMatchObject({ [META_CODE]: 'REJECTED' });
    expect(up.calls).toEqual([]);
    await client.close();
    await sut.close();
  });

  it('answers an unknown tool with a protocol error', async () => {
    const { sut, client } = await connect(new Gate());
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/Unknown tool: nope/);
    await client.close();
    await sut.close();
  });

  it('follows an upstream whose tool list changes', async () => {
    const { sut, client, up } = await connect(new Gate());
    const changed = new Promise<void>((r) => client.setNotificationHandler(ToolListChanged, () => r()));
    up.servers['notes']!.registerTool('write_note', { inputSchema: { text: z.string() } }, () => ({ content: [] }));
    await changed;
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('notes__write_note');
    await client.close();
    await sut.close();
  });
});
