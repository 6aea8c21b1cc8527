import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { canonicalJson, publicKeyFromPem, sha256Hex, verifyEvent } from '@countersign/crypto';
import type { Command } from 'commander';
import { CliError, ExitCode, processIo, type CliContext } from '../cli-context';
import { exitCodeForApiError } from '../exit-codes';
import { baseUrl, bearerToken } from './service-api';

const DEFAULT_URL = 'http://localhost:8084';

interface CommonOpts {
  url: string;
}

type Json = Record<string, unknown>;

function token(): string {
  return bearerToken('a bearer token with the auditor role');
}

/** GETs an audit API path; any failure becomes one readable line. */
async function get(opts: CommonOpts, path: string, query: Record<string, string | undefined> = {}): Promise<Response> {
  const url = new URL(path, baseUrl(opts.url));
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token()}`, accept: 'application/json, application/x-ndjson' },
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      ExitCode.Usage,
      `cannot reach the audit service at ${url.origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
    );
  }
  if (!res.ok) {
    let detail = res.statusText;
    let code: string | undefined;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (body.error) detail = `${body.error.code ?? ''}: ${body.error.message ?? ''}`;
      code = body.error?.code;
    } catch {
      // not our JSON error: the status says enough
    }
    // Exit 1 means "the chain is broken" here, so a refusal exits 2 like a usage error.
    throw new CliError(exitCodeForApiError(code, res.status, ExitCode.Usage), `${res.status} ${detail}`);
  }
  return res;
}

async function json(opts: CommonOpts, path: string, query?: Record<string, string | undefined>): Promise<Json> {
  const res = await get(opts, path, query);
  try {
    return (await res.json()) as Json;
  } catch {
    throw new CliError(ExitCode.Usage, `${path}: the answer is not JSON`);
  }
}

function seqOption(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v)) throw new CliError(ExitCode.Usage, `${name} ${v}: a positive integer`);
  return v;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(ExitCode.Usage, `${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function trustedKeys(path: string): KeyObject[] {
  const pems = readText(path, '--trust-key').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (pems.length === 0) throw new CliError(ExitCode.Usage, `--trust-key ${path}: no PEM public key in it`);
  try {
    return pems.map(publicKeyFromPem);
  } catch (e) {
    throw new CliError(ExitCode.Usage, `--trust-key ${path}: ${(e as Error).message}`);
  }
}

type Finding = { seq: number; reason: string; detail: string };

/** The hashed fields by record format (docs/audit.md); a field outside the list is not hashed. */
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
const HASHED_FIELDS: Record<number, readonly string[]> = {
  1: V1_FIELDS,
  2: [...V1_FIELDS, 'format', 'kind', 'digest', 'signature', 'signature_reason', 'redaction', 'conflict'],
};

function hashOf(record: Json): string | null {
  const fields = HASHED_FIELDS[record['format'] === undefined ? 1 : Number(record['format'])];
  if (!fields) return null;
  const hashed: Json = {};
  for (const f of fields) if (f in record) hashed[f] = record[f];
  return sha256Hex(canonicalJson(hashed));
}

/**
 * Verifies a compliance copy on its own, with no server: an NDJSON file of `audit.recorded` events
 * (or of bare records, which prove integrity but not who wrote them). Each record must hash to its
 * record_hash and link to the one before from seq 1; with trusted keys, every audit signature
 * present must verify and the last record must carry one (it commits to all before it).
 */
export function verifyCopy(
  lines: readonly string[],
  keys: readonly KeyObject[] | undefined,
): { ok: true; checked: number; last_seq: number; signatures: string } | ({ ok: false } & Finding) {
  const bySeq = new Map<number, { record: Json; event: Json | null }>();
  const findings: Finding[] = [];
  let signed = 0;
  let lastSigned = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: Json;
    try {
      v = JSON.parse(line) as Json;
    } catch (e) {
      findings.push({ seq: 0, reason: 'UNREADABLE', detail: `line ${i + 1}: ${(e as Error).message}` });
      return;
    }
    const isEvent = v['type'] === 'audit.recorded' && typeof v['data'] === 'object' && v['data'] !== null;
    const record = (isEvent ? v['data'] : v) as Json;
    const seq = Number(record['seq']);
    if (keys && isEvent && v['signature'] !== undefined) {
      const r = verifyEvent(v, keys);
      if (!r.ok) findings.push({ seq, reason: 'BAD_SIGNATURE', detail: r.reason });
      else {
        signed += 1;
        lastSigned = Math.max(lastSigned, seq);
      }
    }
    const prior = bySeq.get(seq);
    if (prior && prior.record['record_hash'] !== record['record_hash'])
      findings.push({ seq, reason: 'FORK', detail: `two different records claim seq ${seq}` });
    if (!prior) bySeq.set(seq, { record, event: isEvent ? v : null });
  });
  let prev = '0'.repeat(64);
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  for (const [i, seq] of seqs.entries()) {
    const { record } = bySeq.get(seq)!;
    if (seq !== i + 1) {
      findings.push({ seq: i + 1, reason: 'GAP', detail: `seq ${i + 1} is missing` });
      break;
    }
    const hash = record['record_hash'];
    if (hashOf(record) !== hash) {
      findings.push({ seq, reason: 'HASH_MISMATCH', detail: 'record_hash does not match the record' });
      break;
    }
    if (record['prev_hash'] !== prev) {
      findings.push({ seq, reason: 'PREV_HASH_MISMATCH', detail: `prev_hash does not equal record ${seq - 1}'s hash` });
      break;
    }
    prev = String(hash);
  }
  const last = seqs.length;
  if (keys && last > 0 && lastSigned !== last)
    findings.push({
      seq: last,
      reason: 'UNSIGNED_HEAD',
      detail: 'the last record carries no valid audit signature, so nothing proves audit wrote the chain',
    });
  const first = findings.sort((a, b) => a.seq - b.seq)[0];
  if (first) return { ok: false, ...first };
  return { ok: true, checked: last, last_seq: last, signatures: keys ? `${signed} verified` : 'not checked' };
}

async function verifyAction(
  ctx: CliContext,
  opts: CommonOpts & { fromSeq?: string; toSeq?: string; file?: string; trustKey?: string },
): Promise<void> {
  if (opts.file) {
    const keys = opts.trustKey ? trustedKeys(opts.trustKey) : undefined;
    const r = verifyCopy(readText(opts.file, '--file').split('\n'), keys);
    if (r.ok) {
      ctx.io.stdout(`ok: ${r.checked} records verified (last seq ${r.last_seq}); signatures ${r.signatures}\n`);
      ctx.exitCode = ExitCode.Ok;
    } else {
      ctx.io.stdout(`broken at seq ${r.seq}: ${r.reason} (${r.detail})\n`);
      ctx.exitCode = ExitCode.Findings;
    }
    return;
  }
  if (opts.trustKey) throw new CliError(ExitCode.Usage, '--trust-key checks a copy: give it with --file');
  const r = await json(opts, '/api/v1/audit/verify', {
    from_seq: seqOption('--from-seq', opts.fromSeq),
    to_seq: seqOption('--to-seq', opts.toSeq),
  });
  if (r['ok'] === true) {
    ctx.io.stdout(`ok: ${String(r['checked'])} records verified (last seq ${String(r['last_seq'])})\n`);
    ctx.exitCode = ExitCode.Ok;
  } else {
    ctx.io.stdout(`broken at seq ${String(r['broken_seq'])}: ${String(r['reason'])} (${String(r['detail'])})\n`);
    ctx.exitCode = ExitCode.Findings;
  }
}

async function exportAction(
  ctx: CliContext,
  opts: CommonOpts & { from?: string; to?: string; job?: string; tenant?: string; type?: string; out?: string },
): Promise<void> {
  const res = await get(opts, '/api/v1/audit/export', {
    from: opts.from,
    to: opts.to,
    job_id: opts.job,
    tenant: opts.tenant,
    type: opts.type,
  });
  if (!res.body) return;
  const file = opts.out ? createWriteStream(opts.out) : undefined;
  const decoder = new TextDecoder();
  let lines = 0;
  try {
    for await (const chunk of res.body) {
      const bytes = chunk as Uint8Array;
      for (const b of bytes) if (b === 0x0a) lines += 1;
      if (file) {
        if (!file.write(bytes)) await once(file, 'drain');
      } else {
        ctx.io.stdout(decoder.decode(bytes, { stream: true }));
      }
    }
  } catch (e) {
    throw new CliError(ExitCode.Findings, `export interrupted after ${lines} records: ${(e as Error).message}`);
  } finally {
    if (file) {
      file.end();
      await once(file, 'close');
    }
  }
  if (file) ctx.io.stderr(`${lines} records written to ${opts.out}\n`);
}

const s = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function describeStep(step: Json): string {
  switch (step['kind']) {
    case 'proposed': {
      const summary = step['summary'] as { title?: string } | null;
      return `proposed by ${s(step['agent_id'])} for ${s(step['requested_by'])}: ${s(step['topic'])}${summary?.title ? ` "${summary.title}"` : ''}`;
    }
    case 'decided':
      return `decided ${s(step['decision'])} by rule ${s(step['policy_rule_id'])} (${s(step['policy_reason'])}); policy ${s(step['policy_snapshot'])}`;
    case 'escalated':
      return `escalated to ${s(step['escalation_roles'])}, due ${s(step['due_at'])}`;
    case 'resolved': {
      const approvals = (Array.isArray(step['approvals']) ? step['approvals'] : []) as Json[];
      const who = approvals.map(
        (a) => `${s(a['actor'])} (${s(a['role'])}) ${s(a['action'])}${a['reason'] ? ` "${s(a['reason'])}"` : ''}`,
      );
      return `resolved ${s(step['resolution'])}${who.length ? `: ${who.join('; ')}` : ''}`;
    }
    case 'released':
      return `released (expires ${s(step['expires_at'])})`;
    case 'blocked':
      return `blocked ${s(step['reason_code'])}: ${s(step['detail'])}${step['report_only'] === true ? ' (reported after the outcome, which stands)' : ''}`;
    case 'executed':
      return `executed ${s(step['status'])} via ${s(step['executor'])}${step['error'] ? `: ${s(step['error'])}` : ''}`;
    case 'rejected_input':
      return `rejected input on ${s(step['rejected_topic'])} by ${s(step['consumer'])}: ${s(step['error'])}`;
    default:
      return s(step['event_type'] ?? step['kind']);
  }
}

/** What audit found about a step, when it is not the ordinary: a bad signature, a conflicting body. */
function findings(step: Json): string {
  const out: string[] = [];
  if (step['signature'] === 'invalid') out.push(`SIGNATURE INVALID: ${s(step['signature_reason'])}`);
  const conflict = step['conflict'] as { first_seq?: number } | null | undefined;
  if (conflict) out.push(`CONFLICT: another body under the event id of #${s(conflict.first_seq)}`);
  return out.length ? `  [${out.join('; ')}]` : '';
}

async function timelineAction(ctx: CliContext, jobId: string, opts: CommonOpts & { json?: boolean }): Promise<void> {
  const t = await json(opts, `/api/v1/jobs/${encodeURIComponent(jobId)}/timeline`);
  if (opts.json) {
    ctx.io.stdout(`${JSON.stringify(t, null, 2)}\n`);
    return;
  }
  const out = [`job ${s(t['job_id'])} (tenant ${s(t['tenant']) || '-'}): ${s(t['outcome'])}`];
  for (const step of (t['steps'] ?? []) as Json[]) {
    out.push(
      `  #${s(step['seq'])}  ${s(step['at'] ?? step['recorded_at']) || s(step['recorded_at'])}  ${describeStep(step)}${findings(step)}`,
    );
  }
  if (t['policy_url']) out.push(`policy text: ${new URL(s(t['policy_url']), baseUrl(opts.url)).toString()}`);
  ctx.io.stdout(`${out.join('\n')}\n`);
}

/** `countersign audit verify|export|timeline JOB_ID`, against the audit service's REST API. */
export function register(program: Command, ctx: CliContext = { io: processIo, exitCode: ExitCode.Ok }): void {
  const audit = program
    .command('audit')
    .description('query and verify the audit trail (token from COUNTERSIGN_TOKEN, role auditor)');
  const sub = (name: string) => audit.command(name).option('--url <url>', 'audit service base URL', DEFAULT_URL);

  sub('verify')
    .description(
      'recompute the hash chain on the server, or (--file) of a copy of audit.recorded with no server; exit 1 and the first broken seq if it does not verify',
    )
    .option('--from-seq <n>', 'first seq to check')
    .option('--to-seq <n>', 'last seq to check')
    .option('--file <ndjson>', 'verify this copy (audit.recorded events or exported records, one per line) offline')
    .option(
      '--trust-key <pem>',
      "with --file: audit's public key; every signature must verify and the last record be signed",
    )
    .action((opts: CommonOpts & { fromSeq?: string; toSeq?: string; file?: string; trustKey?: string }) =>
      verifyAction(ctx, opts),
    );

  sub('export')
    .description('stream audit records as NDJSON (stdout, or --out FILE)')
    .option('--from <time>', 'recorded at or after (ISO-8601)')
    .option('--to <time>', 'recorded before (ISO-8601)')
    .option('--job <job_id>', 'only this job')
    .option('--tenant <tenant>', 'only this tenant')
    .option('--type <event_type>', 'only this event type')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(
      (opts: CommonOpts & { from?: string; to?: string; job?: string; tenant?: string; type?: string; out?: string }) =>
        exportAction(ctx, opts),
    );

  sub('timeline')
    .description("print a job's story: proposal, decision and policy, approvals, outcome")
    .argument('<job_id>', 'the job')
    .option('--json', 'print the timeline as JSON')
    .action((jobId: string, opts: CommonOpts & { json?: boolean }) => timelineAction(ctx, jobId, opts));
}
