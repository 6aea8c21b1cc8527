/** The gateway's configuration is unusable; `issues` name each problem by its path in the file. */
export class GatewayConfigError extends Error {
  readonly code = 'INVALID_CONFIG';

  constructor(
    readonly source: string,
    readonly issues: readonly string[],
  ) {
    super(`${source}: invalid MCP gateway configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'GatewayConfigError';
  }
}
