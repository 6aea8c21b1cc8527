#!/usr/bin/env node
// Policy engine benchmark: decisions/s of @countersign/policy on policies/default.yaml and on a
// generated 1,000-rule policy, against the same decisions made by Cedar (cedar-wasm).
// Build first (npx tsc -b libs/policy/tsconfig.json), then: node bench/policy/run.ts [--write-report]
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cedar, { type Context } from '@cedar-policy/cedar-wasm/nodejs';
import { jobHash } from '@countersign/crypto';
import * as policy from '@countersign/policy';

type Job = policy.HashablePolicyJob;
type Parsed = ReturnType<typeof policy.parsePolicy>;
type Compiled = ReturnType<typeof policy.compilePolicySet>;
interface Rate {
  median: number;
  min: number;
  max: number;
  iterations: number;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const RUNS = 5;
const RUN_MS = 400;
const WARM_MS = 400;
const POOL = 4096; // power of two: the job index is `i & (POOL - 1)`

/** Deterministic PRNG (mulberry32), so every run sees the same jobs and the same generated policy. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function someOf<T>(rand: () => number, list: readonly T[], p: number): T[] {
  return list.filter(() => rand() < p);
}

// Jobs for default.yaml: the topics and tags its rules talk about, plus some no rule matches.
function defaultJobs(): Job[] {
  const rand = prng(1);
  const topics = [
    'job.db.read',
    'job.repo.list',
    'job.config.get',
    'job.deploy.rollout',
    'job.db.update',
    'job.config.update',
    'job.payment.transfer',
    'job.ticket.update',
    'job.crm.contacts.export',
    'job.k8s.scale',
    'job.report.publish',
    'job.db.drop',
    'job.deploy.canary.rollout',
    'job.export',
  ];
  const tags = ['prod', 'write', 'payment', 'egress', 'internal', 'pii', 'destructive'];
  return Array.from({ length: POOL }, (_, i) => ({
    job_id: `job-${i}`,
    tenant: 'globex',
    agent_id: `agent-${i % 17}`,
    topic: pick(rand, topics),
    risk_tags: someOf(rand, tags, 0.25),
    payload: { n: i, target: 'svc' },
    requested_by: `user-${i % 23}@bench.example`,
  }));
}

const VERBS = ['read', 'list', 'get', 'write', 'update', 'delete', 'export', 'run', 'deploy', 'scale'];
const TAGS = ['prod', 'write', 'payment', 'egress', 'internal', 'pii', 'destructive', 'customer'];
const SERVICES = 200;

/** A 1,000-rule policy with every feature: * and ** globs, tags, agents, all four decisions. */
function generatedPolicyYaml(count: number): string {
  const rand = prng(2);
  const lines = ['version: v1', 'rules:'];
  for (let i = 0; i < count; i++) {
    const svc = `svc${Math.floor(rand() * SERVICES)}`;
    const verb = pick(rand, VERBS);
    const forms = [`job.${svc}.*`, `job.${svc}.${verb}`, `job.${svc}.**`, `job.*.${verb}`, `job.${svc}.**.${verb}`];
    const topics = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(rand, forms)))];
    const tags = someOf(rand, TAGS, 0.12).slice(0, 2);
    const r = rand();
    lines.push(
      `  - id: rule-${i}`,
      '    match:',
      `      topics: ${JSON.stringify(topics)}`,
      `      risk_tags: ${JSON.stringify(tags)}`,
    );
    if (rand() < 0.05) lines.push(`      agents: ["agent-${Math.floor(rand() * 5)}*"]`);
    if (r < 0.4) lines.push('    decision: allow');
    else if (r < 0.65) {
      const hosts = someOf(rand, ['a.example', 'b.example', 'c.example', 'd.example'], 0.6);
      lines.push(
        '    decision: allow_with_constraints',
        '    constraints:',
        `      max_runtime_sec: ${10 + Math.floor(rand() * 300)}`,
      );
      lines.push(`      network_allowlist: ${JSON.stringify(hosts)}`);
    } else if (r < 0.95) {
      lines.push(
        '    decision: require_approval',
        '    approval:',
        `      approvals_required: ${1 + Math.floor(rand() * 3)}`,
      );
    } else lines.push('    decision: deny');
  }
  return `${lines.join('\n')}\n`;
}

function generatedJobs(): Job[] {
  const rand = prng(3);
  return Array.from({ length: POOL }, (_, i) => {
    const svc = `svc${Math.floor(rand() * SERVICES)}`;
    const topic =
      rand() < 0.7
        ? `job.${svc}.${pick(rand, VERBS)}`
        : `job.${svc}.${pick(rand, ['eu', 'us', 'ap'])}.${pick(rand, VERBS)}`;
    return {
      job_id: `job-${i}`,
      tenant: 'globex',
      agent_id: `agent-${i % 60}`,
      topic,
      risk_tags: someOf(rand, TAGS, 0.2),
      payload: { n: i },
      requested_by: `user-${i % 23}@bench.example`,
    };
  });
}

// ---- Cedar: the same rules as permit policies over a context that spells out the topic's
// segments (s0.. from the front, r0.. from the back) so `*` and `**` keep their exact meaning.

const MAX_SEGS = 8;

function cedarString(s: string): string {
  return JSON.stringify(s);
}

function cedarTopicGlob(glob: string): string {
  const segs = glob.split('.');
  const star2 = segs.indexOf('**');
  if (segs.lastIndexOf('**') !== star2) throw new Error(`bench: cannot translate ${glob}`);
  const lit = (attr: string, seg: string): string | null =>
    seg === '*'
      ? null
      : seg.includes('*')
        ? `context.${attr} like ${cedarString(seg)}`
        : `context.${attr} == ${cedarString(seg)}`;
  const conds: (string | null)[] = [];
  if (star2 === -1) {
    conds.push(`context.n == ${segs.length}`);
    segs.forEach((seg, i) => conds.push(lit(`s${i}`, seg)));
  } else {
    const prefix = segs.slice(0, star2);
    const suffix = segs.slice(star2 + 1);
    conds.push(`context.n >= ${Math.max(1, prefix.length + suffix.length)}`);
    prefix.forEach((seg, i) => conds.push(lit(`s${i}`, seg)));
    suffix.reverse().forEach((seg, i) => conds.push(lit(`r${i}`, seg)));
  }
  return `(${conds.filter(Boolean).join(' && ')})`;
}

function cedarPolicies(parsed: Parsed): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rule of parsed.document.rules) {
    const conds: string[] = [];
    if (rule.match.topics) conds.push(`(${rule.match.topics.map(cedarTopicGlob).join(' || ')})`);
    if (rule.match.risk_tags.length > 0)
      conds.push(`context.tags.containsAll([${rule.match.risk_tags.map(cedarString).join(', ')}])`);
    if (rule.match.agents)
      conds.push(`(${rule.match.agents.map((g) => `context.agent like ${cedarString(g)}`).join(' || ')})`);
    if (rule.match.tenants)
      conds.push(`(${rule.match.tenants.map((g) => `context.tenant like ${cedarString(g)}`).join(' || ')})`);
    out[rule.id] = `permit(principal, action, resource)${conds.length ? ` when { ${conds.join(' && ')} }` : ''};`;
  }
  return out;
}

function cedarContext(job: Job): Context {
  const segs = job.topic.split('.');
  const ctx: Context = {
    topic: job.topic,
    n: segs.length,
    tags: [...job.risk_tags],
    agent: job.agent_id,
    tenant: job.tenant,
  };
  for (let i = 0; i < MAX_SEGS; i++) {
    ctx[`s${i}`] = segs[i] ?? '';
    ctx[`r${i}`] = segs[segs.length - 1 - i] ?? '';
  }
  return ctx;
}

/** Cedar answers which permits matched; the most-restrictive pick is ours, as in the engine. */
function cedarDecider(parsed: Parsed, setId: string): (job: Job) => { matched: string[]; rule: string } {
  const res = cedar.preparsePolicySet(setId, { staticPolicies: cedarPolicies(parsed) });
  if (res.type !== 'success') throw new Error(`cedar: ${JSON.stringify(res.errors)}`);
  const meta = new Map(
    parsed.document.rules.map((r, i) => [
      r.id,
      { i, strength: policy.ruleStrength(r.decision, r.approval), decision: r.decision },
    ]),
  );
  const action = { type: 'Action', id: 'propose' };
  return (job) => {
    const answer = cedar.statefulIsAuthorized({
      principal: { type: 'Agent', id: job.agent_id },
      action,
      resource: { type: 'Topic', id: job.topic },
      context: cedarContext(job),
      preparsedPolicySetId: setId,
      entities: [],
    });
    if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors)}`);
    const matched = answer.response.diagnostics.reason;
    let best: { i: number; strength: number } | null = null;
    for (const id of matched) {
      const m = meta.get(id);
      if (!m) continue;
      if (best === null || m.strength > best.strength || (m.strength === best.strength && m.i < best.i)) best = m;
    }
    return { matched, rule: best === null ? 'default' : (parsed.document.rules[best.i]?.id ?? 'default') };
  };
}

// ---- measurement

type Decider = (job: Job) => { matched_rules: readonly string[] };

function timeLoop(fn: Decider, jobs: readonly Job[], n: number): { ns: number; sink: number } {
  const mask = POOL - 1;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += fn(jobs[i & mask] as Job).matched_rules.length;
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, sink };
}

/** Median decisions/s of RUNS runs of ~RUN_MS each, after WARM_MS of warm-up (which also sizes the runs). */
function measure(fn: Decider, jobs: readonly Job[]): Rate {
  let n = 16;
  let rate = 0;
  const warmEnd = Date.now() + WARM_MS;
  while (Date.now() < warmEnd) {
    const { ns } = timeLoop(fn, jobs, n);
    rate = (n / ns) * 1e9;
    if (ns < 50e6) n *= 2;
  }
  const iterations = Math.max(20, Math.floor((rate * RUN_MS) / 1000));
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const { ns } = timeLoop(fn, jobs, iterations);
    rates.push((iterations / ns) * 1e9);
  }
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(RUNS / 2)] ?? NaN, min: rates[0] ?? NaN, max: rates[RUNS - 1] ?? NaN, iterations };
}

/** Cedar's cost for a call that decides nothing: one unconditional permit, empty context. */
function cedarFloor(jobs: readonly Job[]): Rate {
  const res = cedar.preparsePolicySet('bench-floor', { staticPolicies: { p: 'permit(principal, action, resource);' } });
  if (res.type !== 'success') throw new Error('cedar floor');
  const action = { type: 'Action', id: 'propose' };
  return measure((job) => {
    const answer = cedar.statefulIsAuthorized({
      principal: { type: 'Agent', id: job.agent_id },
      action,
      resource: { type: 'Topic', id: job.topic },
      context: {},
      preparsedPolicySetId: 'bench-floor',
      entities: [],
    });
    if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors)}`);
    return { matched_rules: answer.response.diagnostics.reason };
  }, jobs);
}

/** How many jobs Cedar and the engine decide alike (same deciding rule, same matched set). */
function checkAgreement(
  compiled: Compiled,
  cedarDecide: ReturnType<typeof cedarDecider>,
  jobs: readonly Job[],
): number {
  let agree = 0;
  for (const job of jobs) {
    const ours = policy.decideWithoutHash(job, compiled);
    const theirs = cedarDecide(job);
    const same =
      ours.policy_rule_id === theirs.rule &&
      [...ours.matched_rules].sort().join(',') === [...theirs.matched].sort().join(',');
    if (same) agree++;
    else if (agree === 0) process.stderr.write(`mismatch: ${JSON.stringify({ job, ours, theirs })}\n`);
  }
  return agree;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // Not Linux: keep os.cpus().
  }
  let nproc = String(cpus().length);
  try {
    nproc = execSync('nproc').toString().trim();
  } catch {
    // Keep os.cpus().length.
  }
  return { model, nproc, node: process.version, cedar: cedar.getCedarVersion() };
}

function main() {
  const started = Date.now();
  const defaultText = readFileSync(join(ROOT, 'policies/default.yaml'), 'utf8');
  const defaultParsed = policy.parsePolicy(defaultText, 'policies/default.yaml');
  const genText = generatedPolicyYaml(1000);
  const genParsed = policy.parsePolicy(genText, 'generated-1000.yaml');
  const sets = [
    { name: 'default.yaml', rules: defaultParsed.document.rules.length, parsed: defaultParsed, jobs: defaultJobs() },
    { name: 'generated', rules: genParsed.document.rules.length, parsed: genParsed, jobs: generatedJobs() },
  ];

  const rows = [];
  for (const s of sets) {
    const set = policy.createPolicySet(s.parsed);
    const memo = policy.compilePolicySet(set);
    const noMemo = policy.compilePolicySet(set, { topicCacheSize: 0 });
    const hashed = s.jobs.map((job) => ({ job, hash: jobHash(job) }));
    const cedarDecide = cedarDecider(s.parsed, `bench-${s.name}`);
    // Cedar takes milliseconds per call on 1,000 rules: check a sample there.
    const sample = s.rules > 100 ? s.jobs.slice(0, 256) : s.jobs;
    const agreement = checkAgreement(memo, cedarDecide, sample);

    const evalMemo = measure((j) => policy.decideWithoutHash(j, memo), s.jobs);
    const evalNoMemo = measure((j) => policy.decideWithoutHash(j, noMemo), s.jobs);
    const mask = POOL - 1;
    let k = 0;
    const withGivenHash = measure(() => {
      const h = hashed[k++ & mask] as (typeof hashed)[number];
      return policy.decide(h.job, memo, { jobHash: h.hash });
    }, s.jobs);
    const withHash = measure((j) => policy.decide(j, memo), s.jobs);
    const cedarRate = measure((j) => ({ matched_rules: cedarDecide(j).matched }), s.jobs);
    rows.push({ ...s, agreement, checked: sample.length, evalMemo, evalNoMemo, withGivenHash, withHash, cedarRate });
  }

  const m = machine();
  const date = new Date().toISOString().slice(0, 10);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const table = [
    '| policy | rules | measurement | decisions/s (median of 5) | min..max | vs Cedar |',
    '|---|---:|---|---:|---|---:|',
  ];
  for (const r of rows) {
    const line = (label: string, x: Rate, ratio = true): string =>
      `| ${r.name} | ${r.rules} | ${label} | ${fmt(x.median)} | ${fmt(x.min)}..${fmt(x.max)} | ${ratio ? `${(x.median / r.cedarRate.median).toFixed(1)}x` : '1x'} |`;
    table.push(line('`decideWithoutHash` (rule evaluation, topic memo on)', r.evalMemo));
    table.push(line('`decideWithoutHash`, topic memo off (every glob tested)', r.evalNoMemo));
    table.push(line('`decide` with precomputed `jobHash`', r.withGivenHash));
    table.push(line('`decide` (hashes the job: JCS + SHA-256)', r.withHash));
    table.push(line('Cedar `statefulIsAuthorized` (preparsed) + most-restrictive pick', r.cedarRate, false));
  }
  const first = rows[0];
  if (!first) throw new Error('no policy measured');
  const floor = cedarFloor(first.jobs);
  const agreement = rows.map((r) => `${r.name}: ${r.agreement}/${r.checked}`).join(', ');
  const out = [
    `Machine: ${m.model}, nproc ${m.nproc}; Node ${m.node}; cedar-wasm ${m.cedar}; ${date}; bench took ${seconds} s.`,
    '',
    ...table,
    '',
    `Cedar floor (one unconditional permit, empty context; no decision work): ${fmt(floor.median)} calls/s.`,
    '',
    `Cedar and the engine agree on the deciding rule and the matched set: ${agreement} jobs checked.`,
  ].join('\n');
  process.stdout.write(`${out}\n`);

  const target = first.evalMemo.median;
  const ratio = target / first.cedarRate.median;
  process.stdout.write(
    `\ntarget >= 1,000,000 decisions/s on default.yaml: ${target >= 1e6 ? 'met' : 'NOT met'} (${fmt(target)})\n`,
  );
  process.stdout.write(
    `target >= 5x Cedar on default.yaml: ${ratio >= 5 ? 'met' : 'NOT met'} (${ratio.toFixed(1)}x)\n`,
  );

  if (process.argv.includes('--write-report')) {
    const reportPath = join(ROOT, 'bench/reports/policy.md');
    mkdirSync(dirname(reportPath), { recursive: true });
    const template = readFileSync(join(ROOT, 'bench/policy/report.template.md'), 'utf8');
    // Keep the service section bench/policy-service writes into the same file.
    let service = '';
    try {
      service =
        /<!-- policy-service:start -->[\s\S]*<!-- policy-service:end -->\n?/.exec(
          readFileSync(reportPath, 'utf8'),
        )?.[0] ?? '';
    } catch {
      // no report yet
    }
    const report = template.replace('{{RESULTS}}', out);
    writeFileSync(reportPath, service ? `${report.trimEnd()}\n\n${service}` : report);
    process.stdout.write(`wrote ${reportPath}\n`);
  }
  if (rows.some((r) => r.agreement !== r.checked)) process.exitCode = 1;
}

main();
