export const GATEWAY_NAME = 'countersign-mcp-gateway';
export const GATEWAY_VERSION = '0.1.0';
