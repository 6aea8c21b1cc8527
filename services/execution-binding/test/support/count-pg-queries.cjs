// Test-only preload (NODE_OPTIONS=--require): counts the statements the service sends to PostgreSQL,
// each one a round trip, and how many of them commit a transaction; written to PG_QUERY_COUNT_FILE.
'use strict';
const { writeFileSync } = require('node:fs');
const { Client } = require('pg');

const file = process.env.PG_QUERY_COUNT_FILE;
if (file) {
  const counts = { statements: 0, commits: 0 };
  const query = Client.prototype.query;
  Client.prototype.query = function countedQuery(config, ...rest) {
    const text = typeof config === 'string' ? config : config && config.text;
    counts.statements += 1;
    if (typeof text === 'string' && /^\s*COMMIT\b/i.test(text)) counts.commits += 1;
    return query.call(this, config, ...rest);
  };
  let written = '';
  const write = () => {
    const now = JSON.stringify(counts);
    if (now !== written) {
      writeFileSync(file, now);
      written = now;
    }
  };
  setInterval(write, 20).unref();
  process.on('exit', write);
}
