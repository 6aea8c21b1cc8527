#!/usr/bin/env node
// Verifies the Countersign audit hash chain from the audit.recorded topic, independently of the
// audit service and its database: only kafkajs, node:crypto and an RFC 8785 canonicaliser.
//
//   node deploy/audit/verify-chain.cjs [--brokers 127.0.0.1:9092] [--topic audit.recorded] [--trust-key audit.pub] [--json]
//   node deploy/audit/verify-chain.cjs --file export.ndjson [--trust-key audit.pub] [--json]
//
// Reads every partition from the beginning to the end offsets at start (or an NDJSON file: an
// `audit export`, or audit.recorded events one per line), then checks each record:
//   record_hash = sha256hex(JCS(record without record_hash)),  prev_hash = previous record_hash,
//   seq 1, 2, 3, … with no gap; the first record's prev_hash is 64 zeros.
// Records are keyed by job across partitions, so they are ordered by seq here, not by offset.
// A redelivered record (same seq, same hash) counts once. A broker shared by several deployments
// (test databases) holds several chains, each from its own seq 1: each is followed by its links.
// With --trust-key (or TRUST_AUDIT_KEY_FILE), audit's Ed25519 signature on each audit.recorded event
// is checked too (docs/adr/0006): a signature that does not verify breaks the chain at its seq, and
// the last record of every chain must be signed. A signed record commits to every record before it
// through prev_hash, so records written before audit signed (format 1) are covered by a later one.
// Without a key, signatures are not checked and the output says so.
// Prints `ok: …` (exit 0) or `broken at seq N: reason` (exit 1); exit 2 when it cannot read.
'use strict';
const { createHash, createPublicKey, verify } = require('node:crypto');

const GENESIS = '0'.repeat(64);

function loadCanonicalize() {
  const m = require('canonicalize');
  return typeof m === 'function' ? m : m.default;
}

/**
 * The hashed fields by record format (docs/audit.md): format 1 (no `format` field) hashes these nine;
 * format 2 adds what audit found. A field outside the list is not part of the record's hash.
 */
const V1_FIELDS = [
  'seq',
  'prev_hash',
  'source_topic',
  'source_event_id',
  'event_type',
  'job_id',
  'tenant',
  'recorded_at',
  'body',
];
const FIELDS = {
  1: V1_FIELDS,
  2: [...V1_FIELDS, 'format', 'kind', 'digest', 'signature', 'signature_reason', 'redaction', 'conflict'],
};

/** The record's hash, or null when its format is unknown (it cannot be checked, so it does not verify). */
function recordHash(canonicalize, record) {
  const fields = FIELDS[record.format === undefined ? 1 : record.format];
  if (!fields) return null;
  const hashed = {};
  for (const f of fields) if (f in record) hashed[f] = record[f];
  return createHash('sha256').update(canonicalize(hashed), 'utf8').digest('hex');
}

/** Ed25519 public keys from PEM text (several concatenated during a rotation), by key id. */
function loadTrustedKeys(pemText) {
  const pems = pemText.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) || [];
  if (pems.length === 0) throw new Error('no PEM public key found in the trusted key file');
  const keys = new Map();
  for (const pem of pems) {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('the trusted key is not an Ed25519 public key');
    const id = createHash('sha256')
      .update(key.export({ format: 'der', type: 'spki' }))
      .digest('hex')
      .slice(0, 16);
    keys.set(id, key);
  }
  return keys;
}

/**
 * Checks audit's signature on an audit.recorded event: over the JCS of the event without
 * `signature` and `trace` (libs/crypto signing.ts). Returns null when it verifies, else why.
 */
function signatureProblem(canonicalize, event, keys) {
  const sig = event && event.signature;
  if (!sig || typeof sig !== 'object') return 'no signature';
  if (sig.alg !== 'Ed25519' || typeof sig.key_id !== 'string' || typeof sig.value !== 'string')
    return 'malformed signature';
  const key = keys.get(sig.key_id);
  if (!key) return `unknown signing key ${sig.key_id}`;
  const { signature: _s, trace: _t, ...rest } = event;
  try {
    return verify(null, Buffer.from(canonicalize(rest), 'utf8'), key, Buffer.from(sig.value, 'base64url'))
      ? null
      : 'signature does not verify';
  } catch (e) {
    return `signature check failed: ${e.message}`;
  }
}

/**
 * Verifies the chains of `events` (audit.recorded events, or bare records, which carry no signature)
 * and, with `keys`, audit's signature on them. Every signature present must verify; the last
 * record of each chain must carry one.
 */
function verifyEvents(events, keys, canonicalize = loadCanonicalize()) {
  const records = events.map((e) => (e && e.type === 'audit.recorded' && e.data ? e.data : e));
  const result = verifyRecords(records, canonicalize);
  if (!keys) return { ...result, signatures: 'not checked' };
  const signed = new Set();
  const bad = [];
  for (const e of events) {
    const isEvent = e && e.type === 'audit.recorded' && e.data;
    if (!isEvent || !e.signature) continue;
    const problem = signatureProblem(canonicalize, e, keys);
    if (problem === null) signed.add(`${e.data.seq}:${e.data.record_hash}`);
    else bad.push({ seq: e.data.seq, reason: 'BAD_SIGNATURE', detail: problem });
  }
  for (const c of result.chains) {
    if (!signed.has(`${c.last_seq}:${c.last_hash}`))
      bad.push({
        seq: c.last_seq,
        reason: 'UNSIGNED_HEAD',
        detail: 'the last record carries no valid audit signature, so nothing proves audit wrote the chain',
      });
  }
  const broken = [...(result.broken ? [result.broken] : []), ...bad].sort((a, b) => a.seq - b.seq)[0] || null;
  return { ...result, ok: broken === null, broken, signatures: `${signed.size} verified` };
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
    trustKey: process.env.TRUST_AUDIT_KEY_FILE || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--brokers') opts.brokers = String(argv[++i]).split(',');
    else if (a === '--topic') opts.topic = String(argv[++i]);
    else if (a === '--json') opts.json = true;
    else if (a === '--file') opts.file = String(argv[++i]);
    else if (a === '--trust-key') opts.trustKey = String(argv[++i]);
    else if (a === '-h' || a === '--help') opts.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Lines of an NDJSON file of audit records or of audit.recorded events, as parsed. */
function readFile(path) {
  const records = [];
  const unreadable = [];
  const lines = require('node:fs').readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line);
      records.push(v);
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
              records.push(event);
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
      'usage: verify-chain.cjs [--brokers host:port,...] [--topic audit.recorded] [--file records.ndjson] [--trust-key audit.pub] [--json]\n',
    );
    return 0;
  }
  const keys = opts.trustKey ? loadTrustedKeys(require('node:fs').readFileSync(opts.trustKey, 'utf8')) : null;
  const { records, unreadable } = opts.file ? readFile(opts.file) : await readTopic(opts);
  const result = verifyEvents(records, keys);
  if (unreadable.length) result.unreadable = unreadable.length;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (result.ok) {
    const total = result.chains.reduce((n, c) => n + c.records, 0);
    const desc =
      result.chains.length === 1 ? `last seq ${result.chains[0].last_seq}` : `${result.chains.length} chains`;
    process.stdout.write(
      `ok: ${total} records verified (${desc}); signatures ${result.signatures}${unreadable.length ? `; ${unreadable.length} unreadable messages skipped` : ''}\n`,
    );
  } else {
    process.stdout.write(`broken at seq ${result.broken.seq}: ${result.broken.reason} (${result.broken.detail})\n`);
  }
  return result.ok ? 0 : 1;
}

module.exports = { verifyRecords, verifyEvents, loadTrustedKeys, signatureProblem, recordHash, GENESIS };

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`verify-chain: cannot read the audit stream: ${e.message}\n`);
      process.exit(2);
    },
  );
}
