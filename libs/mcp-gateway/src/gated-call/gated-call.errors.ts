import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The MCP client cancelled the call before the gate released it: the upstream was not called. */
export class CallCancelledError extends Error {
  readonly code = 'CANCELLED';
  constructor() {
    super('the MCP client cancelled the call before it was released; the upstream tool was not called');
  }
}

/** The released call reached the upstream server, which failed to answer (protocol error, timeout, crash). */
export class UpstreamCallError extends Error {
  readonly code = 'UPSTREAM_FAILED';
  constructor(
    readonly server: string,
    cause: unknown,
  ) {
    super(`upstream server ${server} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The upstream tool answered with `isError: true`: reported to the gate as FAILED, handed to the client as is. */
export class UpstreamToolError extends Error {
  readonly code = 'UPSTREAM_TOOL_ERROR';
  constructor(readonly result: CallToolResult) {
    super(`the tool reported an error: ${textOf(result).slice(0, 1500) || '(no text)'}`);
  }
}

export function textOf(result: CallToolResult): string {
  return result.content
    .flatMap((c) => (c.type === 'text' ? [c.text] : []))
    .join('\n')
    .trim();
}
