// The last step of the scripts that generate a checked-in file from code (api-types, config-docs,
// errors-docs): write it, or with `--check` compare it with what is checked in.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

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

module.exports = { writeOrCheck };
