#!/usr/bin/env node
// `make bench`: runs every benchmark (bench/<name>/run.{cjs,mjs}) one after another, so their
// figures come from one machine in one sitting; each writes its own report to bench/reports/.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const only = process.argv.slice(2);
const dirs = readdirSync(__dirname, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'reports' && !d.name.startsWith('.'))
  .map((d) => d.name)
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();

let failed = 0;
for (const name of dirs) {
  const script = ['run.cjs', 'run.mjs'].map((f) => join(__dirname, name, f)).find((f) => existsSync(f));
  if (!script) continue;
  process.stdout.write(`\n==> bench/${name}\n`);
  const started = Date.now();
  // --write-report: bench/policy writes its report only when asked; the others always do.
  const r = spawnSync(process.execPath, [script, '--write-report'], { stdio: 'inherit', cwd: join(__dirname, '..') });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench/${name} failed (exit ${r.status}) after ${secs}s\n`);
  } else process.stdout.write(`bench/${name} done in ${secs}s; report in bench/reports/\n`);
}
process.exit(failed ? 1 : 0);
