#!/usr/bin/env node
// Generates docs/configuration.md from the services' config schemas, so the reference cannot drift
// from the code: names, defaults and required/optional come from the zod schemas themselves
// (each built service's dist/src/config/env.schema.js `EnvSchema`, the base from @countersign/bus).
// Descriptions come from the schema (`.describe()`) or, since the schema files belong to their
// services, from DESCRIPTIONS below; a variable with neither fails the generation.
//
//   node scripts/config-docs.cjs           write docs/configuration.md (needs `make build`)
//   node scripts/config-docs.cjs --check   exit 1 when docs/configuration.md is out of date
//   node scripts/config-docs.cjs --json    the collected variables as JSON (for the deploy tests)
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const OUTPUT = join(ROOT, 'docs', 'configuration.md');
const SERVICES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'];

/** `NAME` for every service, `service:NAME` where one service means something else by it. */
const DESCRIPTIONS = {
  PORT: 'HTTP port of the API, `/healthz`, `/readyz` and `/api/docs`.',
  HOST: 'Interface the HTTP server binds to.',
  LOG_LEVEL: 'pino log level (JSON lines on stdout).',
  KAFKA_BROKERS: 'Kafka bootstrap servers, comma-separated `host:port`.',
  KAFKA_CLIENT_ID: 'Kafka client id; defaults to the service name.',
  KAFKA_GROUP_ID:
    "Kafka consumer group; defaults to the service name. Replicas share it and so share the partitions. With broker ACLs, it must start with the service's principal name.",
  KAFKA_SESSION_TIMEOUT_MS:
    "How long the group coordinator waits for a silent consumer (a crashed replica) before handing its partitions to the others; a restarted process also waits this long for its partitions. Must lie within the broker's group.min/max.session.timeout.ms (6 s to 30 min by default).",
  DATABASE_URL: 'PostgreSQL connection URL. Each service migrates and uses only its own schema.',
  KAFKA_PARTITIONS_CONCURRENCY:
    "Partitions whose batches the consumer handles at once (kafkajs partitionsConsumedConcurrently); each partition's messages still start in order.",
  DATABASE_POOL_MAX: 'Most PostgreSQL connections in the pool.',
  OUTBOX_POLL_MS:
    'How often the outbox sweep looks (one cheap statement) for rows whose publish right after commit was not confirmed; the hot path never waits for it (ADR 0008).',
  OUTBOX_RELAY_GRACE_MS:
    'How old an unpublished outbox row must be before the sweep sends it: younger rows are still being published by the process that committed them. A crash between commit and publish delays those events by about this much; shorter graces send more duplicates while the broker is slow to confirm.',
  KAFKA_COMMIT_INTERVAL_MS:
    "How often consumer offsets are committed, in one request for all of a member's partitions, and once more when the group rebalances and before a member leaves it; 0 commits after every batch (kafkajs' own autoCommitInterval does not apply to batch consumers). A crash redelivers what arrived since the last commit (every consumer is idempotent).",
  MAX_MESSAGE_BYTES:
    "Largest Kafka message value a consumer accepts, in bytes; a larger one goes to `<topic>.dlq` unparsed, with its size and the limit as the reason. Keep it at or below the broker's `max.message.bytes`.",
  DLQ_KEEP_RAW:
    "Keep the original bytes of a message sent to `<topic>.dlq` (`value_base64`, at most 256 KiB). Off by default: a refused proposal may carry secrets and the DLQ (and the audit trail that records it) is permanent. Records always keep the bytes' SHA-256 and length and, for JSON, a copy with the payload redacted (`REDACT_FIELDS` where the service has it) and the `job_hash` of the original (docs/events.md).",
  MAX_BODY_BYTES:
    'Largest HTTP request body accepted, in bytes; a larger one gets 413 `PAYLOAD_TOO_LARGE` naming the limit.',
  KAFKA_SASL_MECHANISM:
    'SASL mechanism for the broker: `scram-sha-512` (what the secure profile and Strimzi use), `scram-sha-256` or `plain` (only over TLS). Unset: no SASL. Needs `KAFKA_SASL_USERNAME` and a password.',
  KAFKA_SASL_USERNAME:
    "SASL username: the service's own Kafka principal (`policy-decision`, `approval-queue`, `execution-binding`, `audit`).",
  KAFKA_SASL_PASSWORD: 'SASL password, inline. Prefer `KAFKA_SASL_PASSWORD_FILE`; setting both is an error.',
  KAFKA_SASL_PASSWORD_FILE: 'Path of a file holding the SASL password (a trailing newline is ignored).',
  KAFKA_SSL: 'Connect to Kafka over TLS.',
  KAFKA_SSL_CA_FILE:
    'PEM CA bundle that signed the broker certificates (replaces the system CAs). Needs `KAFKA_SSL=true`.',

  'approval-queue:REDACT_FIELDS':
    'Payload keys shown to reviewers as `[REDACTED]`, comma-separated, matched case-insensitively at any depth ignoring `_` and `-`. Setting it replaces the default list.',
  'approval-queue:SWEEP_INTERVAL_MS':
    'How often the sweeper escalates approvals nearing their SLA and expires overdue ones.',
  SWEEP_BATCH_SIZE: 'Most approvals the sweeper handles per round.',
  ESCALATION_WEBHOOK_URL: 'Optional URL that receives a POST for each escalation (besides `approval.escalated`).',
  ESCALATION_WEBHOOK_TIMEOUT_MS: 'Timeout of one escalation webhook call.',

  AUDIT_DB_ROLE:
    'PostgreSQL role every transaction that touches the trail runs as (`SET LOCAL ROLE`); the migration creates `audit_writer` with INSERT and SELECT only. Empty disables it (not recommended).',
  AUDIT_APPEND_BATCH_MAX: 'Most records appended in one transaction (group commit).',
  AUDIT_VERIFY_BATCH: 'Rows read per keyset batch by verify and export.',
  AUDIT_VERIFY_WORKERS: 'Worker threads one verification splits the chain across.',
  'audit:REDACT_FIELDS':
    "Payload keys whose values the audit trail stores as `[REDACTED]` (with the redacted paths and the full proposal's `job_hash`), matched as the queue matches them; the default is the queue's list. Setting it replaces the default list.",
  AUDIT_KEEP_FULL_PAYLOADS:
    '`true` keeps payloads whole in the permanent record, secrets included (an explicit choice; see docs/audit.md). Default: redacted.',

  NODE_ENV:
    "`production` refuses to start when an executor's HMAC secret is missing (elsewhere a random one is generated) and ignores test-only switches.",
  EXECUTORS_FILE:
    'YAML file of executors per topic glob, validated at boot; relative paths resolve from the working directory.',
  INCOMPLETE_AFTER_MS:
    'A job whose proposal or decision is still missing this long after its first fact is blocked `INCOMPLETE`.',
  'execution-binding:SWEEP_INTERVAL_MS':
    'How often the sweeper looks for `INCOMPLETE` jobs, due retries, abandoned executions and unreported grants.',
  EXECUTION_LEASE_GRACE_MS:
    "Added to an attempt's timeout before a `started` execution counts as abandoned by a dead process.",
  RELEASE_REPORT_GRACE_SEC:
    'After a grant expires, how long the agent still has to report the outcome before it is recorded `UNKNOWN`.',
  EXECUTOR_TEST_CRASH_AFTER_RECORD:
    'Test only (honoured only with `NODE_ENV=test`): exit right after an execution is recorded, before its side effect.',

  POLICY_DIR: 'Policy directory (`system.yaml` + `tenants/<tenant>.yaml`); unset: `./policies`, the shipped one.',
  POLICY_FILE: 'A single policy file instead of a directory (it is the system policy). Not together with `POLICY_DIR`.',
  POLICY_RELOAD_MS: 'How often the policy files are checked for changes (a change activates a new snapshot).',
};

/** Defaults computed when the schema loads (they differ per machine), described instead of printed. */
const COMPUTED_DEFAULTS = {
  'audit:AUDIT_VERIFY_WORKERS': 'the CPUs, at most 4',
};

/**
 * Variables read outside the zod schemas: keys, through `loadSigner` / `loadTrustedKeys`
 * (`<NAME>` inline PEM or `<NAME>_FILE` a path), and the executors' HMAC secrets.
 * test/deploy/config-docs.e2e-spec.ts checks this list against the services' source.
 */
const SECRETS = {
  'policy-decision': [
    {
      name: 'POLICY_DECISION_SIGNING_KEY',
      file: true,
      required: true,
      description: 'Ed25519 private key (PEM) that signs `decision.made` and `policy.activated`.',
    },
  ],
  'approval-queue': [
    {
      name: 'APPROVAL_QUEUE_SIGNING_KEY',
      file: true,
      required: true,
      description: 'Ed25519 private key (PEM) that signs `approval.resolved` and `approval.escalated`.',
    },
    {
      name: 'TRUST_POLICY_DECISION_KEY',
      file: true,
      required: true,
      description: "policy-decision's public key(s), PEM; several concatenated during a rotation.",
    },
  ],
  'execution-binding': [
    {
      name: 'EXECUTION_BINDING_SIGNING_KEY',
      file: true,
      required: true,
      description: 'Ed25519 private key (PEM) that signs grants and outcomes.',
    },
    {
      name: 'TRUST_POLICY_DECISION_KEY',
      file: true,
      required: true,
      description: "policy-decision's public key(s): decisions are verified before binding.",
    },
    {
      name: 'TRUST_APPROVAL_QUEUE_KEY',
      file: true,
      required: true,
      description: "approval-queue's public key(s): approvals are verified before binding.",
    },
    {
      name: 'TRUST_EXECUTION_BINDING_KEY',
      file: true,
      required: false,
      description: 'Its own earlier public key(s), so records signed before a key rotation still verify.',
    },
    {
      name: '<secret_env>',
      file: false,
      required: false,
      description:
        'For each `http` executor in `EXECUTORS_FILE`, the variable its `secret_env` names (locally `EXECUTOR_HTTP_SECRET`): the HMAC secret, at least 16 characters; required with `NODE_ENV=production`.',
    },
  ],
  audit: [
    {
      name: 'AUDIT_SIGNING_KEY',
      file: true,
      required: true,
      description:
        'Ed25519 private key (PEM) that signs `audit.recorded`; consumers trust its public key as `TRUST_AUDIT_KEY` (docs/adr/0006).',
    },
    {
      name: 'TRUST_POLICY_DECISION_KEY',
      file: true,
      required: true,
      description: "policy-decision's public key(s): the signature of every `decision.made` is verified and recorded.",
    },
    {
      name: 'TRUST_APPROVAL_QUEUE_KEY',
      file: true,
      required: true,
      description:
        "approval-queue's public key(s): `approval.resolved` and `approval.escalated` are verified and recorded.",
    },
    {
      name: 'TRUST_EXECUTION_BINDING_KEY',
      file: true,
      required: true,
      description:
        "execution-binding's public key(s): `job.released`, `job.blocked` and `job.executed` are verified and recorded.",
    },
  ],
};

/** Standard OpenTelemetry variables the telemetry bootstrap honours (libs/telemetry). */
const TELEMETRY = [
  {
    name: 'OTEL_TRACES_EXPORTER',
    default: 'none',
    description:
      '`otlp` or `console` to export traces; unset/`none`: trace ids still propagate and are logged, but spans are not recorded (the sampler defaults to `always_off`).',
  },
  {
    name: 'OTEL_TRACES_SAMPLER',
    default: '`always_off` with no exporter, else `parentbased_always_on`',
    description:
      'The standard OpenTelemetry sampler (`parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.01` records one trace in a hundred on a busy gate).',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '—',
    description: 'OTLP/HTTP collector endpoint, e.g. `http://otel-collector:4318`.',
  },
  { name: 'OTEL_SERVICE_NAME', default: 'the service name', description: 'Service name on exported spans.' },
];

function loadSchemas() {
  let base;
  try {
    ({ BaseEnvSchema: base } = require('@countersign/bus'));
  } catch (e) {
    throw new Error(`cannot load @countersign/bus (run \`make build\` first): ${e.message}`);
  }
  const services = {};
  for (const name of SERVICES) {
    const file = join(ROOT, 'services', name, 'dist', 'src', 'config', 'env.schema.js');
    try {
      services[name] = require(file).EnvSchema;
    } catch (e) {
      throw new Error(`cannot load ${file} (run \`make build\` first): ${e.message}`);
    }
  }
  return { base, services };
}

/** Object shape of a schema, looking through refinements and pipes. */
function shapeOf(schema) {
  let s = schema;
  while (s._zod.def.type === 'pipe') s = s._zod.def.in;
  if (s._zod.def.type !== 'object') throw new Error(`expected an object schema, got ${s._zod.def.type}`);
  return s._zod.def.shape;
}

const isFlag = (values) => values.length === 4 && ['true', 'false', '1', '0'].every((v) => values.includes(v));

/** What a variable accepts, whether it is required, and its default, read from the zod definition. */
function describeField(field) {
  let s = field;
  let optional = false;
  let dflt;
  for (;;) {
    const def = s._zod.def;
    if (def.type === 'optional') {
      optional = true;
      s = def.innerType;
    } else if (def.type === 'default' || def.type === 'prefault') {
      dflt = def.defaultValue;
      s = def.innerType;
    } else if (def.type === 'pipe') {
      s = def.in;
    } else if (def.type === 'nullable') {
      s = def.innerType;
    } else break;
  }
  const def = s._zod.def;
  const checks = (def.checks ?? []).map((c) => c._zod.def);
  let type;
  switch (def.type) {
    case 'string':
      type = def.format === 'url' || checks.some((c) => c.format === 'url') ? 'URL' : 'string';
      break;
    case 'number': {
      const int = checks.some((c) => c.check === 'number_format' && /int/.test(c.format));
      const min = checks.find((c) => c.check === 'greater_than');
      const max = checks.find((c) => c.check === 'less_than');
      type = `${int ? 'integer' : 'number'}${min ? ` ≥ ${min.value}` : ''}${max ? `, ≤ ${max.value}` : ''}`;
      break;
    }
    case 'enum': {
      const values = Object.values(def.entries);
      type = isFlag(values)
        ? 'boolean (`true`, `false`, `1`, `0`)'
        : `one of ${values.map((v) => `\`${v}\``).join(', ')}`;
      break;
    }
    case 'boolean':
      type = 'boolean';
      break;
    default:
      type = def.type;
  }
  if (Array.isArray(dflt)) type = 'comma-separated list';
  return { type, optional, default: dflt, required: !optional && dflt === undefined };
}

function formatDefault(v) {
  if (v === undefined) return '—';
  if (Array.isArray(v)) return v.length ? `\`${v.join(',')}\`` : '(empty)';
  if (v === '') return '(empty)';
  return `\`${String(v)}\``;
}

function descriptionFor(service, name, field) {
  const d = field?.description ?? (service && DESCRIPTIONS[`${service}:${name}`]) ?? DESCRIPTIONS[name];
  if (!d)
    throw new Error(
      `no description for ${service ? `${service}: ` : ''}${name}: add .describe() in the schema or an entry in scripts/config-docs.cjs DESCRIPTIONS`,
    );
  return d;
}

/** Every variable of every service, from the schemas. */
function collect() {
  const { base, services } = loadSchemas();
  const baseShape = shapeOf(base);
  const common = Object.entries(baseShape).map(([name, field]) => ({
    name,
    ...describeField(field),
    description: descriptionFor(null, name, field),
  }));
  const perService = {};
  for (const [service, schema] of Object.entries(services)) {
    const shape = shapeOf(schema);
    for (const name of Object.keys(baseShape)) {
      if (!(name in shape)) throw new Error(`${service}: EnvSchema drops ${name} of BaseEnvSchema`);
    }
    perService[service] = Object.entries(shape).map(([name, field]) => ({
      name,
      ...describeField(field),
      ...(COMPUTED_DEFAULTS[`${service}:${name}`]
        ? { default: undefined, computedDefault: COMPUTED_DEFAULTS[`${service}:${name}`] }
        : {}),
      // Shared fields keep the base's instance; an overridden one (PORT) belongs to the service.
      shared: baseShape[name] === field,
      description: descriptionFor(service, name, field),
    }));
  }
  return { common, services: perService, secrets: SECRETS, telemetry: TELEMETRY };
}

const row = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;

function render() {
  const data = collect();
  const out = [];
  out.push(
    '# Configuration reference',
    '',
    "<!-- Generated by `node scripts/config-docs.cjs` from the services' config schemas: do not edit by hand.",
    '     test/deploy/config-docs.e2e-spec.ts fails when this file and the schemas disagree. -->',
    '',
    'Every service reads its configuration from environment variables once, at start, and refuses to',
    'start when one is invalid, naming it (`ConfigError: invalid configuration: ...`). Secrets are',
    'best given as files (`*_FILE`), which keeps them out of the process list and of `kubectl describe`.',
    'How the deployments set them: [deployment.md](deployment.md).',
    '',
    '## Every service',
    '',
    row(['variable', 'accepts', 'default', 'description']),
    row(['---', '---', '---', '---']),
  );
  for (const v of data.common) {
    const dflt = v.name === 'PORT' ? 'per service (below)' : v.required ? '**required**' : formatDefault(v.default);
    out.push(row([`\`${v.name}\``, v.type, dflt, v.description]));
  }
  for (const service of SERVICES) {
    const own = data.services[service].filter((v) => !v.shared);
    out.push(
      '',
      `## ${service}`,
      '',
      row(['variable', 'accepts', 'default', 'description']),
      row(['---', '---', '---', '---']),
    );
    for (const v of own) {
      const dflt = v.computedDefault ?? (v.required ? '**required**' : formatDefault(v.default));
      out.push(row([`\`${v.name}\``, v.type, dflt, v.description]));
    }
    const secrets = data.secrets[service];
    if (secrets.length) {
      out.push('', `Keys and secrets (read outside the schema; \`NAME\` inline or \`NAME_FILE\` a path):`, '');
      out.push(row(['variable', 'required', 'description']), row(['---', '---', '---']));
      for (const s of secrets) {
        out.push(
          row([
            s.file ? `\`${s.name}\` / \`${s.name}_FILE\`` : `\`${s.name}\``,
            s.required ? 'yes' : 'no',
            s.description,
          ]),
        );
      }
    }
  }
  out.push(
    '',
    '## Tracing (every service)',
    '',
    row(['variable', 'default', 'description']),
    row(['---', '---', '---']),
  );
  for (const t of data.telemetry)
    out.push(
      row([
        `\`${t.name}\``,
        t.default === '—' ? '—' : `${t.default.includes(' ') ? t.default : `\`${t.default}\``}`,
        t.description,
      ]),
    );
  out.push(
    '',
    'Other standard `OTEL_*` variables (headers, sampling) are honoured by the OpenTelemetry SDK as usual.',
    '',
  );
  return out.join('\n');
}

module.exports = { SERVICES, DESCRIPTIONS, COMPUTED_DEFAULTS, SECRETS, TELEMETRY, OUTPUT, collect, render };

function main() {
  try {
    if (process.argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify(collect(), null, 2)}\n`);
      return;
    }
    const text = render();
    if (process.argv.includes('--check')) {
      let current = '';
      try {
        current = readFileSync(OUTPUT, 'utf8');
      } catch {
        current = '';
      }
      if (current !== text) {
        console.error('docs/configuration.md is out of date: run `node scripts/config-docs.cjs`');
        process.exit(1);
      }
      console.log('docs/configuration.md is up to date');
    } else {
      writeFileSync(OUTPUT, text);
      console.log(`wrote ${OUTPUT.slice(ROOT.length + 1)}`);
    }
  } catch (e) {
    console.error(`config-docs: ${e.message}`);
    process.exit(1);
  }
}

if (require.main === module) main();
