import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAPIResponseValidator from 'openapi-response-validator';
import { Topics } from '@countersign/contracts';
import { mintToken, waitUntil } from '@countersign/testkit';
import { KafkaProbe, publishRaw } from '../support/kafka-probe';
import { proposal } from '../support/fixtures';
import {
  ROOT,
  SERVICE_NAMES,
  createTestStack,
  makeTestKeys,
  startServices,
  type ServiceHandle,
  type ServiceName,
  type TestKeys,
} from '../support/stack';
import { stopSpecStack } from '../support/teardown';

interface Operation {
  responses: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
}
type Method = 'GET' | 'POST';
interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** The validator of OpenAPI documents, run through its own CLI (an ES module Jest cannot load). */
const VALIDATE_API = join(ROOT, 'node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js');

/** Every endpoint each service documents today: a route added without its schemas shows up here. */
const ENDPOINTS: Record<ServiceName, string[]> = {
  'policy-decision': [
    'POST /api/v1/policy/evaluate',
    'GET /api/v1/policy/snapshots',
    'GET /api/v1/policy/snapshots/{id}',
  ],
  'approval-queue': [
    'GET /api/v1/approvals',
    'POST /api/v1/approvals/{job_id}/approve',
    'POST /api/v1/approvals/{job_id}/reject',
    'GET /api/v1/jobs/{job_id}/decisions',
    'GET /api/v1/approvals/stats',
    'GET /api/v1/ui-config',
  ],
  'execution-binding': ['GET /api/v1/jobs/{job_id}/state', 'POST /api/v1/jobs/{job_id}/report'],
  audit: [
    'GET /api/v1/audit',
    'GET /api/v1/audit/verify',
    'GET /api/v1/audit/export',
    'GET /api/v1/jobs/{job_id}/timeline',
    'GET /api/v1/policy/snapshots/{id}',
  ],
};

/**
 * The four services' served OpenAPI documents are valid OpenAPI (checked by a real validator from
 * the npm registry), and real answers of every endpoint, successes and errors, match the schema the
 * document gives for their status.
 */
describe('the OpenAPI documents, against the running stack', () => {
  const services = new Map<ServiceName, ServiceHandle>();
  const documents = new Map<ServiceName, OpenApiDocument>();
  /** `<service> <METHOD> <path> <status>` of every answer validated. */
  const validated = new Set<string>();
  const probe = new KafkaProbe();
  let keys: TestKeys;

  const token = (sub: string, roles: string[]) => mintToken(keys.jwtSecret, { sub, roles });

  /**
   * openapi-response-validator compiles with Ajv's draft-07, where `exclusiveMinimum` is a number;
   * OpenAPI 3.0 schemas write it as draft-04's boolean beside `minimum`: the same bound, translated.
   */
  function draft7<T>(schema: T): T {
    const copy = structuredClone(schema);
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (typeof node !== 'object' || node === null) return;
      const o = node as Record<string, unknown>;
      for (const [flag, bound] of [
        ['exclusiveMinimum', 'minimum'],
        ['exclusiveMaximum', 'maximum'],
      ] as const) {
        if (typeof o[flag] !== 'boolean') continue;
        if (o[flag] === true) o[flag] = o[bound];
        else delete o[flag];
        if (o[flag] !== undefined) delete o[bound];
      }
      Object.values(o).forEach(walk);
    };
    walk(copy);
    return copy;
  }

  /** Calls `path` (an OpenAPI path template) and validates the answer against the served document. */
  async function call(
    service: ServiceName,
    method: Method,
    path: string,
    opts: { params?: Record<string, string>; query?: Record<string, string>; roles?: string[]; body?: unknown } = {},
  ): Promise<Answer> {
    const concrete = path.replace(/\{([a-z_]+)\}/g, (_, name: string) => encodeURIComponent(opts.params?.[name] ?? ''));
    const url = new URL(concrete, services.get(service)!.url);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (opts.roles) headers['authorization'] = `Bearer ${token('olivia', opts.roles)}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const body = (await res.json()) as Record<string, unknown>;
    const operation = documents.get(service)!.paths[path]?.[method.toLowerCase()];
    const where = `${service} ${method} ${path} ${res.status}`;
    expect({ where, documented: Object.keys(operation?.responses ?? {}) }).toEqual({
      where,
      documented: expect.arrayContaining([String(res.status)]),
    });
    const validator = new OpenAPIResponseValidator({
      responses: draft7(operation!.responses) as never,
      components: draft7(documents.get(service)!.components ?? {}) as never,
    });
    const problems = validator.validateResponse(res.status, structuredClone(body));
    expect({ where, body, problems }).toEqual({ where, body, problems: undefined });
    validated.add(where);
    return { status: res.status, body };
  }

  beforeAll(async () => {
    keys = makeTestKeys();
    const dir = mkdtempSync(join(tmpdir(), 'cs-openapi-'));
    mkdirSync(join(dir, 'policies'));
    cpSync(join(ROOT, 'policies', 'system.yaml'), join(dir, 'policies', 'system.yaml'));
    const executors = join(dir, 'executors.yaml');
    writeFileSync(
      executors,
      ['executors:', '  - name: agent', '    kind: release', '    match: ["**"]', '    grant_ttl_sec: 300'].join('\n'),
    );
    const stack = await createTestStack('openapi', keys);
    await probe.start([Topics.JobReleased]);
    const env = { POLICY_DIR: join(dir, 'policies'), EXECUTORS_FILE: executors };
    const started = await startServices(stack, env);
    for (const s of started) services.set(s.name, s);
  }, 240000);

  afterAll(async () => {
    await stopSpecStack(services.values(), probe);
  });

  it('serves a valid OpenAPI document in every service, listing its endpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-openapi-docs-'));
    for (const name of SERVICE_NAMES) {
      const res = await fetch(`${services.get(name)!.url}/api/docs/openapi.json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as OpenApiDocument;
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(doc));
      let report: string;
      try {
        report = execFileSync(process.execPath, [VALIDATE_API, file], { encoding: 'utf8' });
      } catch (e) {
        report = String((e as { stdout?: string }).stdout ?? e);
      }
      expect({ name, report: JSON.parse(report) as unknown }).toEqual({ name, report: { valid: true } });
      expect(doc.openapi).toMatch(/^3\.0\./);
      const endpoints = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(endpoints.sort()).toEqual([...ENDPOINTS[name]].sort());
      documents.set(name, doc);
    }
  });

  it('policy-decision answers as documented', async () => {
    const job = proposal({ topic: 'job.config.update', risk_tags: ['prod', 'write'] }).data;
    const evaluate = { job_id: job.job_id, tenant: job.tenant, agent_id: job.agent_id, topic: job.topic };
    const body = { ...evaluate, risk_tags: job.risk_tags, payload: job.payload, summary: job.summary };
    const ops = ['operator'];
    expect((await call('policy-decision', 'POST', '/api/v1/policy/evaluate', { roles: ops, body })).status).toBe(200);
    expect(
      (await call('policy-decision', 'POST', '/api/v1/policy/evaluate', { roles: ops, body: evaluate })).status,
    ).toBe(400);
    expect((await call('policy-decision', 'POST', '/api/v1/policy/evaluate', { body })).status).toBe(401);
    expect((await call('policy-decision', 'POST', '/api/v1/policy/evaluate', { roles: ['agent'], body })).status).toBe(
      403,
    );
    const list = await call('policy-decision', 'GET', '/api/v1/policy/snapshots', { roles: ops });
    expect(list.status).toBe(200);
    const id = (list.body['snapshots'] as { snapshot_id: string }[])[0]!.snapshot_id;
    const snapshot = '/api/v1/policy/snapshots/{id}';
    expect((await call('policy-decision', 'GET', snapshot, { roles: ops, params: { id } })).status).toBe(200);
    const unknown = `cfg:system:policy#sha256:${'0'.repeat(64)}`;
    expect((await call('policy-decision', 'GET', snapshot, { roles: ops, params: { id: unknown } })).status).toBe(404);
    expect((await call('policy-decision', 'GET', snapshot, { roles: ops, params: { id: 'nope' } })).status).toBe(400);
  });

  it('approval-queue, execution-binding and audit answer as documented along a job', async () => {
    const reviewer = ['service-owner'];
    const approved = proposal({ tenant: 'globex', topic: 'job.config.update', risk_tags: ['prod', 'write'] });
    const rejected = proposal({ tenant: 'globex', topic: 'job.config.update', risk_tags: ['prod', 'write'] });
    const jobId = approved.data.job_id;
    for (const e of [approved, rejected]) await publishRaw(Topics.JobProposed, e.data.job_id, JSON.stringify(e));
    await waitUntil(
      async () => {
        const page = await call('approval-queue', 'GET', '/api/v1/approvals', {
          roles: reviewer,
          query: { limit: '200' },
        });
        const ids = (page.body['items'] as { job: { id: string } }[]).map((i) => i.job.id);
        return ids.includes(jobId) && ids.includes(rejected.data.job_id) ? true : undefined;
      },
      { what: 'both jobs pending', timeout: 30_000 },
    );

    // approval-queue
    const aq = 'approval-queue';
    const approve = '/api/v1/approvals/{job_id}/approve';
    const reject = '/api/v1/approvals/{job_id}/reject';
    const decisions = '/api/v1/jobs/{job_id}/decisions';
    expect((await call(aq, 'GET', '/api/v1/approvals', { roles: reviewer, query: { limit: '0' } })).status).toBe(400);
    expect((await call(aq, 'GET', '/api/v1/approvals')).status).toBe(401);
    expect((await call(aq, 'GET', '/api/v1/ui-config')).status).toBe(200); // public: the page reads it before sign-in
    const intern = { roles: ['intern'], params: { job_id: rejected.data.job_id }, body: {} };
    expect((await call(aq, 'POST', approve, intern)).status).toBe(403);
    const first = await call(aq, 'POST', approve, { roles: reviewer, params: { job_id: jobId }, body: {} });
    expect(first.status).toBe(200); // the token subject is olivia, not the requester
    const again = await call(aq, 'POST', approve, { roles: reviewer, params: { job_id: jobId }, body: {} });
    expect(again.status).toBe(409);
    expect(
      (await call(aq, 'POST', approve, { roles: reviewer, params: { job_id: 'no-such-job' }, body: {} })).status,
    ).toBe(404);
    const rejectedId = rejected.data.job_id;
    expect((await call(aq, 'POST', reject, { roles: reviewer, params: { job_id: rejectedId }, body: {} })).status).toBe(
      400,
    );
    const no = await call(aq, 'POST', reject, {
      roles: reviewer,
      params: { job_id: rejectedId },
      body: { reason: 'not now' },
    });
    expect(no.status).toBe(200);
    expect((await call(aq, 'GET', decisions, { roles: reviewer, params: { job_id: jobId } })).status).toBe(200);
    expect((await call(aq, 'GET', decisions, { roles: reviewer, params: { job_id: 'no-such-job' } })).status).toBe(404);
    expect(
      (await call(aq, 'GET', '/api/v1/approvals/stats', { roles: reviewer, query: { window: '24h' } })).status,
    ).toBe(200);
    expect(
      (await call(aq, 'GET', '/api/v1/approvals/stats', { roles: reviewer, query: { window: 'soon' } })).status,
    ).toBe(400);

    // execution-binding: the approved job is released to its agent, which reports back with the grant
    const eb = 'execution-binding';
    const state = '/api/v1/jobs/{job_id}/state';
    const report = '/api/v1/jobs/{job_id}/report';
    const grant = (await probe.waitForJob(Topics.JobReleased, jobId, 60000)).json!;
    const operator = ['operator'];
    expect((await call(eb, 'GET', state, { roles: operator, params: { job_id: jobId } })).status).toBe(200);
    expect((await call(eb, 'GET', state, { params: { job_id: jobId } })).status).toBe(401);
    expect((await call(eb, 'GET', state, { roles: ['agent'], params: { job_id: jobId } })).status).toBe(403);
    expect((await call(eb, 'GET', state, { roles: operator, params: { job_id: 'no-such-job' } })).status).toBe(404);
    expect((await call(eb, 'GET', state, { roles: operator, params: { job_id: 'not an id!' } })).status).toBe(400);
    const outcome = { grant, status: 'SUCCEEDED', result: { done: true } };
    expect((await call(eb, 'POST', report, { params: { job_id: jobId }, body: outcome })).status).toBe(200);
    const repeated = await call(eb, 'POST', report, { params: { job_id: jobId }, body: outcome });
    expect(repeated.body['recorded']).toBe(false);
    const other = { grant, status: 'FAILED', error: 'changed my mind' };
    expect((await call(eb, 'POST', report, { params: { job_id: jobId }, body: other })).status).toBe(409);
    expect((await call(eb, 'POST', report, { params: { job_id: rejectedId }, body: outcome })).status).toBe(403);
    expect(
      (await call(eb, 'POST', report, { params: { job_id: jobId }, body: { ...outcome, grant: {} } })).status,
    ).toBe(400);
    expect((await call(eb, 'GET', state, { roles: operator, params: { job_id: jobId } })).status).toBe(200);

    // audit: the job's records, the chain and the policy that decided it
    const auditor = ['auditor'];
    const timeline = '/api/v1/jobs/{job_id}/timeline';
    const executed = await waitUntil(
      async () => {
        const t = await call('audit', 'GET', timeline, { roles: auditor, params: { job_id: jobId } });
        return t.status === 200 && t.body['outcome'] === 'executed' ? t : undefined;
      },
      { what: 'the executed job in the audit timeline', timeout: 30_000 },
    );
    expect((await call('audit', 'GET', timeline, { roles: auditor, params: { job_id: 'no-such-job' } })).status).toBe(
      404,
    );
    expect((await call('audit', 'GET', timeline, { params: { job_id: jobId } })).status).toBe(401);
    expect((await call('audit', 'GET', timeline, { roles: operator, params: { job_id: jobId } })).status).toBe(403);
    const page = await call('audit', 'GET', '/api/v1/audit', { roles: auditor, query: { job_id: jobId, limit: '2' } });
    expect(page.status).toBe(200);
    expect(page.body['next_cursor']).toEqual(expect.any(String));
    const next = { job_id: jobId, limit: '2', cursor: page.body['next_cursor'] as string };
    expect((await call('audit', 'GET', '/api/v1/audit', { roles: auditor, query: next })).status).toBe(200);
    expect((await call('audit', 'GET', '/api/v1/audit', { roles: auditor, query: { limit: '0' } })).status).toBe(400);
    expect((await call('audit', 'GET', '/api/v1/audit/verify', { roles: auditor })).status).toBe(200);
    const backwards = { from_seq: '5', to_seq: '2' };
    expect((await call('audit', 'GET', '/api/v1/audit/verify', { roles: auditor, query: backwards })).status).toBe(400);
    const snapshot = '/api/v1/policy/snapshots/{id}';
    const id = executed.body['policy_snapshot'] as string;
    expect((await call('audit', 'GET', snapshot, { roles: auditor, params: { id } })).status).toBe(200);
    const unknown = `cfg:system:policy#sha256:${'0'.repeat(64)}`;
    expect((await call('audit', 'GET', snapshot, { roles: auditor, params: { id: unknown } })).status).toBe(404);

    // The export is NDJSON: each line is one record as the list endpoint documents it.
    const exportUrl = new URL('/api/v1/audit/export', services.get('audit')!.url);
    exportUrl.searchParams.set('job_id', jobId);
    const res = await fetch(exportUrl, { headers: { authorization: `Bearer ${token('olivia', auditor)}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/ndjson/);
    const lines = (await res.text()).split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(2);
    const listed = documents.get('audit')!.paths['/api/v1/audit']!['get']!.responses['200'] as {
      content: { 'application/json': { schema: { properties: { items: { items: unknown } } } } };
    };
    const recordSchema = listed.content['application/json'].schema.properties.items.items;
    for (const line of lines) {
      const validator = new OpenAPIResponseValidator({
        responses: { 200: { schema: draft7(recordSchema) as never } },
      });
      expect(validator.validateResponse(200, JSON.parse(line))).toBeUndefined();
    }
    validated.add('audit GET /api/v1/audit/export 200');
  }, 180000);

  it('checked a success answer of every documented endpoint', () => {
    for (const name of SERVICE_NAMES) {
      for (const endpoint of ENDPOINTS[name]) {
        expect([...validated]).toEqual(expect.arrayContaining([`${name} ${endpoint} 200`]));
      }
    }
  });
});
