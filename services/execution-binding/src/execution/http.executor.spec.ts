import { createHmac } from 'node:crypto';
import {
  callHttpExecutor,
  httpExecutorBody,
  SIGNATURE_HEADER,
  signHttpCall,
  verifyHttpCallSignature,
} from './http.executor';
import type { ExecutionRequest } from './execution.entity';

const request: ExecutionRequest = {
  job_id: 'job-1',
  tenant: 'acme',
  agent_id: 'bot',
  topic: 'job.config.update',
  risk_tags: ['prod'],
  payload: { key: 'x', value: true },
  requested_by: 'alice',
  job_hash: 'a'.repeat(64),
  policy_snapshot: `cfg:system:policy#sha256:${'b'.repeat(64)}`,
  constraints: {},
};
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const call = {
  url: 'http://target.test/hook',
  secret: 'secret-0123456789abcdef',
  timeoutMs: 1000,
  request,
  now: () => NOW,
};

function fakeFetch(answer: () => Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { fn, calls };
}

describe('HTTP executor signatures (t=, v1= over timestamp.job_id.body)', () => {
  const secret = 'secret-0123456789abcdef';
  const body = '{"a":1}';
  const header = signHttpCall(secret, 'job-1', body, NOW);

  it('verifies within the tolerance either way, and not past it', () => {
    expect(verifyHttpCallSignature(header, secret, 'job-1', body, NOW + 300_000).ok).toBe(true);
    expect(verifyHttpCallSignature(header, secret, 'job-1', body, NOW - 300_000).ok).toBe(true);
    expect(verifyHttpCallSignature(header, secret, 'job-1', body, NOW + 301_000)).toEqual({
      ok: false,
      reason: 'timestamp outside the tolerance',
    });
    expect(verifyHttpCallSignature(header, secret, 'job-1', body, NOW - 301_000).ok).toBe(false);
  });

  it('refuses the same body replayed for another job, a changed body or timestamp, another secret', () => {
    const t = NOW / 1000;
    const v1 = header.split(',v1=')[1]!;
    expect(verifyHttpCallSignature(header, secret, 'job-2', body, NOW)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifyHttpCallSignature(header, secret, 'job-1', '{"a":2}', NOW).ok).toBe(false);
    expect(verifyHttpCallSignature(`t=${t + 1},v1=${v1}`, secret, 'job-1', body, NOW).ok).toBe(false);
    expect(verifyHttpCallSignature(header, 'another-secret-0123456789', 'job-1', body, NOW).ok).toBe(false);
  });

  it.each([[undefined], [''], ['sha256=abc'], ['t=x,v1=ab'], ['t=1'], ['v1=ab'], [`t=${NOW / 1000},v1=`]])(
    'refuses a malformed header %p',
    (h) => {
      expect(verifyHttpCallSignature(h, secret, 'job-1', body, NOW).ok).toBe(false);
    },
  );

  it('signs each attempt at its own time', () => {
    expect(signHttpCall(secret, 'job-1', body, NOW + 60_000)).not.toBe(header);
    expect(signHttpCall(secret, 'job-1', body, NOW + 999)).toBe(header);
  });
});

describe('callHttpExecutor', () => {
  it('POSTs the canonical body, signed over time, job id and body, with the job id as idempotency key, not following redirects', async () => {
    const sut = fakeFetch(
      async () => new Response('{"done":true}', { status: 200, headers: { 'content-type': 'application/json' } }),
    );
    const outcome = await callHttpExecutor(call, sut.fn);
    expect(outcome).toEqual({ kind: 'succeeded', result: { http_status: 200, body: { done: true } } });
    const init = sut.calls[0]!.init;
    const headers = init.headers as Record<string, string>;
    const body = String(init.body);
    expect(body).toBe(httpExecutorBody(request));
    expect(JSON.parse(body)).toMatchObject({
      job_id: 'job-1',
      payload: { key: 'x', value: true },
      job_hash: 'a'.repeat(64),
    });
    const t = NOW / 1000;
    const mac = createHmac('sha256', call.secret).update(`${t}.job-1.${body}`).digest('hex');
    expect(headers[SIGNATURE_HEADER]).toBe(`t=${t},v1=${mac}`);
    expect(verifyHttpCallSignature(headers[SIGNATURE_HEADER], call.secret, 'job-1', body, NOW)).toEqual({
      ok: true,
      timestamp: t,
    });
    expect(headers['idempotency-key']).toBe('job-1');
    expect(init.redirect).toBe('manual');
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });

  it.each([
    [400, false],
    [409, false],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %s fails, retryable=%s', async (status, retryable) => {
    const sut = fakeFetch(async () => new Response('nope', { status }));
    expect(await callHttpExecutor(call, sut.fn)).toEqual({ kind: 'failed', retryable, error: `HTTP ${status}: nope` });
  });

  it('does not follow a redirect', async () => {
    const sut = fakeFetch(
      async () => new Response(null, { status: 302, headers: { location: 'http://elsewhere.test/' } }),
    );
    expect(await callHttpExecutor(call, sut.fn)).toMatchObject({
      kind: 'failed',
      retryable: false,
      error: expect.stringContaining('elsewhere.test'),
    });
  });

  it('a timeout is indeterminate: the call may have had its effect', async () => {
    const sut = fakeFetch(() => Promise.reject(new DOMException('timed out', 'TimeoutError')));
    expect(await callHttpExecutor(call, sut.fn)).toMatchObject({
      kind: 'indeterminate',
      error: expect.stringContaining('1000 ms'),
    });
  });

  it('a refused connection is a retryable failure (nothing was sent)', async () => {
    const err = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    const sut = fakeFetch(() => Promise.reject(err));
    expect(await callHttpExecutor(call, sut.fn)).toEqual({
      kind: 'failed',
      retryable: true,
      error: 'could not connect (ECONNREFUSED)',
    });
  });

  it('a connection lost mid-call is indeterminate', async () => {
    const err = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    });
    const sut = fakeFetch(() => Promise.reject(err));
    expect(await callHttpExecutor(call, sut.fn)).toMatchObject({ kind: 'indeterminate' });
  });
});
