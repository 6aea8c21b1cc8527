import { httpJobStateReader } from './job-state.reader';

function fakeFetch(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
  return { fn, calls };
}

describe('httpJobStateReader', () => {
  it('asks nothing without a token (the state API refuses anonymous callers)', () => {
    expect(httpJobStateReader('http://eb.test:8083', {})).toBeUndefined();
    expect(httpJobStateReader('http://eb.test:8083', { token: '  ' })).toBeUndefined();
  });

  it('presents the token and words the state', async () => {
    const sut = fakeFetch(200, { state: 'awaiting_approval', decision: 'REQUIRE_APPROVAL' });
    const read = httpJobStateReader('http://eb.test:8083/', { token: 'tok' }, sut.fn)!;
    expect(await read('job 1')).toBe('awaiting human approval, decision REQUIRE_APPROVAL');
    expect(sut.calls[0]!.url).toBe('http://eb.test:8083/api/v1/jobs/job%201/state');
    expect((sut.calls[0]!.init.headers as Record<string, string>)['authorization']).toBe('Bearer tok');
  });

  it('says nothing when the token is refused, and "not seen" on 404', async () => {
    expect(await httpJobStateReader('http://eb.test', { token: 't' }, fakeFetch(401, {}).fn)!('j')).toBeNull();
    expect(await httpJobStateReader('http://eb.test', { token: 't' }, fakeFetch(404, {}).fn)!('j')).toBe(
      'not seen by the gate yet',
    );
  });
});
