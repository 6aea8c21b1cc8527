import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { Topics, type JobProposedV1 } from '@countersign/contracts';
import { proposal } from '../support/fixtures';
import { publishRaw } from '../support/kafka-probe';
import { ROOT, type ServiceName } from '../support/stack';
import { ALL_READY, eventually, startSecurityStack, type SecurityStack } from './support/security-stack';

const MAX_BODY_BYTES = 65536;
const SEED = Number(process.env['SECURITY_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env['SECURITY_REST_RUNS'] ?? 150);

const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE approval_items; --",
  '1; DELETE FROM audit.audit_records',
  "x' UNION SELECT usename, passwd FROM pg_shadow --",
  '$$ || pg_sleep(5) || $$',
  "\\'; --",
  '%27%20OR%201%3D1',
];

interface Answer {
  status: number;
  body: unknown;
}

/**
 * Reviewers' REST API under attack: self-approval, role escalation, cross-tenant access, bad tokens,
 * oversized and fuzzed bodies and query strings. Every refusal is a 4xx with the JSON error shape,
 * never a 5xx; afterwards every service still answers and a normal job still goes through.
 */
describe('REST abuse', () => {
  let stack: SecurityStack;
  let pending: JobProposedV1;
  const allowed = new Set<string>();

  const call = async (service: ServiceName, path: string, init: RequestInit = {}): Promise<Answer> => {
    const res = await fetch(`${stack.url(service)}${path}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text: the assertions say whether JSON was due
    }
    return { status: res.status, body };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const approve = async (
    jobId: string,
    headers: Record<string, string>,
    body: string | Record<string, unknown> = { reason: 'fine' },
  ) =>
    call('approval-queue', `/api/v1/approvals/${encodeURIComponent(jobId)}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const gatedJob = (tenant = 'globex') =>
    proposal({
      tenant,
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      payload: { flag: 'checkout-v2' },
      requested_by: 'alice@acme.test',
    });
  const queued = async (p: JobProposedV1) => {
    await publishRaw(Topics.JobProposed, p.data.job_id, JSON.stringify(p));
    const token = await stack.token('bob', ['service-owner']);
    await eventually(`${p.data.job_id} queued`, async () => {
      const page = (await call('approval-queue', '/api/v1/approvals?limit=200', { headers: bearer(token) })).body as {
        items?: { job: { id: string } }[];
      };
      return page.items?.some((i) => i.job.id === p.data.job_id) ? true : undefined;
    });
  };
  const stillPending = async (p: JobProposedV1) => {
    const page = (
      await call('approval-queue', '/api/v1/approvals?limit=200', {
        headers: bearer(await stack.token('bob', ['service-owner'])),
      })
    ).body as {
      items: { job: { id: string }; approvals: unknown[] }[];
    };
    return page.items.find((i) => i.job.id === p.data.job_id);
  };
  /** A 4xx whose body is `{"error": {"code", "message"}}`. */
  const expectRefusal = (a: Answer, status: number | null, code?: string) => {
    if (status !== null) expect(a.status).toBe(status);
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
    expect(a.body).toMatchObject({ error: { code: code ?? expect.any(String), message: expect.any(String) } });
  };

  beforeAll(async () => {
    process.stdout.write(
      `REST fuzz seed ${SEED} (reproduce with SECURITY_FUZZ_SEED=${SEED}), ${RUNS} runs per target\n`,
    );
    // The shipped system policy plus one gate that names no approver role (the fail-closed default).
    const policies = join(mkdtempSync(join(tmpdir(), 'cs-doors-')), 'policies');
    mkdirSync(policies);
    writeFileSync(
      join(policies, 'system.yaml'),
      readFileSync(join(ROOT, 'policies', 'system.yaml'), 'utf8').replace(
        /^rules:\n/m,
        "rules:\n  - id: no-roles-gate\n    match:\n      topics: ['job.doors.*']\n    decision: require_approval\n    reason: 'Gate without an approval block'\n\n",
      ),
    );
    stack = await startSecurityStack('sec_rest', {
      env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES), POLICY_DIR: policies },
    });
    pending = gatedJob();
    await queued(pending);
  }, 240000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('tokens', () => {
    const forged = async (): Promise<[string, Record<string, string>][]> => {
      const now = Math.floor(Date.now() / 1000);
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const good = await stack.token('bob', ['service-owner']);
      const [h, p] = good.split('.');
      return [
        ['no Authorization header', {}],
        ['an empty bearer', { authorization: 'Bearer ' }],
        ['Basic credentials', { authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}` }],
        ['a malformed token', { authorization: 'Bearer not.a.jwt' }],
        ['a token of two segments', { authorization: `Bearer ${h}.${p}` }],
        ['random bytes', { authorization: `Bearer ${Buffer.from('\u0001\u0002garbage').toString('base64url')}` }],
        [
          'alg none',
          bearer(
            `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'bob', roles: ['service-owner'], exp: now + 3600 })}.`,
          ),
        ],
        [
          'a wrong secret',
          bearer(await stack.token('bob', ['service-owner'], { secret: 'not-the-secret-0123456789abcdef0123456789' })),
        ],
        ['an expired token', bearer(await stack.token('bob', ['service-owner'], { ttlSeconds: -60 }))],
        [
          'a token not valid yet',
          bearer(
            await new SignJWT({ roles: ['service-owner'] })
              .setProtectedHeader({ alg: 'HS256' })
              .setSubject('bob')
              .setNotBefore(now + 3600)
              .setExpirationTime(now + 7200)
              .sign(new TextEncoder().encode(stack.keys.jwtSecret)),
          ),
        ],
        [
          'a token without sub',
          bearer(
            await new SignJWT({ roles: ['service-owner'] })
              .setProtectedHeader({ alg: 'HS256' })
              .setExpirationTime('1h')
              .sign(new TextEncoder().encode(stack.keys.jwtSecret)),
          ),
        ],
        ['roles as a string', bearer(await stack.token('bob', 'service-owner' as unknown as string[]))],
        [
          'a payload altered after signing',
          bearer(
            `${h}.${enc({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), roles: ['admin'] })}.${good.split('.')[2]}`,
          ),
        ],
      ];
    };

    it('every bad token gets 401 UNAUTHENTICATED on every protected route, and changes nothing', async () => {
      for (const [what, headers] of await forged()) {
        for (const [service, path] of [
          ['approval-queue', '/api/v1/approvals'],
          ['approval-queue', `/api/v1/jobs/${pending.data.job_id}/decisions`],
          ['approval-queue', '/api/v1/approvals/stats'],
          ['audit', '/api/v1/audit'],
          ['audit', `/api/v1/jobs/${pending.data.job_id}/timeline`],
          ['execution-binding', `/api/v1/jobs/${pending.data.job_id}/state`],
          ['policy-decision', '/api/v1/policy/snapshots'],
        ] as const) {
          const a = await call(service, path, { headers });
          expect({ what, path, status: a.status }).toEqual({ what, path, status: 401 });
          expectRefusal(a, 401, 'UNAUTHENTICATED');
        }
        expectRefusal(await approve(pending.data.job_id, headers), 401, 'UNAUTHENTICATED');
      }
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });
  });

  describe('locked doors', () => {
    const evaluateBody = () =>
      JSON.stringify({
        job_id: 'dry-1',
        tenant: 'globex',
        agent_id: 'a',
        topic: 'job.repo.read',
        risk_tags: [],
        payload: {},
      });
    /** Every operational read: job state, the policy dry run and snapshots. */
    const doors = async (headers: Record<string, string>): Promise<[string, Answer][]> => {
      const snapshots = (await call('policy-decision', '/api/v1/policy/snapshots', {
        headers: bearer(await stack.token('olivia', ['operator'])),
      })) as { body: { snapshots: { snapshot_id: string }[] } };
      const snapshotId = snapshots.body.snapshots[0]!.snapshot_id;
      return [
        ['job state', await call('execution-binding', `/api/v1/jobs/${pending.data.job_id}/state`, { headers })],
        [
          'evaluate',
          await call('policy-decision', '/api/v1/policy/evaluate', {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: evaluateBody(),
          }),
        ],
        ['snapshots', await call('policy-decision', '/api/v1/policy/snapshots', { headers })],
        [
          'snapshot',
          await call('policy-decision', `/api/v1/policy/snapshots/${encodeURIComponent(snapshotId)}`, { headers }),
        ],
      ];
    };

    it('job state and policy endpoints answer 401 without a token, 403 to agents and approvers, 200 to operators and auditors', async () => {
      for (const [what, a] of await doors({})) {
        expect({ what, status: a.status }).toEqual({ what, status: 401 });
        expectRefusal(a, 401, 'UNAUTHENTICATED');
      }
      for (const roles of [['service-owner'], ['approver'], ['agent'], []]) {
        for (const [what, a] of await doors(bearer(await stack.token('mallory', roles)))) {
          expect({ what, roles, status: a.status }).toEqual({ what, roles, status: 403 });
          expectRefusal(a, 403, 'ROLE_NOT_ALLOWED');
          expect(JSON.stringify(a.body)).not.toContain('checkout-v2');
        }
      }
      for (const role of ['operator', 'auditor']) {
        for (const [what, a] of await doors(bearer(await stack.token('olivia', [role])))) {
          expect({ what, role, status: a.status }).toEqual({ what, role, status: 200 });
        }
      }
    });

    it('refuses a token without exp everywhere with 401 saying so', async () => {
      const forever = await new SignJWT({ roles: ['service-owner', 'auditor', 'operator'], tenants: ['*'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('bob')
        .setIssuedAt()
        .sign(new TextEncoder().encode(stack.keys.jwtSecret));
      const answers: [string, Answer][] = [
        ['queue', await call('approval-queue', '/api/v1/approvals', { headers: bearer(forever) })],
        ['approve', await approve(pending.data.job_id, bearer(forever))],
        ['audit', await call('audit', '/api/v1/audit', { headers: bearer(forever) })],
        ...(await doors(bearer(forever))),
      ];
      for (const [what, a] of answers) {
        expect({ what, status: a.status }).toEqual({ what, status: 401 });
        expectRefusal(a, 401, 'UNAUTHENTICATED');
        expect((a.body as { error: { message: string } }).error.message).toBe('token lacks the required "exp" claim');
      }
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });

    it('a token without a tenants claim covers no tenant; an explicit "*" covers all', async () => {
      const none = bearer(await stack.token('bob', ['service-owner', 'auditor'], { tenants: null }));
      const page = (await call('approval-queue', '/api/v1/approvals?limit=200', { headers: none })).body as {
        items: unknown[];
      };
      expect(page.items).toEqual([]);
      expectRefusal(await approve(pending.data.job_id, none), 403, 'TENANT_NOT_ALLOWED');
      expectRefusal(
        await call('approval-queue', `/api/v1/jobs/${pending.data.job_id}/decisions`, { headers: none }),
        null,
      );
      const audit = (await call('audit', '/api/v1/audit?limit=1000', { headers: none })).body as { items: unknown[] };
      expect(audit.items).toEqual([]);
      expectRefusal(await call('audit', `/api/v1/jobs/${pending.data.job_id}/timeline`, { headers: none }), 404);
      // The same roles with "*": the item is there.
      const all = bearer(await stack.token('bob', ['service-owner', 'auditor'], { tenants: ['*'] }));
      const full = (await call('approval-queue', '/api/v1/approvals?limit=200', { headers: all })).body as {
        items: { job: { id: string } }[];
      };
      expect(full.items.map((i) => i.job.id)).toContain(pending.data.job_id);
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });

    it("a gate naming no approver role is for 'approver' only: auditors and other roles can neither see nor approve it", async () => {
      const p = proposal({
        tenant: 'globex',
        topic: 'job.doors.change',
        risk_tags: [],
        payload: { door: 'back' },
        requested_by: 'alice@acme.test',
      });
      await publishRaw(Topics.JobProposed, p.data.job_id, JSON.stringify(p));
      const approver = bearer(await stack.token('april', ['approver']));
      await eventually(`${p.data.job_id} queued for approver`, async () => {
        const page = (await call('approval-queue', '/api/v1/approvals?limit=200', { headers: approver })).body as {
          items?: { job: { id: string }; approver_roles: string[] }[];
        };
        return page.items?.find((i) => i.job.id === p.data.job_id);
      });
      for (const roles of [['auditor'], ['operator'], ['service-owner', 'auditor'], ['viewer']]) {
        const token = bearer(await stack.token('erin', roles));
        const page = (await call('approval-queue', '/api/v1/approvals?limit=200', { headers: token })).body as {
          items: { job: { id: string } }[];
        };
        expect({ roles, seen: page.items.some((i) => i.job.id === p.data.job_id) }).toEqual({ roles, seen: false });
        const a = await approve(p.data.job_id, token);
        expectRefusal(a, 403, 'ROLE_NOT_ALLOWED');
        expect((a.body as { error: { message: string } }).error.message).toContain("default role 'approver'");
      }
      const ok = await approve(p.data.job_id, approver);
      expect(ok.status).toBe(200);
      allowed.add(p.data.job_id);
      expect((await stack.outcome(p.data.job_id)).topic).toBe(Topics.JobExecuted);
    });

    it('hostile cursors and ids get a 4xx, never a 5xx', async () => {
      const c = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const cursors = [
        c(['2026-02-30T00:00:00.000Z', 'j']),
        c(['0000-01-01T00:00:00.000Z', 'j']),
        c(['2026-01-01T25:00:00.000Z', 'j']),
        c(['2026-01-01T00:00:00.000Z', 'nul\u0000id']),
        c(['2026-01-01T00:00:00.000Z', 'lone\ud800']),
        c(['2026-01-01T00:00:00.000Z', "' OR 1=1 --"]),
        c({ toString: 1 }),
        c('x'.repeat(5000)),
        '%00',
        '-1',
        '99999999999999999999',
        '1e9',
        'x'.repeat(5000),
      ];
      const all = bearer(await stack.token('bob', ['service-owner', 'auditor', 'operator']));
      const urls: [ServiceName, string][] = [];
      for (const cursor of cursors) {
        const q = /^%/.test(cursor) ? cursor : encodeURIComponent(cursor);
        urls.push(
          ['approval-queue', `/api/v1/approvals?cursor=${q}`],
          ['audit', `/api/v1/audit?cursor=${q}`],
          ['audit', `/api/v1/audit/export?cursor=${q}`],
        );
      }
      const ids = [
        'nul%00id',
        '%ED%A0%80',
        encodeURIComponent("' OR '1'='1"),
        'x'.repeat(3000),
        '%2e%2e',
        '..%2F..%2Fetc',
        encodeURIComponent('\u0000'),
      ];
      for (const id of ids) {
        urls.push(
          ['execution-binding', `/api/v1/jobs/${id}/state`],
          ['approval-queue', `/api/v1/jobs/${id}/decisions`],
          ['audit', `/api/v1/jobs/${id}/timeline`],
          ['audit', `/api/v1/policy/snapshots/${id}`],
          ['policy-decision', `/api/v1/policy/snapshots/${id}`],
          ['audit', `/api/v1/audit?job_id=${id}`],
        );
      }
      const posts: [ServiceName, string, string][] = ids.flatMap((id): [ServiceName, string, string][] => [
        ['approval-queue', `/api/v1/approvals/${id}/approve`, '{"reason":"x"}'],
        ['approval-queue', `/api/v1/approvals/${id}/reject`, '{"reason":"x"}'],
        ['execution-binding', `/api/v1/jobs/${id}/report`, '{"grant":{},"status":"SUCCEEDED"}'],
      ]);
      for (const [service, url, body] of posts) {
        const a = await call(service, url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...all },
          body,
        });
        expect({ service, url: url.slice(0, 120), server_error: a.status >= 500 }).toEqual({
          service,
          url: url.slice(0, 120),
          server_error: false,
        });
        expectRefusal(a, null);
      }
      for (const [service, url] of urls) {
        const a = await call(service, url, { headers: all });
        expect({ service, url: url.slice(0, 120), server_error: a.status >= 500 }).toEqual({
          service,
          url: url.slice(0, 120),
          server_error: false,
        });
        if (a.status >= 400) expectRefusal(a, null);
      }
      // The queue's cursors in particular: a well-formed but impossible key is refused as a bad cursor.
      const bad = await call('approval-queue', `/api/v1/approvals?cursor=${cursors[0]!}`, { headers: all });
      expectRefusal(bad, 400, 'INVALID_REQUEST');
    });
  });

  describe('who may act', () => {
    it('refuses self-approval, whatever the case of the name', async () => {
      for (const sub of ['alice@acme.test', 'ALICE@ACME.TEST']) {
        expectRefusal(
          await approve(pending.data.job_id, bearer(await stack.token(sub, ['service-owner']))),
          403,
          'SELF_APPROVAL',
        );
      }
    });

    it('refuses role escalation: a role outside approver_roles, or roles and actors in the body', async () => {
      expectRefusal(
        await approve(pending.data.job_id, bearer(await stack.token('mallory', ['viewer']))),
        403,
        'ROLE_NOT_ALLOWED',
      );
      const claims = await stack.token('mallory', ['viewer'], {
        extraClaims: { role: 'service-owner', scope: 'approvals:write', admin: true },
      });
      expectRefusal(await approve(pending.data.job_id, bearer(claims)), 403, 'ROLE_NOT_ALLOWED');
      const bob = bearer(await stack.token('mallory', ['viewer']));
      for (const body of [
        { reason: 'x', actor: 'bob' },
        { reason: 'x', roles: ['service-owner'] },
        { reason: 'x', approved_by: 'bob' },
      ]) {
        expectRefusal(await approve(pending.data.job_id, bob, body), 400, 'INVALID_REQUEST');
      }
      // The list shows an approver only what their roles may approve, whatever the filter asks for.
      const page = (await call('approval-queue', '/api/v1/approvals?role=service-owner', { headers: bob })).body as {
        items: unknown[];
      };
      expect(page.items).toEqual([]);
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });

    it('refuses cross-tenant access: acting, reading decisions, listing, auditing', async () => {
      const other = bearer(await stack.token('oscar', ['service-owner', 'auditor'], { tenants: ['initech'] }));
      expectRefusal(await approve(pending.data.job_id, other), 403, 'TENANT_NOT_ALLOWED');
      const decisions = await call('approval-queue', `/api/v1/jobs/${pending.data.job_id}/decisions`, {
        headers: other,
      });
      expectRefusal(decisions, null);
      expect(JSON.stringify(decisions.body)).not.toContain('checkout-v2');
      const page = (await call('approval-queue', '/api/v1/approvals?tenant=globex', { headers: other })).body as {
        items: unknown[];
      };
      expect(page.items).toEqual([]);
      const timeline = await call('audit', `/api/v1/jobs/${pending.data.job_id}/timeline`, { headers: other });
      expect(timeline.status).toBeGreaterThanOrEqual(400);
      expect(timeline.status).toBeLessThan(500);
      expect(JSON.stringify(timeline.body)).not.toContain('checkout-v2');
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });
  });

  describe('bodies', () => {
    it(`answers a body over MAX_BODY_BYTES (${MAX_BODY_BYTES}) with 413 naming the limit`, async () => {
      const big = JSON.stringify({ reason: 'x', note: 'y'.repeat(MAX_BODY_BYTES) });
      const a = await approve(pending.data.job_id, bearer(await stack.token('bob', ['service-owner'])), big);
      expectRefusal(a, 413, 'PAYLOAD_TOO_LARGE');
      expect((a.body as { error: { message: string } }).error.message).toBe(
        `request body is ${Buffer.byteLength(big)} bytes, over the ${MAX_BODY_BYTES}-byte limit (MAX_BODY_BYTES)`,
      );
      const evaluate = await call('policy-decision', '/api/v1/policy/evaluate', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(await stack.token('olivia', ['operator'])) },
        body: big,
      });
      expectRefusal(evaluate, 413, 'PAYLOAD_TOO_LARGE');
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });

    it('answers NUL characters and lone surrogates in a body with 400 naming the field', async () => {
      const bob = bearer(await stack.token('bob', ['service-owner']));
      for (const reason of ['nul \u0000 here', 'lone \ud800 surrogate']) {
        const a = await approve(pending.data.job_id, bob, { reason });
        expectRefusal(a, 400, 'INVALID_REQUEST');
        expect(a.body).toMatchObject({ error: { field: 'reason' } });
      }
      const evaluate = await call('policy-decision', '/api/v1/policy/evaluate', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(await stack.token('olivia', ['operator'])) },
        body: JSON.stringify({
          job_id: 'j-1',
          tenant: 'globex',
          agent_id: 'a',
          topic: 'job.repo.read',
          risk_tags: [],
          payload: { s: 'x\ud800' },
        }),
      });
      expectRefusal(evaluate, 400, 'INVALID_REQUEST');
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });

    it(`answers ${RUNS} fuzzed bodies per route with a 4xx and the JSON error shape, never a 5xx`, async () => {
      // A role that may not approve: a body that happens to be valid must not resolve anything.
      const viewer = bearer(await stack.token('mallory', ['viewer']));
      const body = fc.oneof(
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
        fc
          .record({
            reason: fc.oneof(fc.constantFrom(...SQL), fc.string({ maxLength: 600 }), fc.jsonValue({ maxDepth: 2 })),
            note: fc.option(fc.constantFrom(...SQL)),
          })
          .map((v) => JSON.stringify(v)),
        fc.integer({ min: 101, max: 400 }).map((d) => `{"reason":${'['.repeat(d)}${']'.repeat(d)}}`),
        fc.constantFrom(
          '{',
          '{"reason":',
          '[1,2',
          'null',
          '""',
          '{"reason":"\\ud800"}',
          '{"__proto__":{"admin":true},"reason":"x"}',
        ),
      );
      const path = fc.oneof(
        fc.constant(pending.data.job_id),
        fc.constantFrom(...SQL),
        fc.string({ minLength: 1, maxLength: 300 }),
      );
      const samples = fc.sample(fc.tuple(fc.constantFrom('approve', 'reject'), path, body), {
        seed: SEED,
        numRuns: RUNS,
      });
      const statuses = new Map<number, number>();
      for (const [action, jobId, text] of samples) {
        const a = await call('approval-queue', `/api/v1/approvals/${encodeURIComponent(jobId)}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...viewer },
          body: text,
        });
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        expect({ seed: SEED, action, jobId, text, status: a.status < 500 }).toEqual({
          seed: SEED,
          action,
          jobId,
          text,
          status: true,
        });
        expectRefusal(a, null);
      }
      const evaluations = fc.sample(body, { seed: SEED + 1, numRuns: RUNS });
      const operator = bearer(await stack.token('olivia', ['operator']));
      for (const text of evaluations) {
        const a = await call('policy-decision', '/api/v1/policy/evaluate', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...operator },
          body: text,
        });
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        expect({ seed: SEED, text, status: a.status < 500 }).toEqual({ seed: SEED, text, status: true });
        if (a.status !== 200) expectRefusal(a, null);
      }
      process.stdout.write(`REST body fuzz seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
      expect((await stillPending(pending))?.approvals).toEqual([]);
    });
  });

  describe('query strings and paths', () => {
    it(`answers ${RUNS} fuzzed query strings and path segments per service with 200 or a 4xx, never a 5xx`, async () => {
      const reviewer = bearer(await stack.token('bob', ['service-owner', 'auditor']));
      const value = fc.oneof(
        fc.constantFrom(...SQL),
        fc.string({ maxLength: 100 }),
        fc.constantFrom(
          '%00',
          '%E0%A4%A',
          '%ud800',
          '-1',
          '0',
          '1e9',
          '99999999999999999999',
          'true',
          '[]',
          '{}',
          'x'.repeat(3000),
        ),
      );
      const param = fc.constantFrom(
        'include_resolved',
        'tenant',
        'topic',
        'risk_tag',
        'role',
        'rule_id',
        'limit',
        'cursor',
        'window',
        'from_seq',
        'to_seq',
        'job_id',
        'event_type',
        'since',
        'until',
        'x',
      );
      // Values are sent raw (percent-escapes and all), some params twice or with brackets.
      const query = fc
        .array(fc.tuple(param, value, fc.constantFrom('', '[]', '[a]')), { minLength: 1, maxLength: 4 })
        .map((ps) => ps.map(([k, v, b]) => `${k}${b}=${/^%|^[\w.-]*$/.test(v) ? v : encodeURIComponent(v)}`).join('&'));
      const routes: [ServiceName, string][] = [
        ['approval-queue', '/api/v1/approvals'],
        ['approval-queue', '/api/v1/approvals/stats'],
        ['audit', '/api/v1/audit'],
        ['audit', '/api/v1/audit/verify'],
        ['audit', '/api/v1/audit/export'],
      ];
      const statuses = new Map<number, number>();
      for (const [q, [service, path]] of fc.sample(fc.tuple(query, fc.constantFrom(...routes)), {
        seed: SEED + 2,
        numRuns: RUNS * 2,
      })) {
        const a = await call(service, `${path}?${q}`, { headers: reviewer });
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        expect({ seed: SEED, url: `${path}?${q}`, status: a.status < 500 }).toEqual({
          seed: SEED,
          url: `${path}?${q}`,
          status: true,
        });
        if (a.status >= 400) expectRefusal(a, null);
      }
      const segment = fc.oneof(
        fc.constantFrom(...SQL),
        fc.string({ minLength: 1, maxLength: 300 }),
        fc.constantFrom('%00', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', '%2e%2e'),
      );
      const pathRoutes: [ServiceName, (s: string) => string][] = [
        ['approval-queue', (s) => `/api/v1/jobs/${s}/decisions`],
        ['execution-binding', (s) => `/api/v1/jobs/${s}/state`],
        ['audit', (s) => `/api/v1/jobs/${s}/timeline`],
        ['audit', (s) => `/api/v1/policy/snapshots/${s}`],
        ['policy-decision', (s) => `/api/v1/policy/snapshots/${s}`],
      ];
      for (const [s, [service, route]] of fc.sample(fc.tuple(segment, fc.constantFrom(...pathRoutes)), {
        seed: SEED + 3,
        numRuns: RUNS * 2,
      })) {
        const url = route(/^%|^\.\./.test(s) ? s : encodeURIComponent(s));
        const a = await call(service, url, { headers: reviewer });
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        expect({ seed: SEED, service, url, status: a.status < 500 }).toEqual({
          seed: SEED,
          service,
          url,
          status: true,
        });
        if (a.status >= 400) expectRefusal(a, null);
      }
      process.stdout.write(
        `REST query/path fuzz seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
      );
    });
  });

  describe('afterwards', () => {
    it('after all of it: every service answers, the queue is intact and a normal job still goes through', async () => {
      expect(await stack.allReady()).toEqual(ALL_READY);
      expect((await stillPending(pending))?.approvals).toEqual([]);
      const p = gatedJob();
      await queued(p);
      allowed.add(p.data.job_id);
      const ok = await approve(p.data.job_id, bearer(await stack.token('bob', ['service-owner'])));
      expect(ok.status).toBe(200);
      expect((await stack.outcome(p.data.job_id)).topic).toBe(Topics.JobExecuted);
      expect(stack.callsFor(p.data.job_id)).toHaveLength(1);
      expect(stack.calls.filter((c) => !allowed.has(c.jobId))).toEqual([]);
    });
  });
});
