import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { GatewayConfig } from './config/gateway-config.schema';
import { CallGatedToolUseCase, type GateRunner, type JobStateReader } from './gated-call/call-gated-tool.use-case';
import { silentLogger, type GatewayLogger } from './gateway-logger';
import type { PolicyPreviewer } from './routing/policy-preview';
import { ToolCatalogue, type CatalogueEntry } from './routing/tool-catalogue';
import { ToolRouter, prefixesToolNames } from './routing/tool-route';
import { UpstreamServer, type TransportFactory } from './upstream/upstream-server';
import { GATEWAY_NAME, GATEWAY_VERSION } from './version';

export interface McpGatewayDeps {
  /** The agent SDK (`new Countersign(...)`), or anything with its `run()`. */
  gate: GateRunner;
  log?: GatewayLogger;
  /** Describes a waiting job in progress notifications (execution-binding's state endpoint). */
  jobState?: JobStateReader;
  /** A local reading of the policy (approval.policy_dir): SLA-sized waits, hidden and annotated tools. */
  previewer?: PolicyPreviewer;
  /** How to reach an upstream server; stdio / streamable HTTP from its config unless given. */
  transport?: TransportFactory;
}

const INSTRUCTIONS =
  'Every tool call passes a Countersign pre-execution gate: policy decides, and some calls wait for a human ' +
  'to approve them. A call the gate stops returns an error that says why (the policy reason or the ' +
  "reviewer's words) and that the tool was NOT run: adapt to the reason instead of retrying the same call.";

/**
 * An MCP server in front of upstream MCP servers: tools/list passes their tools through (prefixed
 * with the server name when there are several), and every tools/call becomes a Countersign job that
 * reaches the upstream only once the gate released exactly those arguments.
 */
export class McpGateway {
  readonly mcp: McpServer;
  private readonly upstreams: ReadonlyMap<string, UpstreamServer>;
  private readonly lists = new Map<string, readonly Tool[]>();
  private readonly router: ToolRouter;
  private readonly calls: CallGatedToolUseCase;
  private readonly log: GatewayLogger;
  private catalogue = ToolCatalogue.empty();

  constructor(
    private readonly config: GatewayConfig,
    private readonly deps: McpGatewayDeps,
  ) {
    this.log = deps.log ?? silentLogger;
    this.router = new ToolRouter(config);
    this.upstreams = new Map(
      Object.entries(config.servers).map(([name, server]) => [
        name,
        new UpstreamServer(name, server, this.log, () => void this.refresh(name), deps.transport),
      ]),
    );
    this.calls = new CallGatedToolUseCase(
      deps.gate,
      {
        callTool: (server, tool, args, opts) => this.upstream(server).callTool(tool, args, opts),
      },
      {
        requestedBy: config.countersign.requested_by,
        progressIntervalMs: config.approval.progress_interval,
        log: this.log,
      },
      deps.jobState,
    );
    // The low-level server: upstream tools keep their own JSON Schemas, which McpServer.registerTool (zod) cannot carry.
    this.mcp = new McpServer(
      { name: GATEWAY_NAME, version: GATEWAY_VERSION },
      { capabilities: { tools: { listChanged: true } }, instructions: INSTRUCTIONS },
    );
    this.mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.catalogue.visibleTools() }));
    this.mcp.server.setRequestHandler(CallToolRequestSchema, (req, extra) => {
      const entry = this.catalogue.get(req.params.name);
      if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
      const token = req.params._meta?.progressToken;
      let progress = 0;
      return this.calls.execute(
        { route: entry.route, arguments: req.params.arguments, waitMs: entry.waitMs },
        {
          signal: extra.signal,
          progress: (message) => {
            if (token === undefined) return;
            progress += 1;
            extra
              .sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress, message },
              })
              .catch(() => undefined);
          },
        },
      );
    });
  }

  /** Connects every upstream server and reads its tools; fails naming the server that could not be reached. */
  async start(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map(async (u) => this.lists.set(u.name, await u.listTools())));
    this.catalogue = this.buildCatalogue();
  }

  /** Serves MCP on a transport (stdio in `main.ts`, in-memory in tests). */
  connect(transport: Transport): Promise<void> {
    return this.mcp.connect(transport);
  }

  /** Every tool with its route, wait and previewed decision (hidden ones included). */
  tools(): CatalogueEntry[] {
    return this.catalogue.entries();
  }

  async close(): Promise<void> {
    await this.mcp.close().catch(() => undefined);
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
  }

  private upstream(name: string): UpstreamServer {
    const u = this.upstreams.get(name);
    if (!u) throw new Error(`no upstream server ${name}`);
    return u;
  }

  private buildCatalogue(): ToolCatalogue {
    return ToolCatalogue.build(this.lists, {
      router: this.router,
      prefixed: prefixesToolNames(this.config),
      defaultWaitMs: this.config.approval.timeout,
      ...(this.deps.previewer ? { previewer: this.deps.previewer } : {}),
      hideDenied: this.config.approval.hide_denied_tools,
      annotate: this.config.approval.annotate_tools,
    });
  }

  /** An upstream said its tools changed: read them again and tell the client. */
  private async refresh(name: string): Promise<void> {
    try {
      this.lists.set(name, await this.upstream(name).listTools());
      this.catalogue = this.buildCatalogue();
      if (this.mcp.isConnected()) await this.mcp.server.sendToolListChanged();
    } catch (e) {
      this.log.error(
        { server: name, err: (e as Error).message },
        'could not refresh the upstream tool list; keeping the previous one',
      );
    }
  }
}
