#!/usr/bin/env node
// `npx countersign` from the repository root; the CLI itself is libs/cli/dist (make build).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const main = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('countersign: the CLI is not built yet; run `make build` in the repository root\n');
  process.exit(2);
}
require(main);
