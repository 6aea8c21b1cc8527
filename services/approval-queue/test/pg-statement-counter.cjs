/*
 * Loaded with `node --require` into a service under test: counts every statement the process sends
 * to PostgreSQL (each `pg` Client#query is one round trip) and writes the running totals to
 * PG_STATEMENT_COUNT_FILE, so a spec can measure round trips per event without touching the server.
 */
const { writeFileSync } = require('node:fs');
const { Client } = require('pg');

const file = process.env.PG_STATEMENT_COUNT_FILE;
const counts = { total: 0, byVerb: {} };
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : (config && config.text) || '';
  const verb = (/^\s*(\w+)/.exec(text) || [, '?'])[1].toUpperCase();
  counts.total += 1;
  counts.byVerb[verb] = (counts.byVerb[verb] || 0) + 1;
  return query.call(this, config, ...rest);
};
if (file) {
  const write = () => writeFileSync(file, JSON.stringify(counts));
  setInterval(write, 50).unref();
  process.on('exit', write);
}
