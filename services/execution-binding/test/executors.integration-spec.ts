import { createHmac, generateKeyPairSync } from 'node:crypto';
import { Topics } from '@countersign/contracts';
import { jobHash, publicKeyFromPem, signEvent, signerFromPem, verifyEvent } from '@countersign/crypto';
import { proposal } from '../../../test/support/fixtures';
import { createTestDatabase, kafka, keyEnv, startService, type ServiceHandle } from '../../../test/support/stack';
import { BindingRig, deliver, publish, waitForState, writeExecutorsFile } from './binding-support';

const SECRET = 'test-hook-secret-0123456789';

/**
 * The executors against real targets: a local HTTP server (HMAC, idempotency key, timeout,
 * allowlist, retries), a Kafka dispatch topic, the agent's report of a release, and a crash between
 * the execution record and the side effect.
 */
describe('execution-binding: executors', () => {
  const rig = new BindingRig();
  const { keys, facts, kafkaProbe, probe, hook } = rig;
  let svc: ServiceHandle;
  let executorsFile: string;
  const dispatchTopic = `test.dispatch.${Date.now()}`;

  beforeAll(async () => {
    await hook.start();
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: dispatchTopic, numPartitions: 1, replicationFactor: 1 }],
    });
    await admin.disconnect();
    const base = `http://127.0.0.1:${hook.port}`;
    executorsFile = writeExecutorsFile(`
executors:
  - name: hook
    kind: http
    match: ["test.http.**"]
    url: ${base}/hook
    secret_env: TEST_HOOK_SECRET
    timeout_sec: 10
  - name: flaky
    kind: http
    match: ["test.idem.**"]
    url: ${base}/flaky
    secret_env: TEST_HOOK_SECRET
    idempotent: true
    retry: { max_attempts: 3, initial_backoff_ms: 200, max_backoff_ms: 400 }
  - name: slow
    kind: http
    match: ["test.slow.**"]
    url: ${base}/slow
    secret_env: TEST_HOOK_SECRET
    timeout_sec: 30
  - name: crashy
    kind: http
    match: ["test.crash.**"]
    url: ${base}/crash
    secret_env: TEST_HOOK_SECRET
    timeout_sec: 2
  - name: workers
    kind: kafka
    match: ["test.kafka.**"]
    topic: ${dispatchTopic}
  - name: short-grant
    kind: release
    match: ["test.short.**"]
    grant_ttl_sec: 1
  - name: agent
    kind: release
    match: ["job.**"]
`);
    hook.on('/slow', (_call, res) => {
      setTimeout(() => res.writeHead(200).end('{"late":true}'), 5000).unref();
    });
    let flakyCalls = 0;
    hook.on('/flaky', (_call, res) => {
      flakyCalls += 1;
      if (flakyCalls === 1) res.writeHead(503).end('try later');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"applied":true}');
    });
    hook.on('/hook', (call, res) => {
      const body = JSON.parse(call.body) as { payload: { fail?: boolean } };
      if (body.payload.fail) res.writeHead(422).end('bad payload');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"applied":true}');
    });
    svc = await rig.start('eb_executors', [Topics.JobReleased, Topics.JobBlocked, Topics.JobExecuted, dispatchTopic], {
      EXECUTORS_FILE: executorsFile,
      TEST_HOOK_SECRET: SECRET,
      SWEEP_INTERVAL_MS: '200',
      RELEASE_REPORT_GRACE_SEC: '1',
    });
  }, 120_000);

  afterAll(() => rig.stop());

  const executed = async (jobId: string) =>
    (await probe.waitForJob(Topics.JobExecuted, jobId))['data'] as Record<string, unknown>;

  /** The trusted decision first, the proposal last: the job binds when the proposal arrives. */
  async function approve(p: ReturnType<typeof proposal>, constraints = {}, baseUrl = svc.url) {
    await deliver(baseUrl, 'decision', facts.decision(p, { decision: 'ALLOW_WITH_CONSTRAINTS', constraints }));
    await publish(p);
  }

  describe('http', () => {
    it('POSTs the approved payload once, HMAC-signed, with Idempotency-Key = job id', async () => {
      const p = proposal({ topic: 'test.http.apply', payload: { key: 'feature.x', value: true } });
      await approve(p);
      expect(await executed(p.data.job_id)).toMatchObject({
        status: 'SUCCEEDED',
        executor: 'http',
        attempts: 1,
        job_hash: jobHash(p.data),
        result: { http_status: 200, body: { applied: true } },
      });
      const [call, ...more] = hook.callsTo(p.data.job_id);
      expect(more).toHaveLength(0);
      // The receiver's check, as docs/execution-binding.md gives it: HMAC over "<t>.<job_id>.<body>", t recent.
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(call!.headers['countersign-signature']));
      expect(m).not.toBeNull();
      expect(Math.abs(Date.now() / 1000 - Number(m![1]))).toBeLessThan(300);
      expect(m![2]).toBe(createHmac('sha256', SECRET).update(`${m![1]}.${p.data.job_id}.${call!.body}`).digest('hex'));
      expect(call!.headers['idempotency-key']).toBe(p.data.job_id);
      expect(JSON.parse(call!.body)).toMatchObject({
        job_id: p.data.job_id,
        job_hash: jobHash(p.data),
        payload: { key: 'feature.x', value: true },
      });
    });

    it('records FAILED with the answer of a target that refuses (not idempotent: no retry)', async () => {
      const p = proposal({ topic: 'test.http.apply', payload: { fail: true } });
      await approve(p);
      expect(await executed(p.data.job_id)).toMatchObject({
        status: 'FAILED',
        error: 'HTTP 422: bad payload',
        attempts: 1,
      });
      expect(hook.callsTo(p.data.job_id)).toHaveLength(1);
    });

    it('retries an idempotent executor with backoff, same Idempotency-Key', async () => {
      const p = proposal({ topic: 'test.idem.apply' });
      await approve(p);
      expect(await executed(p.data.job_id)).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
      const calls = hook.callsTo(p.data.job_id);
      expect(calls).toHaveLength(2);
      expect(calls[0]!.body).toBe(calls[1]!.body);
    });

    it('enforces max_runtime_sec as the timeout: no answer in time is UNKNOWN, never retried', async () => {
      const p = proposal({ topic: 'test.slow.apply' });
      const started = Date.now();
      await approve(p, { max_runtime_sec: 1 });
      const outcome = await executed(p.data.job_id);
      expect(outcome).toMatchObject({ status: 'UNKNOWN', error: expect.stringContaining('1000 ms') });
      expect(Date.now() - started).toBeLessThan(4500);
      await rig.settled();
      expect(hook.callsTo(p.data.job_id)).toHaveLength(1);
    });

    it('blocks CONSTRAINT_VIOLATION for a target outside network_allowlist, and makes no call', async () => {
      const p = proposal({ topic: 'test.http.apply' });
      await approve(p, { network_allowlist: ['api.example.com'] });
      expect(await probe.outcomeBlock(p.data.job_id)).toMatchObject({
        reason_code: 'CONSTRAINT_VIOLATION',
        detail: expect.stringContaining(`127.0.0.1:${hook.port}`),
      });
      await rig.settled();
      expect(hook.callsTo(p.data.job_id)).toHaveLength(0);
      expect(probe.forJob(Topics.JobExecuted, p.data.job_id)).toHaveLength(0);
    });

    it('calls a target inside network_allowlist', async () => {
      const p = proposal({ topic: 'test.http.apply' });
      await approve(p, { network_allowlist: ['127.0.0.1'] });
      expect(await executed(p.data.job_id)).toMatchObject({ status: 'SUCCEEDED' });
    });
  });

  describe('kafka', () => {
    it('dispatches the approved job, signed by execution-binding, to the configured topic', async () => {
      const p = proposal({ topic: 'test.kafka.batch' });
      await approve(p, { max_runtime_sec: 60 });
      expect(await executed(p.data.job_id)).toMatchObject({ status: 'SUCCEEDED', executor: 'kafka' });
      const [dispatch, ...more] = kafkaProbe.find(dispatchTopic, (m) => m.key === p.data.job_id);
      expect(more).toHaveLength(0);
      expect(dispatch!.json).toMatchObject({
        type: 'job.dispatched',
        producer: 'execution-binding',
        data: {
          job_id: p.data.job_id,
          payload: p.data.payload,
          job_hash: jobHash(p.data),
          constraints: { max_runtime_sec: 60 },
        },
      });
      expect(verifyEvent(dispatch!.json!, [publicKeyFromPem(keys.pems['execution-binding'].publicKeyPem)])).toEqual({
        ok: true,
      });
    });
  });

  describe('release and the agent report', () => {
    const report = (jobId: string, body: unknown) =>
      fetch(`${svc.url}/api/v1/jobs/${jobId}/report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('records the outcome the agent reports with its grant, once', async () => {
      const p = proposal();
      await approve(p);
      const grant = await probe.waitForJob(Topics.JobReleased, p.data.job_id);

      const forged = signEvent(
        { ...grant, signature: undefined },
        signerFromPem(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
      );
      expect((await report(p.data.job_id, { grant: forged, status: 'SUCCEEDED' })).status).toBe(403);
      expect((await report('some-other-job', { grant, status: 'SUCCEEDED' })).status).toBe(403);
      expect((await report(p.data.job_id, { grant, status: 'MAYBE' })).status).toBe(400);

      const first = await report(p.data.job_id, { grant, status: 'SUCCEEDED', result: { ticket: 42 } });
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ job_id: p.data.job_id, status: 'SUCCEEDED', recorded: true });
      expect(await executed(p.data.job_id)).toMatchObject({
        status: 'SUCCEEDED',
        executor: 'release',
        result: { ticket: 42 },
      });

      expect(await (await report(p.data.job_id, { grant, status: 'SUCCEEDED' })).json()).toMatchObject({
        recorded: false,
      });
      const conflicting = await report(p.data.job_id, { grant, status: 'FAILED', error: 'x' });
      expect(conflicting.status).toBe(409);
      expect(await conflicting.json()).toMatchObject({ error: { code: 'ALREADY_REPORTED' } });
      await rig.settled();
      expect(probe.forJob(Topics.JobExecuted, p.data.job_id)).toHaveLength(1);
    });

    it('records UNKNOWN when the agent never reports before the grant expires', async () => {
      const p = proposal({ topic: 'test.short.task' });
      await approve(p);
      await probe.waitForJob(Topics.JobReleased, p.data.job_id);
      expect(await executed(p.data.job_id)).toMatchObject({
        status: 'UNKNOWN',
        executor: 'release',
        error: expect.stringContaining('did not report'),
      });
    });
  });

  it('a crash between the execution record and the side effect yields UNKNOWN, never a call', async () => {
    await svc.stop();
    const crashDb = await createTestDatabase('eb_executors_crash');
    const env = {
      ...keyEnv(keys),
      EXECUTORS_FILE: executorsFile,
      TEST_HOOK_SECRET: SECRET,
      SWEEP_INTERVAL_MS: '200',
      EXECUTION_LEASE_GRACE_MS: '500',
    };
    const doomed = await startService('execution-binding', {
      databaseUrl: crashDb,
      env: { ...env, NODE_ENV: 'test', EXECUTOR_TEST_CRASH_AFTER_RECORD: '1' },
    });
    const p = proposal({ topic: 'test.crash.apply' });
    await approve(p, {}, doomed.url);
    const exit = await new Promise<number | null>((resolve) => doomed.process.once('exit', (code) => resolve(code)));
    expect(exit).toBe(137);

    const restarted = await startService('execution-binding', { databaseUrl: crashDb, env });
    try {
      expect(await executed(p.data.job_id)).toMatchObject({
        status: 'UNKNOWN',
        error: expect.stringContaining('interrupted'),
      });
      await rig.settled(restarted, crashDb);
      expect(hook.calls.filter((c) => c.path === '/crash')).toHaveLength(0);
      const state = await waitForState(restarted.url, p.data.job_id, (s) => s.state === 'executed');
      expect(state.execution).toMatchObject({ status: 'UNKNOWN', attempts: 1 });
    } finally {
      await restarted.stop();
    }
  }, 90_000);
});
