import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConfig } from '../config/gateway-config.schema';
import type { UpstreamCallOptions } from '../gated-call/call-gated-tool.use-case';
import type { DeepReadonly } from '../gated-call/frozen-json';
import type { GatewayLogger } from '../gateway-logger';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version';

export type TransportFactory = (name: string, config: UpstreamConfig) => Transport;

/** stdio for `command`, streamable HTTP for `url`; the child's stderr goes to ours (stdout is the MCP channel). */
export const defaultTransport: TransportFactory = (_name, config) => {
  if (config.command !== undefined) {
    return new StdioClientTransport({
      command: config.command,
      args: config.args,
      env: { ...getDefaultEnvironment(), ...config.env },
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: 'inherit',
    });
  }
  return new StreamableHTTPClientTransport(new URL(config.url as string), {
    ...(config.headers ? { requestInit: { headers: config.headers } } : {}),
  });
};

/** One upstream MCP server behind the gateway: an MCP client, reconnected on the next use if it went away. */
export class UpstreamServer {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;

  constructor(
    readonly name: string,
    private readonly config: UpstreamConfig,
    private readonly log: GatewayLogger,
    private readonly onToolsChanged: () => void,
    private readonly transport: TransportFactory = defaultTransport,
  ) {}

  async listTools(): Promise<Tool[]> {
    const client = await this.connected();
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined);
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  async callTool(
    tool: string,
    args: DeepReadonly<Record<string, unknown>>,
    opts: UpstreamCallOptions,
  ): Promise<CallToolResult> {
    const client = await this.connected();
    const { onProgress } = opts;
    const result = await client.callTool(
      // The frozen object itself: the SDK serialises it and never writes to it.
      { name: tool, arguments: args as Record<string, unknown> },
      CallToolResultSchema,
      {
        signal: opts.signal,
        timeout: this.config.call_timeout,
        ...(onProgress
          ? { onprogress: (p) => onProgress(p.message ?? `${p.progress}${p.total === undefined ? '' : `/${p.total}`}`) }
          : {}),
      },
    );
    return result as CallToolResult;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }

  private connected(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ name: GATEWAY_NAME, version: GATEWAY_VERSION });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.onToolsChanged());
    client.onclose = () => {
      if (this.client === client) {
        this.client = undefined;
        this.log.warn({ server: this.name }, 'upstream MCP server disconnected; reconnecting on next use');
      }
    };
    client.onerror = (e) => this.log.warn({ server: this.name, err: e.message }, 'upstream MCP server error');
    try {
      await client.connect(this.transport(this.name, this.config));
    } catch (e) {
      await client.close().catch(() => undefined);
      throw new Error(`cannot connect to upstream MCP server ${this.name}: ${(e as Error).message}`);
    }
    this.client = client;
    this.log.info({ server: this.name, upstream: client.getServerVersion() }, 'upstream MCP server connected');
    return client;
  }
}
