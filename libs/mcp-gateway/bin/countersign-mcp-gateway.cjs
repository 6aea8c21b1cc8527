#!/usr/bin/env node
// `npx countersign-mcp-gateway --config gateway.yaml`; the gateway itself is libs/mcp-gateway/dist (make build).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const main = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(
    'countersign-mcp-gateway: not built yet; run `npx tsc -b libs/mcp-gateway` in the repository root\n',
  );
  process.exit(2);
}
require(main);
