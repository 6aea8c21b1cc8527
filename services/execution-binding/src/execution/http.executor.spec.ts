import { createHmac } from 'node:crypto';
import { callHttpExecutor, httpExecutorBody, SIGNATURE_HEADER } from './http.executor';
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
const call = { url: 'http://target.test/hook', secret: 'secret-0123456789abcdef', timeoutMs: 1000, request };

function fakeFetch(answer: () => Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { fn, calls };
}

describe('callHttpExecutor', () => {
  it('POSTs the canonical body, HMAC-signed, with the job id as idempotency key, not following redirects', async () => {
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
    expect(headers[SIGNATURE_HEADER]).toBe(`sha256=${createHmac('sha256', call.secret).update(body).digest('hex')}`);
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
