import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Topics, dlqTopic, payloadPath, type JobProposedData } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { mintToken, waitUntil } from '@countersign/testkit';
import { KafkaProbe, publishRaw } from '../../../test/support/kafka-probe';
import {
  PG_ADMIN_URL,
  createTestDatabase,
  keyEnv,
  makeTestKeys,
  stackConfig,
  startService,
  type ServiceHandle,
  type TestKeys,
} from '../../../test/support/stack';
import { stopSpecStack } from '../../../test/support/teardown';
import { Api, sql, type QueueItemJson } from './approval-queue.fixtures';

/**
 * The reviewer sees exactly what runs. policy-decision, the approval queue and execution-binding as
 * real processes on the real broker and PostgreSQL, fed raw JSON text as an agent with its own Kafka
 * client would send it. For a payload with secrets in nested objects and arrays, unicode keys and
 * numbers, the queue's view with only its listed redactions put back hashes to the job_hash that the
 * decision carries and execution binds, and equals what the executor receives. A payload with a
 * reserved key is denied by policy, blocked DENIED, and the queue stores nothing of it.
 */
describe('the reviewer sees exactly what runs', () => {
  const services = new Map<string, ServiceHandle>();
  const probe = new KafkaProbe();
  const calls = new Map<string, string[]>();
  let server: Server;
  let keys: TestKeys;
  let db: string;
  let api: Api;
  const run = randomUUID().slice(0, 8);
  const reviewer = () => mintToken(keys.jwtSecret, { sub: `bob-${run}`, roles: ['service-owner'], tenants: ['acme'] });

  /** A job.proposed envelope as text, the payload spliced in exactly as written. */
  function rawProposal(jobId: string, payloadJson: string): string {
    const now = new Date().toISOString();
    return (
      `{"event_id":"${randomUUID()}","type":"job.proposed","schema_version":1,"occurred_at":"${now}","producer":"test-agent",` +
      `"data":{"job_id":"${jobId}","tenant":"acme","agent_id":"agent-1","topic":"job.config.update","risk_tags":["prod","write"],` +
      `"payload":${payloadJson},"summary":{"title":"Rotate the checkout credentials"},"requested_by":"alice@acme.test","proposed_at":"${now}"}}`
    );
  }

  /**
   * The view with each listed redacted path put back from the original, and nothing else taken from
   * it: the structure (every key, every element) and every other value come from the view. Fails if
   * the two structures differ, a listed path does not hold `[REDACTED]`, or a listed path is not in
   * the payload.
   */
  function unredact(view: unknown, original: unknown, redacted: readonly string[]): unknown {
    const listed = new Set(redacted);
    const used = new Set<string>();
    const walk = (v: unknown, o: unknown, path: string): unknown => {
      if (Array.isArray(v)) {
        if (!Array.isArray(o) || o.length !== v.length)
          throw new Error(`${path}: the view's array differs from the payload's`);
        return v.map((x, i) => walk(x, o[i], `${path}[${i}]`));
      }
      if (v !== null && typeof v === 'object') {
        if (o === null || typeof o !== 'object' || Array.isArray(o))
          throw new Error(`${path}: the view has an object where the payload has none`);
        const keys = Object.keys(v).sort();
        expect(keys).toEqual(Object.keys(o).sort());
        return Object.fromEntries(
          keys.map((k) => [
            k,
            walk((v as Record<string, unknown>)[k], (o as Record<string, unknown>)[k], payloadPath(path, k)),
          ]),
        );
      }
      if (listed.has(path)) {
        expect(v).toBe('[REDACTED]');
        used.add(path);
        return o;
      }
      return v;
    };
    const out = walk(view, original, '');
    expect([...used].sort()).toEqual([...listed].sort());
    return out;
  }

  beforeAll(async () => {
    keys = makeTestKeys();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const jobId = String(req.headers['idempotency-key'] ?? '');
        calls.set(jobId, [...(calls.get(jobId) ?? []), body]);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"done":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const config = stackConfig('view', [
      'executors:',
      '  - name: target',
      '    kind: http',
      '    match: ["job.config.**"]',
      `    url: http://127.0.0.1:${(server.address() as AddressInfo).port}/execute`,
      '    secret_env: EXECUTOR_HTTP_SECRET',
      '    idempotent: false',
      '    timeout_sec: 10',
    ]);
    db = await createTestDatabase(`reviewer_view_${process.pid}`);
    await probe.start([Topics.DecisionMade, Topics.JobExecuted, Topics.JobBlocked, dlqTopic(Topics.JobProposed)]);
    const env = {
      ...keyEnv(keys),
      ...config.env,
      EXECUTOR_HTTP_SECRET: 'view-executor-secret-0123456789abcdef',
    };
    const names = ['policy-decision', 'approval-queue', 'execution-binding'] as const;
    for (const s of await Promise.all(names.map((n) => startService(n, { databaseUrl: db, env }))))
      services.set(s.name, s);
    api = new Api(services.get('approval-queue')!.url);
  }, 180000);

  afterAll(async () => {
    await stopSpecStack(services.values(), probe, server);
    if (db)
      await sql(PG_ADMIN_URL, `DROP DATABASE IF EXISTS ${new URL(db).pathname.slice(1)} WITH (FORCE)`).catch(
        () => undefined,
      );
  });

  it('shows a payload whose unredacted form hashes to the job_hash the decision carries and execution binds', async () => {
    const jobId = `job-view-${run}`;
    // Secrets holding nested objects and arrays, unicode keys, a literal "[REDACTED]" the agent wrote
    // itself, numbers of every shape the contract accepts.
    const payloadJson =
      '{"service":"checkout-api","credentials":{"password":"hunter2","token":{"user":"svc","pin":1234,"on":true,"none":null,' +
      '"history":[{"at":"2026-01-01","api_key":"sk_live_old"},7]}},"secret":["s1",{"k":2.5}],' +
      '"\\u043a\\u043b\\u044e\\u0447":"\\u0437\\u043d\\u0430\\u0447\\u0435\\u043d\\u0438\\u0435","cl\\u00e9 \\ud83d\\udd11":{"Authorization":"Bearer abc","n":-17},' +
      '"steps":[10,50,100],"ratio":0.125,"max":9007199254740991,"tiny":1.5e-7,"text":"[REDACTED]","empty":{},"list":[],' +
      '"a.b":{"token":["t1","t2"]},"rotations":[{"at":"2025-06-01","api_key":"sk_live_older"}]}';
    const raw = rawProposal(jobId, payloadJson);
    const proposed = (JSON.parse(raw) as { data: JobProposedData }).data;
    await publishRaw(Topics.JobProposed, jobId, raw);

    const decision = (await probe.waitForJob(Topics.DecisionMade, jobId)).json?.['data'] as {
      decision: string;
      job_hash: string;
    };
    expect(decision.decision).toBe('REQUIRE_APPROVAL');

    const item = await waitUntil(
      async () => {
        const r = await api.list(reviewer(), { limit: 200 });
        return r.body.items?.find((i) => i.job.id === jobId && i.proposal_received);
      },
      { what: `queue item ${jobId}`, timeout: 30000 },
    );
    const view = item.payload!;
    expect(JSON.stringify(view)).not.toMatch(/hunter2|sk_live_old|Bearer abc|"s1"|1234|2\.5|"t1"/);
    expect(item.redacted_fields.sort()).toEqual(
      [
        'credentials.password',
        'credentials.token.user',
        'credentials.token.pin',
        'credentials.token.on',
        'credentials.token.none',
        'credentials.token.history[0].at',
        'credentials.token.history[0].api_key',
        'credentials.token.history[1]',
        'secret[0]',
        'secret[1].k',
        '["clé 🔑"].Authorization',
        '["a.b"].token[0]',
        '["a.b"].token[1]',
        'rotations[0].api_key',
      ].sort(),
    );
    // Structure is never redacted: the secret object is still an object, the array an array.
    expect(view['credentials']).toMatchObject({
      token: { user: '[REDACTED]', none: '[REDACTED]', history: [{ at: '[REDACTED]' }, '[REDACTED]'] },
    });
    expect(view['rotations']).toEqual([{ at: '2025-06-01', api_key: '[REDACTED]' }]);
    expect(view['text']).toBe('[REDACTED]');
    expect(item.redacted_fields).not.toContain('text');

    const restored = unredact(view, proposed.payload, item.redacted_fields) as Record<string, unknown>;
    expect(restored).toEqual(proposed.payload);
    const restoredHash = jobHash({ ...proposed, payload: restored });
    expect(restoredHash).toBe(decision.job_hash);
    expect(item.job_hash).toBe(decision.job_hash);
    const stored = await sql(db, `SELECT payload::text AS p FROM approval_queue.approval_items WHERE job_id = $1`, [
      jobId,
    ]);
    expect(stored[0]?.['p']).not.toMatch(/hunter2|sk_live_old|Bearer abc/);

    const approved = await api.approve(jobId, reviewer(), { reason: 'credentials rotation reviewed' });
    expect(approved.status).toBe(200);
    const executed = (await probe.waitForJob(Topics.JobExecuted, jobId, 60000)).json?.['data'] as {
      job_hash: string;
      status: string;
    };
    expect(executed).toMatchObject({ job_hash: restoredHash, status: 'SUCCEEDED' });
    const received = calls.get(jobId) ?? [];
    expect(received).toHaveLength(1);
    const ran = (JSON.parse(received[0]!) as { payload: Record<string, unknown> }).payload;
    expect(jobHash({ ...proposed, payload: ran })).toBe(restoredHash);
    expect(probe.forJob(Topics.JobBlocked, jobId)).toEqual([]);
  }, 120000);

  it.each([
    [
      'a nested "__proto__"',
      '{"service":"api","options":{"retries":3,"__proto__":{"isAdmin":true}}}',
      'payload.options.__proto__',
    ],
    [
      '"constructor" inside an array',
      '{"steps":[{"n":1},{"constructor":{"prototype":{"x":1}}}]}',
      'payload.steps[1].constructor',
    ],
  ])(
    'denies %s (decision.made DENY, job.blocked DENIED) and queues nothing of it',
    async (_what, payloadJson, path) => {
      const jobId = `job-reserved-${run}-${randomUUID().slice(0, 8)}`;
      const raw = rawProposal(jobId, payloadJson);
      const proposed = (JSON.parse(raw) as { data: JobProposedData }).data;
      await publishRaw(Topics.JobProposed, jobId, raw);

      const decision = (await probe.waitForJob(Topics.DecisionMade, jobId)).json?.['data'] as Record<string, unknown>;
      expect(decision).toMatchObject({
        decision: 'DENY',
        policy_rule_id: 'countersign:reserved-key',
        approval: null,
        job_hash: jobHash(proposed),
      });
      expect(decision['policy_reason']).toContain(`reserved key ${path} (`);
      const blocked = (await probe.waitForJob(Topics.JobBlocked, jobId, 60000)).json?.['data'] as Record<
        string,
        unknown
      >;
      expect(blocked).toMatchObject({ reason_code: 'DENIED', job_hash: jobHash(proposed) });
      expect(blocked['reason_text']).toContain(path);

      const queue = services.get('approval-queue')!;
      const logged = await queue.waitForLog(
        (l) => l['job_id'] === jobId && String(l['msg']).startsWith('job.proposed not stored'),
      );
      expect(logged['msg']).toContain(`reserved key at ${path}`);
      const decided = await waitUntil(
        async () => {
          const r = await api.get<{ state: string }>(`/api/v1/jobs/${jobId}/decisions`, reviewer());
          return r.status === 200 ? r.body : undefined;
        },
        { what: `decision of ${jobId} in the queue` },
      );
      expect(decided.state).toBe('NOT_REQUIRED');
      const rows = await sql(
        db,
        `SELECT state, payload, proposal_event_id FROM approval_queue.approval_items WHERE job_id = $1`,
        [jobId],
      );
      expect(rows).toEqual([{ state: 'NOT_REQUIRED', payload: null, proposal_event_id: null }]);
      const listed = await api.list(reviewer(), { include_resolved: true, limit: 200 });
      expect(listed.body.items.map((i: QueueItemJson) => i.job.id)).not.toContain(jobId);
      expect((await api.approve(jobId, reviewer(), { reason: 'no' })).status).toBe(404);
      expect(calls.get(jobId)).toBeUndefined();
      expect(probe.forJob(Topics.JobExecuted, jobId)).toEqual([]);
      expect(probe.forJob(dlqTopic(Topics.JobProposed), jobId)).toEqual([]);
    },
    90000,
  );

  it('refuses a payload deeper than the view shows (to the DLQ, with the reason) rather than show part of it', async () => {
    const jobId = `job-deep-${run}`;
    const depth = 70;
    const raw = rawProposal(jobId, `${'{"d":'.repeat(depth - 1)}{"password":"hunter2"}${'}'.repeat(depth - 1)}`);
    await publishRaw(Topics.JobProposed, jobId, raw);

    const [dlq] = await probe.waitFor(
      dlqTopic(Topics.JobProposed),
      (m) => m.json?.['key'] === jobId && m.json?.['consumer'] === 'approval-queue',
      60000,
    );
    expect(String(dlq!.json?.['error'])).toMatch(/deeper than \d+ levels/);
    const rows = await sql(
      db,
      `SELECT payload FROM approval_queue.approval_items WHERE job_id = $1 AND payload IS NOT NULL`,
      [jobId],
    );
    expect(rows).toEqual([]);
    const listed = await api.list(reviewer(), { include_resolved: true, limit: 200 });
    expect(listed.body.items.find((i: QueueItemJson) => i.job.id === jobId)?.payload ?? null).toBeNull();
  }, 90000);
});
