/** The logging the gateway needs (pino's shape). Always to stderr: stdout is the MCP channel. */
export interface GatewayLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: GatewayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
