/*
 * Loaded with `node --require` into a service under test: counts every statement the process sends
 * to PostgreSQL (each `pg` Client#query is one round trip) and writes the running totals to
 * PG_STATEMENT_COUNT_FILE, so a spec can measure round trips per event without touching the server.
 * Read it with `pgStatementCounter()` from ./pg-statements.
 */
'use strict';
const { renameSync, writeFileSync } = require('node:fs');
const { Client } = require('pg');

const file = process.env.PG_STATEMENT_COUNT_FILE;
// `transactions`: what the server commits as a transaction, counted on the client: each BEGIN/START
// opens one, and a statement sent outside BEGIN..COMMIT/ROLLBACK is one on its own (autocommit).
const counts = { total: 0, transactions: 0, commits: 0, byVerb: {} };
const inTransaction = new WeakSet();
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : (config && config.text) || '';
  const verb = (/^\s*(\w+)/.exec(text) || [, '?'])[1].toUpperCase();
  counts.total += 1;
  counts.byVerb[verb] = (counts.byVerb[verb] || 0) + 1;
  if (verb === 'BEGIN' || verb === 'START') {
    counts.transactions += 1;
    inTransaction.add(this);
  } else if (verb === 'COMMIT' || verb === 'ROLLBACK') {
    if (verb === 'COMMIT') counts.commits += 1;
    inTransaction.delete(this);
  } else if (!inTransaction.has(this)) counts.transactions += 1;
  return query.call(this, config, ...rest);
};
if (file) {
  // Write beside the file, then rename: a reader never sees the empty file a truncating write
  // leaves behind (a spec read one mid-write in CI).
  const next = `${file}.${process.pid}.tmp`;
  let written = '';
  const write = () => {
    const now = JSON.stringify(counts);
    if (now === written) return;
    writeFileSync(next, now);
    renameSync(next, file);
    written = now;
  };
  write();
  setInterval(write, 20).unref();
  process.on('exit', write);
}
