import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describePreview, waitFor, type PolicyPreview, type PolicyPreviewer } from './policy-preview';
import { exposedToolName, type ToolRoute, type ToolRouter } from './tool-route';

/** One upstream tool as the gateway offers it. */
export interface CatalogueEntry {
  name: string;
  route: ToolRoute;
  /** How long a call waits for the gate's outcome. */
  waitMs: number;
  preview?: PolicyPreview;
  /** Left out of tools/list (the previewed policy always denies it); a call is still put to the gate. */
  hidden: boolean;
  /** The upstream's tool, renamed and annotated: what tools/list returns. */
  tool: Tool;
}

export interface CatalogueOptions {
  router: ToolRouter;
  prefixed: boolean;
  defaultWaitMs: number;
  previewer?: PolicyPreviewer;
  hideDenied: boolean;
  annotate: boolean;
}

/** Two upstream tools under one exposed name: the client could not tell which one it calls. */
export class ToolNameCollisionError extends Error {
  readonly code = 'TOOL_NAME_COLLISION';
  constructor(name: string, servers: readonly string[]) {
    super(`tool name ${name} is offered by ${servers.join(' and ')}: set tool_names: prefixed`);
  }
}

/** The tools of every upstream server, keyed by the name the client calls them by. */
export class ToolCatalogue {
  private constructor(private readonly byName: ReadonlyMap<string, CatalogueEntry>) {}

  static build(lists: ReadonlyMap<string, readonly Tool[]>, opts: CatalogueOptions): ToolCatalogue {
    const byName = new Map<string, CatalogueEntry>();
    for (const [server, tools] of lists) {
      for (const upstream of tools) {
        const name = exposedToolName(server, upstream.name, opts.prefixed);
        const taken = byName.get(name);
        if (taken) throw new ToolNameCollisionError(name, [taken.route.server, server]);
        const route = opts.router.route(server, upstream.name);
        const preview = opts.previewer?.(route);
        const note = preview && opts.annotate ? describePreview(preview) : null;
        byName.set(name, {
          name,
          route,
          waitMs: waitFor(route, preview, opts.defaultWaitMs),
          ...(preview ? { preview } : {}),
          hidden: opts.hideDenied && preview?.decision === 'DENY',
          tool: {
            ...upstream,
            name,
            ...(note ? { description: upstream.description ? `${upstream.description}\n\n${note}` : note } : {}),
          },
        });
      }
    }
    return new ToolCatalogue(byName);
  }

  static empty(): ToolCatalogue {
    return new ToolCatalogue(new Map());
  }

  get(name: string): CatalogueEntry | undefined {
    return this.byName.get(name);
  }

  visibleTools(): Tool[] {
    return [...this.byName.values()].filter((e) => !e.hidden).map((e) => e.tool);
  }

  entries(): CatalogueEntry[] {
    return [...this.byName.values()];
  }
}
