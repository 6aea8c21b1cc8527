import { compileIdGlobs } from '@countersign/policy';
import type { GatewayConfig, ToolRule } from '../config/gateway-config.schema';

/** Where one upstream tool goes: the Countersign action class and risk tags a call of it is proposed under. */
export interface ToolRoute {
  server: string;
  tool: string;
  topic: string;
  riskTags: readonly string[];
  /** False when no rule of the server maps the tool: it got the fail-closed `unmapped` default. */
  mapped: boolean;
  /** The rule's own wait, when it set one. */
  timeoutMs?: number;
}

interface CompiledRule {
  test: RegExp;
  rule: ToolRule;
}

/** MCP tool names may hold `.` and `/`; a topic segment may not. Any such character becomes `_`. */
export function topicSegment(tool: string): string {
  return tool.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Maps upstream tool names to routes: per server, the first rule whose `match` globs fit the tool
 * name wins (globs are flat: `*` is any run of characters); a tool no rule fits gets the
 * `unmapped` topic (`mcp.{server}.{tool}`) and risk tags (`[unmapped]`), which the policy gates.
 */
export class ToolRouter {
  private readonly rules: ReadonlyMap<string, readonly CompiledRule[]>;

  constructor(private readonly config: Pick<GatewayConfig, 'servers' | 'unmapped'>) {
    this.rules = new Map(
      Object.entries(config.servers).map(([server, s]) => [
        server,
        s.tools.map((rule) => ({ test: compileIdGlobs(rule.match) as RegExp, rule })),
      ]),
    );
  }

  route(server: string, tool: string): ToolRoute {
    const hit = this.rules.get(server)?.find((r) => r.test.test(tool));
    if (hit) {
      return {
        server,
        tool,
        topic: hit.rule.topic,
        riskTags: hit.rule.risk_tags,
        mapped: true,
        ...(hit.rule.timeout === undefined ? {} : { timeoutMs: hit.rule.timeout }),
      };
    }
    return {
      server,
      tool,
      topic: this.config.unmapped.topic.replaceAll('{server}', server).replaceAll('{tool}', topicSegment(tool)),
      riskTags: this.config.unmapped.risk_tags,
      mapped: false,
    };
  }
}

/** The name a client sees: `<server>__<tool>` when prefixed (`__` is valid in every client's tool names). */
export function exposedToolName(server: string, tool: string, prefixed: boolean): string {
  return prefixed ? `${server}__${tool}` : tool;
}

export function prefixesToolNames(config: Pick<GatewayConfig, 'servers' | 'tool_names'>): boolean {
  switch (config.tool_names) {
    case 'prefixed':
      return true;
    case 'plain':
      return false;
    case 'auto':
      return Object.keys(config.servers).length > 1;
  }
}
