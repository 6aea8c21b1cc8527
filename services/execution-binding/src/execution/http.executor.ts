import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '@countersign/crypto';
import type { AttemptOutcome } from './core/attempt-outcome';
import type { ExecutionRequest } from './execution.entity';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<job_id>.<body>">` (the Stripe/Slack webhook scheme). */
export const SIGNATURE_HEADER = 'Countersign-Signature';
/** How old a signed call a receiver should still accept (docs/execution-binding.md). */
export const SIGNATURE_TOLERANCE_SEC = 300;
const MAX_RESULT_CHARS = 16_384;
/** Errors raised before a request could leave the machine: nothing can have happened. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** What is signed: the time, the job and the body, so a captured call cannot be replayed later or for another job. */
export function signedContent(timestamp: number, jobId: string, body: string): string {
  return `${timestamp}.${jobId}.${body}`;
}

/** The `Countersign-Signature` value for one attempt at `nowMs`. */
export function signHttpCall(secret: string, jobId: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret)
    .update(signedContent(t, jobId, body), 'utf8')
    .digest('hex')}`;
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does (the reference for the docs' snippet and the tests' receivers): parse the
 * header, refuse a timestamp outside the tolerance either way, recompute and compare in constant time.
 */
export function verifyHttpCallSignature(
  header: string | undefined,
  secret: string,
  jobId: string,
  body: string,
  nowMs: number,
  toleranceSec: number = SIGNATURE_TOLERANCE_SEC,
): SignatureCheck {
  const parts = new Map<string, string[]>();
  for (const item of (header ?? '').split(',')) {
    const i = item.indexOf('=');
    if (i > 0)
      parts.set(item.slice(0, i).trim(), [...(parts.get(item.slice(0, i).trim()) ?? []), item.slice(i + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  const v1 = parts.get('v1') ?? [];
  if (!Number.isSafeInteger(t) || v1.length === 0)
    return { ok: false, reason: 'no t= and v1= in the signature header' };
  if (Math.abs(Math.floor(nowMs / 1000) - t) > toleranceSec)
    return { ok: false, reason: 'timestamp outside the tolerance' };
  const expected = Buffer.from(
    createHmac('sha256', secret)
      .update(signedContent(t, jobId, body), 'utf8')
      .digest('hex'),
  );
  const match = v1.some((sig) => {
    const got = Buffer.from(sig);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'signature does not match' };
}

/**
 * The body POSTed to an http executor: the approved payload with the identity it was approved
 * under, as canonical JSON, so every retry sends the same bytes (each attempt is signed afresh).
 */
export function httpExecutorBody(req: ExecutionRequest): string {
  return canonicalJson({
    job_id: req.job_id,
    tenant: req.tenant,
    agent_id: req.agent_id,
    topic: req.topic,
    risk_tags: req.risk_tags,
    requested_by: req.requested_by,
    job_hash: req.job_hash,
    policy_snapshot: req.policy_snapshot,
    constraints: req.constraints,
    payload: req.payload,
  });
}

export interface HttpCall {
  url: string;
  secret: string;
  timeoutMs: number;
  request: ExecutionRequest;
  /** The signing time (ms); the wall clock unless a test fixes it. */
  now?: () => number;
}

/**
 * One POST, bounded by the timeout (`max_runtime_sec`). Redirects are not followed: they could lead
 * outside the network allowlist. Any HTTP answer is the target's own verdict; only 408, 425, 429 and
 * 5xx are worth retrying, and only for idempotent executors (the caller decides).
 */
export async function callHttpExecutor(call: HttpCall, fetchImpl: typeof fetch = fetch): Promise<AttemptOutcome> {
  const body = httpExecutorBody(call.request);
  const signal = AbortSignal.timeout(call.timeoutMs);
  let res: Response;
  try {
    res = await fetchImpl(call.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': call.request.job_id,
        [SIGNATURE_HEADER]: signHttpCall(call.secret, call.request.job_id, body, (call.now ?? Date.now)()),
        'x-countersign-job-id': call.request.job_id,
        'x-countersign-job-hash': call.request.job_hash,
      },
    });
  } catch (e) {
    return fetchFailure(e, call.timeoutMs);
  }
  let text: string | null = null;
  try {
    text = await res.text();
  } catch {
    text = null;
  }
  if (res.status >= 200 && res.status < 300)
    return { kind: 'succeeded', result: { http_status: res.status, body: parseBody(text) } };
  const snippet = text ? `: ${text.slice(0, 300)}` : '';
  if (res.status >= 300 && res.status < 400) {
    return {
      kind: 'failed',
      retryable: false,
      error: `HTTP ${res.status}: redirects are not followed (${res.headers.get('location') ?? 'no location'})`,
    };
  }
  const retryable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
  return { kind: 'failed', retryable, error: `HTTP ${res.status}${snippet}` };
}

function parseBody(text: string | null): unknown {
  if (text === null || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, MAX_RESULT_CHARS);
  }
}

function errorCodes(e: unknown): string[] {
  const codes: string[] = [];
  const visit = (x: unknown, depth: number) => {
    if (!x || typeof x !== 'object' || depth > 4) return;
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    visit((x as { cause?: unknown }).cause, depth + 1);
    const errors = (x as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
  };
  visit(e, 0);
  return codes;
}

function fetchFailure(e: unknown, timeoutMs: number): AttemptOutcome {
  const err = e as Error;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return {
      kind: 'indeterminate',
      error: `no answer within ${timeoutMs} ms (max runtime); the call may have had its effect`,
    };
  }
  const codes = errorCodes(e);
  if (codes.length > 0 && codes.every((c) => NOT_SENT.has(c))) {
    return { kind: 'failed', retryable: true, error: `could not connect (${[...new Set(codes)].join(', ')})` };
  }
  return { kind: 'indeterminate', error: `call interrupted: ${[err?.message, ...codes].filter(Boolean).join(' ')}` };
}
