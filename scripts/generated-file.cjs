// The last step of the scripts that generate a checked-in file from code (api-types, config-docs,
// errors-docs): write it, or with `--check` compare it with what is checked in.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');

/** `written`, or with `--check` (nothing written): `current` when `output` holds `text`, else `stale`. */
function writeOrCheck(output, text) {
  if (!process.argv.includes('--check')) {
    writeFileSync(output, text);
    return 'written';
  }
  let current = '';
  try {
    current = readFileSync(output, 'utf8');
  } catch {
    current = '';
  }
  return current === text ? 'current' : 'stale';
}

/**
 * A docs generator's main: `produce()` the text of `output`, then write it or check it; any
 * failure is one line naming the script (`script`, e.g. `config-docs`) and exit code 1.
 */
async function runGenerator(script, output, produce) {
  const rel = relative(ROOT, output);
  try {
    const state = writeOrCheck(output, await produce());
    if (state === 'stale') {
      console.error(`${rel} is out of date: run \`node scripts/${script}.cjs\``);
      process.exit(1);
    }
    console.log(state === 'current' ? `${rel} is up to date` : `wrote ${rel}`);
  } catch (e) {
    console.error(`${script}: ${e.message}`);
    process.exit(1);
  }
}

module.exports = { runGenerator, writeOrCheck };
