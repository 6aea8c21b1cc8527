#!/usr/bin/env node
// `make bench`: runs every benchmark (bench/<name>/run.ts) one after another, so their figures come
// from one machine in one sitting; each writes its own report to bench/reports/.
//   node bench/run.ts [name ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const dirs = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'reports' && !d.name.startsWith('.') && d.name !== 'node_modules')
  .map((d) => d.name)
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();

let failed = 0;
for (const name of dirs) {
  const script = join(here, name, 'run.ts');
  if (!existsSync(script)) continue;
  process.stdout.write(`\n==> bench/${name}\n`);
  const started = Date.now();
  // --write-report: bench/policy writes its report only when asked; the others always do.
  const r = spawnSync(process.execPath, [script, '--write-report'], { stdio: 'inherit', cwd: join(here, '..') });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench/${name} failed (exit ${r.status}) after ${secs}s\n`);
  } else process.stdout.write(`bench/${name} done in ${secs}s; report in bench/reports/\n`);
}
process.exit(failed ? 1 : 0);
