#!/usr/bin/env node
// Verifies the Countersign audit hash chain from the audit.recorded topic, independently of the
// audit service and its database: only kafkajs, node:crypto and an RFC 8785 canonicaliser.
//
//   node deploy/audit/verify-chain.cjs [--brokers 127.0.0.1:9092] [--topic audit.recorded] [--json]
//   node deploy/audit/verify-chain.cjs --file export.ndjson [--json]
//
// Reads every partition from the beginning to the end offsets at start (or an NDJSON file: an
// `audit export`, or audit.recorded events one per line), then checks each record:
//   record_hash = sha256hex(JCS(record without record_hash)),  prev_hash = previous record_hash,
//   seq 1, 2, 3, … with no gap; the first record's prev_hash is 64 zeros.
// Records are keyed by job across partitions, so they are ordered by seq here, not by offset.
// A redelivered record (same seq, same hash) counts once. A broker shared by several deployments
// (test databases) holds several chains, each from its own seq 1: each is followed by its links.
// Prints `ok: …` (exit 0) or `broken at seq N: reason` (exit 1); exit 2 when it cannot read.
'use strict';
const { createHash } = require('node:crypto');

const GENESIS = '0'.repeat(64);

function loadCanonicalize() {
  const m = require('canonicalize');
  return typeof m === 'function' ? m : m.default;
}

function recordHash(canonicalize, record) {
  const { record_hash: _omit, ...rest } = record;
  return createHash('sha256').update(canonicalize(rest), 'utf8').digest('hex');
}

/**
 * Links records into chains and returns them with everything that belongs to none. `records` are
 * audit records (the `data` of audit.recorded events), in any order.
 */
function verifyRecords(records, canonicalize = loadCanonicalize()) {
  const unique = new Map();
  const conflicts = [];
  for (const r of records) {
    const key = `${r.seq}:${r.record_hash}`;
    if (!unique.has(key)) unique.set(key, r);
  }
  const byPrev = new Map();
  const valid = new Set();
  for (const r of unique.values()) {
    if (recordHash(canonicalize, r) === r.record_hash) valid.add(r);
    const list = byPrev.get(r.prev_hash) || [];
    list.push(r);
    byPrev.set(r.prev_hash, list);
  }
  const chains = [];
  const reached = new Set();
  const starts = [...unique.values()].filter((r) => r.seq === 1 && r.prev_hash === GENESIS && valid.has(r));
  for (const first of starts) {
    let last = first;
    reached.add(first);
    for (;;) {
      const next = (byPrev.get(last.record_hash) || []).filter((r) => r.seq === last.seq + 1 && valid.has(r));
      if (next.length > 1)
        conflicts.push({
          seq: last.seq + 1,
          reason: 'FORK',
          detail: `${next.length} different records claim seq ${last.seq + 1} after the same record`,
        });
      if (next.length === 0) break;
      last = next[0];
      reached.add(last);
    }
    chains.push({ first_seq: 1, last_seq: last.seq, records: last.seq, last_hash: last.record_hash });
  }
  const seqs = new Set([...unique.values()].map((r) => r.seq));
  const orphans = [...unique.values()]
    .filter((r) => !reached.has(r))
    .sort((a, b) => a.seq - b.seq)
    .map((r) => {
      if (!valid.has(r))
        return { seq: r.seq, reason: 'HASH_MISMATCH', detail: 'record_hash does not match the record' };
      if (r.seq === 1)
        return {
          seq: 1,
          reason: 'PREV_HASH_MISMATCH',
          detail: 'the first record does not start from the genesis hash',
        };
      return seqs.has(r.seq - 1)
        ? { seq: r.seq, reason: 'PREV_HASH_MISMATCH', detail: `prev_hash is not the hash of any record ${r.seq - 1}` }
        : { seq: r.seq - 1, reason: 'GAP', detail: `seq ${r.seq - 1} is missing before seq ${r.seq}` };
    });
  const broken = [...conflicts, ...orphans].sort((a, b) => a.seq - b.seq)[0] || null;
  return { ok: broken === null, chains, orphans: orphans.length, broken };
}

function parseArgs(argv) {
  const opts = {
    brokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','),
    topic: 'audit.recorded',
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--brokers') opts.brokers = String(argv[++i]).split(',');
    else if (a === '--topic') opts.topic = String(argv[++i]);
    else if (a === '--json') opts.json = true;
    else if (a === '--file') opts.file = String(argv[++i]);
    else if (a === '-h' || a === '--help') opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Records from an NDJSON file of audit records or of audit.recorded events. */
function readFile(path) {
  const records = [];
  const unreadable = [];
  const lines = require('node:fs').readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line);
      records.push(v && v.type === 'audit.recorded' && v.data ? v.data : v);
    } catch (e) {
      unreadable.push({ line: i + 1, error: e.message });
    }
  });
  return { records, unreadable };
}

/** Reads the whole topic as it is now: every partition from its start to its current end. */
async function readTopic({ brokers, topic }) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ clientId: 'audit-verify-chain', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  const remaining = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]),
  );
  const records = [];
  const unreadable = [];
  if (remaining.size > 0) {
    const groupId = `audit-verify-chain-${process.pid}-${Date.now()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            try {
              const event = JSON.parse(message.value.toString('utf8'));
              records.push(event.data);
            } catch (e) {
              unreadable.push({ partition, offset: message.offset, error: e.message });
            }
            const last = remaining.get(partition);
            if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  await admin.disconnect();
  return { records, unreadable };
}

async function main() {
  // kafkajs schedules negative timeouts; Node's warning about it is noise on an operator's terminal.
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
    if (type !== 'TimeoutNegativeWarning') emitWarning(warning, ...rest);
  };
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(
      'usage: verify-chain.cjs [--brokers host:port,...] [--topic audit.recorded] [--file records.ndjson] [--json]\n',
    );
    return 0;
  }
  const { records, unreadable } = opts.file ? readFile(opts.file) : await readTopic(opts);
  const result = verifyRecords(records);
  if (unreadable.length) result.unreadable = unreadable.length;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (result.ok) {
    const total = result.chains.reduce((n, c) => n + c.records, 0);
    const desc =
      result.chains.length === 1 ? `last seq ${result.chains[0].last_seq}` : `${result.chains.length} chains`;
    process.stdout.write(
      `ok: ${total} records verified (${desc})${unreadable.length ? `; ${unreadable.length} unreadable messages skipped` : ''}\n`,
    );
  } else {
    process.stdout.write(`broken at seq ${result.broken.seq}: ${result.broken.reason} (${result.broken.detail})\n`);
  }
  return result.ok ? 0 : 1;
}

module.exports = { verifyRecords, recordHash, GENESIS };

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`verify-chain: cannot read the audit stream: ${e.message}\n`);
      process.exit(2);
    },
  );
}
