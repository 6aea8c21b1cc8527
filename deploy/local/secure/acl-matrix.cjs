#!/usr/bin/env node
// The broker authorization model: one Kafka principal per service plus `agent` and `compliance`,
// each allowed exactly what its role needs. This file is the single source: the local secure broker
// (deploy/local/kafka.sh with KAFKA_SECURE=1) applies it, the Strimzi KafkaUsers in deploy/k8s and the
// table in docs/deployment.md are checked against it by test/deploy/manifests.e2e-spec.ts.
//
//   node deploy/local/secure/acl-matrix.cjs principals          names, one a line
//   node deploy/local/secure/acl-matrix.cjs plan <secrets-dir>  users, topics and ACLs for SecureAdmin.java
//   node deploy/local/secure/acl-matrix.cjs markdown            the ACL table for docs/deployment.md
//   node deploy/local/secure/acl-matrix.cjs strimzi-users       deploy/k8s/base/kafka-users.yaml
'use strict';

/** Event topics (libs/contracts `EVENT_TOPICS`; a test keeps the two equal). */
const EVENT_TOPICS = [
  'job.proposed',
  'decision.made',
  'approval.resolved',
  'approval.escalated',
  'job.released',
  'job.blocked',
  'job.executed',
  'policy.activated',
  'audit.recorded',
];
const dlq = (t) => `${t}.dlq`;
const ALL_TOPICS = [...EVENT_TOPICS, ...EVENT_TOPICS.map(dlq)];
const PARTITIONS = 6;
/** Topics execution-binding's `kafka` executors hand approved jobs to (deploy/local/executors.yaml). */
const DISPATCH_PREFIX = 'countersign.dispatch.';

const audited = EVENT_TOPICS.filter((t) => t !== 'audit.recorded');

/**
 * `reads`: topics consumed (READ); a service may also write their `.dlq` (`dlq: true`).
 * `writes`: topics produced (WRITE). `group`: consumer-group prefix the principal may use.
 */
const PRINCIPALS = {
  'policy-decision': { kind: 'service', reads: ['job.proposed'], writes: ['decision.made', 'policy.activated'] },
  'approval-queue': {
    kind: 'service',
    reads: ['job.proposed', 'decision.made'],
    writes: ['approval.resolved', 'approval.escalated'],
  },
  'execution-binding': {
    kind: 'service',
    reads: ['job.proposed', 'decision.made', 'approval.resolved'],
    writes: ['job.released', 'job.blocked', 'job.executed'],
    writePrefixes: [DISPATCH_PREFIX],
  },
  // audit reads every event topic and every DLQ except its own (see services/audit dlq-records.consumer.ts).
  audit: { kind: 'service', reads: [...audited, ...audited.map(dlq)], writes: ['audit.recorded'] },
  agent: { kind: 'client', reads: ['job.released', 'job.blocked', 'job.executed'], writes: ['job.proposed'] },
  compliance: { kind: 'client', reads: ['audit.recorded'], writes: [] },
};

/** Every ACL binding, as `{ principal, resource, pattern, name, operation }` (all allow, host *). */
function expandAcls() {
  const acls = [];
  const add = (principal, resource, pattern, name, operation) =>
    acls.push({ principal, resource, pattern, name, operation });
  for (const [name, p] of Object.entries(PRINCIPALS)) {
    for (const t of p.reads) add(name, 'topic', 'literal', t, 'Read');
    const writes = new Set(p.writes);
    // A service parks what it cannot accept on `<topic>.dlq` of what it consumes (never a DLQ's DLQ).
    if (p.kind === 'service') for (const t of p.reads) if (!t.endsWith('.dlq')) writes.add(dlq(t));
    for (const t of writes) add(name, 'topic', 'literal', t, 'Write');
    for (const prefix of p.writePrefixes ?? []) add(name, 'topic', 'prefix', prefix, 'Write');
    if (p.reads.length) add(name, 'group', 'prefix', name, 'Read');
    if (writes.size) add(name, 'cluster', 'literal', 'kafka-cluster', 'IdempotentWrite');
  }
  return acls;
}

/** The table in docs/deployment.md: one row per topic, who writes it and who reads it. */
function markdownTable() {
  const acls = expandAcls();
  const who = (topic, op) =>
    acls
      .filter((a) => a.resource === 'topic' && a.pattern === 'literal' && a.name === topic && a.operation === op)
      .map((a) => `\`${a.principal}\``)
      .join(', ') || '—';
  const rows = ALL_TOPICS.map((t) => `| \`${t}\` | ${who(t, 'Write')} | ${who(t, 'Read')} |`);
  const prefixed = acls
    .filter((a) => a.resource === 'topic' && a.pattern === 'prefix')
    .map((a) => `| \`${a.name}*\` (prefix) | \`${a.principal}\` | trusted workers (not managed here) |`);
  const groups = Object.keys(PRINCIPALS)
    .filter((n) => acls.some((a) => a.principal === n && a.resource === 'group'))
    .map((n) => `\`${n}*\``)
    .join(', ');
  const idem = [...new Set(acls.filter((a) => a.resource === 'cluster').map((a) => `\`${a.principal}\``))].join(', ');
  return [
    '| topic | Write | Read |',
    '| --- | --- | --- |',
    ...rows,
    ...prefixed,
    '',
    `Consumer groups (Read, prefix = principal name): ${groups}.`,
    `Cluster \`IdempotentWrite\` (idempotent producers): ${idem}.`,
  ].join('\n');
}

/** Strimzi KafkaUsers (SCRAM-SHA-512, simple authorization) granting exactly expandAcls(). */
function strimziUsers(cluster = 'countersign') {
  const YAML = require('yaml');
  const header = [
    '# Strimzi KafkaUsers: one SCRAM-SHA-512 principal per service, plus agent fleets and compliance.',
    '# The User Operator creates a Secret named after each user (key `password`) that the pods mount.',
    '# Generated: node deploy/local/secure/acl-matrix.cjs strimzi-users > deploy/k8s/base/kafka-users.yaml',
    '# then prettier (the local secure broker applies the same ACLs; test/deploy/manifests.e2e-spec.ts compares them).',
  ];
  const docs = Object.keys(PRINCIPALS).map((name) => ({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name, labels: { 'strimzi.io/cluster': cluster, 'app.kubernetes.io/part-of': 'countersign' } },
    spec: {
      authentication: { type: 'scram-sha-512' },
      authorization: {
        type: 'simple',
        acls: expandAcls()
          .filter((a) => a.principal === name)
          .map((a) => ({
            resource:
              a.resource === 'cluster'
                ? { type: 'cluster' }
                : { type: a.resource, name: a.name, patternType: a.pattern },
            operations: [a.operation],
            host: '*',
          })),
      },
    },
  }));
  return `${header.join('\n')}\n${docs.map((d) => `---\n${YAML.stringify(d, { lineWidth: 0 })}`).join('')}`;
}

function plan(secretsDir) {
  const { join } = require('node:path');
  const lines = [];
  for (const name of Object.keys(PRINCIPALS)) lines.push(`user ${name} ${join(secretsDir, `${name}.password`)}`);
  for (const t of ALL_TOPICS) lines.push(`topic ${t} ${PARTITIONS}`);
  for (const a of expandAcls())
    lines.push(`acl User:${a.principal} ${a.resource} ${a.pattern} ${a.name} ${a.operation}`);
  return lines.join('\n');
}

module.exports = {
  EVENT_TOPICS,
  ALL_TOPICS,
  PARTITIONS,
  DISPATCH_PREFIX,
  PRINCIPALS,
  expandAcls,
  markdownTable,
  strimziUsers,
};

if (require.main === module) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'principals') console.log(Object.keys(PRINCIPALS).join('\n'));
  else if (cmd === 'plan' && arg) console.log(plan(arg));
  else if (cmd === 'markdown') console.log(markdownTable());
  else if (cmd === 'strimzi-users') process.stdout.write(strimziUsers());
  else {
    console.error('usage: acl-matrix.cjs principals | plan <secrets-dir> | markdown | strimzi-users');
    process.exit(2);
  }
}
