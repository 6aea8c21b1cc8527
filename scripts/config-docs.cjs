#!/usr/bin/env node
// Generates docs/configuration.md from the services' config schemas alone, so the reference cannot
// drift from the code: names, defaults, required/optional and descriptions all come from the zod
// schemas (each built service's dist/src/config/env.schema.js `EnvSchema`, the base from
// @countersign/config). A description is the field's `.describe()` (or `.meta({ description })`);
// `.meta({ required })` marks a key that must be set inline or as `_FILE`, `.meta({ defaultText })`
// a default computed per machine. A variable without a description fails the generation.
//
//   node scripts/config-docs.cjs           write docs/configuration.md (needs `make build`)
//   node scripts/config-docs.cjs --check   exit 1 when docs/configuration.md is out of date
//   node scripts/config-docs.cjs --json    the collected variables as JSON (for the deploy tests)
'use strict';
const { runGenerator } = require('./generated-file.cjs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const OUTPUT = join(ROOT, 'docs', 'configuration.md');
const SERVICES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'];

/**
 * Secrets whose names are not fixed, so no schema can hold them: each `http` executor's `secret_env`
 * names its own (read by services/execution-binding/src/config/executors.config.ts).
 */
const SECRETS = {
  'policy-decision': [],
  'approval-queue': [],
  'execution-binding': [
    {
      name: '<secret_env>',
      file: false,
      required: false,
      description:
        'For each `http` executor in `EXECUTORS_FILE`, the variable its `secret_env` names (locally `EXECUTOR_HTTP_SECRET`): the HMAC secret, at least 16 characters; required with `NODE_ENV=production`.',
    },
  ],
  audit: [],
};

function loadSchemas() {
  let base, telemetry;
  try {
    ({ BaseEnvSchema: base, TelemetryEnvSchema: telemetry } = require('@countersign/config'));
  } catch (e) {
    throw new Error(`cannot load @countersign/config (run \`make build\` first): ${e.message}`);
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
  return { base, services, telemetry };
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

/** The field's metadata (`.describe()` / `.meta()`), looking through wrappers that carry none themselves. */
function metaOf(field) {
  let s = field;
  for (;;) {
    const meta = typeof s.meta === 'function' ? s.meta() : undefined;
    if (meta && Object.keys(meta).length) return meta;
    const def = s._zod.def;
    if (['optional', 'default', 'prefault', 'nullable'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe') s = def.in;
    else return {};
  }
}

function descriptionFor(service, name, field) {
  const d = metaOf(field).description;
  if (!d) throw new Error(`no description for ${service ? `${service}: ` : ''}${name}: add .describe() in the schema`);
  return d;
}

/** What the reference says about a field beyond its type: a key required inline or as `_FILE`, a computed default. */
function extrasOf(field) {
  const meta = metaOf(field);
  return {
    ...(meta.required ? { required: true, requiredOrFile: true } : {}),
    ...(meta.defaultText ? { default: undefined, computedDefault: meta.defaultText } : {}),
    ...(meta.accepts ? { type: meta.accepts } : {}),
  };
}

/** Every variable of every service, from the schemas (`schemas` replaces the built ones, for the tests). */
function collect(schemas = loadSchemas()) {
  const { base, services, telemetry } = schemas;
  const baseShape = shapeOf(base);
  const common = Object.entries(baseShape).map(([name, field]) => ({
    name,
    ...describeField(field),
    ...extrasOf(field),
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
      ...extrasOf(field),
      // Shared fields keep the base's instance; an overridden one (PORT) belongs to the service.
      shared: baseShape[name] === field,
      description: descriptionFor(service, name, field),
    }));
  }
  const otel = Object.entries(shapeOf(telemetry)).map(([name, field]) => ({
    name,
    default: metaOf(field).defaultText,
    description: descriptionFor(null, name, field),
  }));
  return { common, services: perService, secrets: SECRETS, telemetry: otel };
}

const row = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;

function render(schemas) {
  const data = collect(schemas);
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
      const required = v.requiredOrFile ? `**required** (or \`${v.name}_FILE\`)` : '**required**';
      const dflt = v.computedDefault ?? (v.required ? required : formatDefault(v.default));
      out.push(row([`\`${v.name}\``, v.type, dflt, v.description]));
    }
    const secrets = data.secrets[service];
    if (secrets.length) {
      out.push('', 'Secrets named elsewhere (not in the schema):', '');
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
  for (const t of data.telemetry) out.push(row([`\`${t.name}\``, t.default, t.description]));
  out.push(
    '',
    'Other standard `OTEL_*` variables (headers, sampling) are honoured by the OpenTelemetry SDK as usual.',
    '',
  );
  return out.join('\n');
}

module.exports = { SERVICES, SECRETS, OUTPUT, collect, render };

function main() {
  if (!process.argv.includes('--json')) return runGenerator('config-docs', OUTPUT, render);
  try {
    process.stdout.write(`${JSON.stringify(collect(), null, 2)}\n`);
  } catch (e) {
    console.error(`config-docs: ${e.message}`);
    process.exit(1);
  }
}

if (require.main === module) void main();
