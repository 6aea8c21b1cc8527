import { ReportError } from './errors';
import { jsonResult, sendReport } from './report-client';

function fakeFetch(statuses: (number | Error)[]) {
  const calls: { url: string; body: unknown }[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, body: JSON.parse(String(init.body)) });
    const next = statuses.shift() ?? 200;
    if (next instanceof Error) throw next;
    return new Response('{}', { status: next });
  }) as unknown as typeof fetch;
  return { fn, calls };
}

describe('sendReport', () => {
  const report = { grant: { a: 1 }, status: 'SUCCEEDED' as const, result: { ok: true } };

  it('POSTs the report to the job endpoint', async () => {
    const sut = fakeFetch([200]);
    await sendReport('http://eb.test:8083/', 'job 1', report, sut.fn);
    expect(sut.calls).toEqual([{ url: 'http://eb.test:8083/api/v1/jobs/job%201/report', body: report }]);
  });

  it('retries network errors and 5xx, then succeeds', async () => {
    const sut = fakeFetch([new Error('ECONNRESET'), 503, 200]);
    await sendReport('http://eb.test', 'j', report, sut.fn);
    expect(sut.calls).toHaveLength(3);
  });

  it('does not retry a 4xx and keeps the result on the error', async () => {
    const sut = fakeFetch([409]);
    await expect(sendReport('http://eb.test', 'j', report, sut.fn)).rejects.toBeInstanceOf(ReportError);
    expect(sut.calls).toHaveLength(1);
    await expect(sendReport('http://eb.test', 'j', report, fakeFetch([403]).fn)).rejects.toMatchObject({
      result: { ok: true },
    });
  });
});

describe('jsonResult', () => {
  it('copies JSON and nulls what JSON cannot carry', () => {
    expect(jsonResult({ a: 1, d: new Date(0) })).toEqual({ a: 1, d: '1970-01-01T00:00:00.000Z' });
    expect(jsonResult(10n)).toBeNull();
    expect(jsonResult(undefined)).toBeUndefined();
  });
});
