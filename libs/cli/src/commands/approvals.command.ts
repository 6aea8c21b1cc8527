import type { Command } from 'commander';
import { CliError, ExitCode, type CliContext } from '../cli-context';
import { exitCodeForApiError } from '../exit-codes';
import { baseUrl, bearerToken } from './service-api';

const DEFAULT_URL = 'http://localhost:8081';

type Json = Record<string, unknown>;

interface CommonOpts {
  url: string;
  json?: boolean;
}

function token(): string {
  return bearerToken(
    'an approver token (e.g. export COUNTERSIGN_TOKEN=$(countersign token --sub you --roles service-owner))',
  );
}

/**
 * One call to the approval queue. A refusal by the service (403, 409, ...) exits 1 with its code and
 * message on one line; bad usage or an unreachable service exits 2. Never a stack trace.
 */
async function call(
  opts: CommonOpts,
  method: 'GET' | 'POST',
  path: string,
  query: Record<string, string | undefined> = {},
  body?: Json,
): Promise<Json> {
  const url = new URL(path, baseUrl(opts.url));
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${token()}`, accept: 'application/json' };
  if (body) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      ExitCode.Usage,
      `cannot reach the approval queue at ${url.origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
    );
  }
  let parsed: Json | undefined;
  try {
    parsed = (await res.json()) as Json;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = parsed?.['error'] as
      { code?: string; message?: string; resolution?: { resolution?: string; resolved_by?: string } } | undefined;
    const already = err?.resolution?.resolution
      ? ` (${err.resolution.resolution} by ${err.resolution.resolved_by ?? '?'})`
      : '';
    const detail = err ? `${err.code ?? 'ERROR'}: ${err.message ?? ''}${already}` : res.statusText;
    throw new CliError(exitCodeForApiError(err?.code, res.status), `${res.status} ${detail}`);
  }
  if (!parsed) throw new CliError(ExitCode.Findings, `${path}: the answer is not JSON`);
  return parsed;
}

const s = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function limitOption(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v) || Number(v) > 200)
    throw new CliError(ExitCode.Usage, `--limit ${v}: an integer from 1 to 200`);
  return v;
}

interface ListOpts extends CommonOpts {
  includeResolved?: boolean;
  tenant?: string;
  topic?: string;
  riskTag?: string;
  role?: string;
  rule?: string;
  limit?: string;
  cursor?: string;
}

async function listAction(ctx: CliContext, opts: ListOpts): Promise<void> {
  const page = await call(opts, 'GET', '/api/v1/approvals', {
    include_resolved: opts.includeResolved ? 'true' : undefined,
    tenant: opts.tenant,
    topic: opts.topic,
    risk_tag: opts.riskTag,
    role: opts.role,
    rule_id: opts.rule,
    limit: limitOption(opts.limit),
    cursor: opts.cursor,
  });
  if (opts.json) {
    ctx.io.stdout(`${JSON.stringify(page, null, 2)}\n`);
    return;
  }
  const items = (page['items'] ?? []) as Json[];
  if (items.length === 0) {
    ctx.io.stdout('no approvals waiting for you\n');
    return;
  }
  const rows = [['JOB', 'STATE', 'APPROVALS', 'DUE', 'TENANT', 'RULE', 'REQUESTED BY', 'TITLE']];
  for (const it of items) {
    const job = it['job'] as { id?: string; state?: string } | undefined;
    const approvals = Array.isArray(it['approvals'])
      ? (it['approvals'] as Json[]).filter((a) => a['action'] === 'approve').length
      : 0;
    const summary = it['decision_summary'] as { title?: string } | undefined;
    rows.push([
      s(job?.id),
      s(job?.state),
      `${approvals}/${s(it['approvals_required'])}`,
      s(it['due_at']),
      s(it['tenant']),
      s(it['policy_rule_id']),
      it['proposal_received'] === false ? '(proposal pending)' : s(it['requested_by']),
      s(summary?.title),
    ]);
  }
  ctx.io.stdout(`${table(rows)}\n`);
  if (page['next_cursor']) ctx.io.stdout(`more: --cursor ${s(page['next_cursor'])}\n`);
}

async function reviewAction(
  ctx: CliContext,
  action: 'approve' | 'reject',
  jobId: string,
  opts: CommonOpts & { reason?: string; note?: string },
): Promise<void> {
  if (action === 'reject' && !opts.reason?.trim()) throw new CliError(ExitCode.Usage, 'reject needs --reason "why"');
  const body: Json = {};
  if (opts.reason !== undefined) body['reason'] = opts.reason;
  if (opts.note !== undefined) body['note'] = opts.note;
  const r = await call(opts, 'POST', `/api/v1/approvals/${encodeURIComponent(jobId)}/${action}`, {}, body);
  if (opts.json) {
    ctx.io.stdout(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const job = r['job'] as { id?: string; state?: string } | undefined;
  const act = r['action'] as { role?: string } | undefined;
  const approvals = Array.isArray(r['approvals'])
    ? (r['approvals'] as Json[]).filter((a) => a['action'] === 'approve').length
    : 0;
  const verb = action === 'approve' ? 'approved' : 'rejected';
  const state = r['resolution']
    ? `resolved ${s(r['resolution'])}`
    : `pending, ${approvals} of ${s(r['approvals_required'])} approvals`;
  ctx.io.stdout(`${verb} ${s(job?.id)} as ${s(act?.role)}: ${state}\n`);
}

async function decisionsAction(ctx: CliContext, jobId: string, opts: CommonOpts): Promise<void> {
  const r = await call(opts, 'GET', `/api/v1/jobs/${encodeURIComponent(jobId)}/decisions`);
  if (opts.json) {
    ctx.io.stdout(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const d = (r['decision'] ?? {}) as Json;
  const out = [
    `job ${s(r['job_id'])} (tenant ${s(r['tenant'])}): ${s(r['state'])}`,
    `  decision ${s(d['decision'])} by rule ${s(d['policy_rule_id'])}: ${s(d['policy_reason'])}`,
  ];
  for (const a of (r['approvals'] ?? []) as Json[]) {
    out.push(
      `  ${s(a['at'])}  ${s(a['actor'])} (${s(a['role'])}) ${s(a['action'])}${a['reason'] ? `: ${s(a['reason'])}` : ''}`,
    );
  }
  const res = r['resolution'] as Json | null;
  if (res) out.push(`  resolved ${s(res['resolution'])} by ${s(res['resolved_by'])} at ${s(res['resolved_at'])}`);
  ctx.io.stdout(`${out.join('\n')}\n`);
}

/**
 * `countersign approvals list|approve JOB_ID|reject JOB_ID --reason ..|decisions JOB_ID` against the
 * approval queue REST API (`--url`, default http://localhost:8081), as the approver COUNTERSIGN_TOKEN names.
 */
export function register(program: Command, ctx: CliContext): void {
  const approvals = program.command('approvals').description('work the approval queue (token from COUNTERSIGN_TOKEN)');
  const common = (c: Command) =>
    c.option('--url <url>', 'approval queue base URL', DEFAULT_URL).option('--json', 'print the API answer as JSON');

  common(
    approvals
      .command('list')
      .description('approvals waiting for you, soonest due first')
      .option('--include-resolved', 'also list resolved approvals')
      .option('--tenant <tenant>', 'only this tenant')
      .option('--topic <topic>', 'only this action topic')
      .option('--risk-tag <tag>', 'only jobs with this risk tag')
      .option('--role <role>', 'only approvals this role may give')
      .option('--rule <rule_id>', 'only approvals required by this policy rule')
      .option('--limit <n>', 'page size (1-200, default 50)')
      .option('--cursor <cursor>', 'the next page, as printed by the previous one'),
  ).action((opts: ListOpts) => listAction(ctx, opts));

  common(
    approvals
      .command('approve')
      .description('approve a job (you may not approve your own request)')
      .argument('<job_id>')
      .option('--reason <text>', 'why (at most 512 bytes)')
      .option('--note <text>', 'anything else for the record (at most 512 bytes)'),
  ).action((jobId: string, opts: CommonOpts & { reason?: string; note?: string }) =>
    reviewAction(ctx, 'approve', jobId, opts),
  );

  common(
    approvals
      .command('reject')
      .description('reject a job; one rejection ends it')
      .argument('<job_id>')
      .requiredOption('--reason <text>', 'why (required, at most 512 bytes)')
      .option('--note <text>', 'anything else for the record (at most 512 bytes)'),
  ).action((jobId: string, opts: CommonOpts & { reason?: string; note?: string }) =>
    reviewAction(ctx, 'reject', jobId, opts),
  );

  common(
    approvals
      .command('decisions')
      .description("a job's policy decision and every approval action")
      .argument('<job_id>'),
  ).action((jobId: string, opts: CommonOpts) => decisionsAction(ctx, jobId, opts));
}
