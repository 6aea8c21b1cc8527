import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EventSchemas, Topics, dlqTopic, exampleEvents, type DlqRecord, type Topic } from '@countersign/contracts';
import {
  canonicalJson,
  generateSigningKeyPair,
  jobHash,
  policySnapshotId,
  sha256Hex,
  signEvent,
  signerFromPem,
  type Signer,
} from '@countersign/crypto';
import { mintToken, waitUntil } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import { KafkaProbe, closePublisher, publishRaw, type ProbedMessage } from '../../../test/support/kafka-probe';
import {
  dropDatabase,
  KAFKA_BROKERS,
  ROOT,
  createTestDatabase,
  freePort,
  makeTestKeys,
  startService,
  type KeyOwner,
  type ServiceHandle,
} from '../../../test/support/stack';

const at = () => new Date().toISOString();
const hash = sha256Hex('job');

// Keys for the whole file: the events below are signed as their producers sign them.
const keys = makeTestKeys();
const signerOf = (who: KeyOwner): Signer => signerFromPem(keys.pems[who].privateKeyPem);

function envelope<T extends Topic>(type: T, data: Record<string, unknown>, by?: KeyOwner) {
  const event = {
    event_id: randomUUID(),
    type,
    schema_version: 1,
    occurred_at: at(),
    producer: by ?? 'test',
    data,
  };
  const checked = EventSchemas[type].safeParse(event);
  if (!checked.success) throw new Error(`test fixture ${type} is invalid: ${checked.error.message}`);
  return (by ? signEvent(event, signerOf(by)) : event) as { event_id: string; type: T; data: Record<string, unknown> };
}

describe('audit: the hash-chained trail on Kafka and Postgres', () => {
  let svc: ServiceHandle;
  let db: string;
  let pg: Client;
  const probe = new KafkaProbe();
  const auditor = () => mintToken(keys.jwtSecret, { sub: 'carol@acme.test', roles: ['auditor'] });
  /** Until every record's audit.recorded event has left the outbox. */
  const outboxDrained = () =>
    waitUntil(
      async () => {
        const r = await pg.query(`SELECT count(*)::int AS n FROM audit.outbox WHERE published_at IS NULL`);
        return (r.rows[0] as { n: number }).n === 0;
      },
      { what: 'the outbox to drain', timeout: 60_000 },
    );

  const jobId = `job-audit-${randomUUID()}`;
  const blockedJobId = `job-audit-blocked-${randomUUID()}`;
  const document = {
    version: 1,
    rules: [
      { id: 'prod-write-gate', match: { topics: ['job.**'], risk_tags: ['prod'] }, decision: 'require_approval' },
    ],
    marker: randomUUID(),
  };
  const snapshot = policySnapshotId({ kind: 'system' }, document);
  const summary = {
    title: 'Turn on feature x',
    why: 'Production writes need a human',
    next_effect: 'Waits for 1 approval',
  };

  const events = [
    envelope(Topics.PolicyActivated, {
      snapshot_id: snapshot,
      scope: 'system',
      document,
      previous_snapshot_id: null,
      activated_at: at(),
    }),
    proposal({
      job_id: jobId,
      tenant: 'acme',
      payload: { key: 'feature.x', value: true, credentials: { api_key: 'sk-live-do-not-keep', region: 'eu' } },
    }),
    envelope(
      Topics.DecisionMade,
      {
        job_id: jobId,
        tenant: 'acme',
        decision: 'REQUIRE_APPROVAL',
        policy_snapshot: snapshot,
        policy_rule_id: 'prod-write-gate',
        policy_reason: 'Production writes need a human',
        matched_rules: ['prod-write-gate'],
        job_hash: hash,
        constraints: {},
        approval: exampleEvents['decision.made'].data.approval,
        decision_summary: summary,
        decided_at: at(),
      },
      'policy-decision',
    ),
    envelope(
      Topics.ApprovalEscalated,
      {
        job_id: jobId,
        tenant: 'acme',
        escalation_roles: ['on-call-lead'],
        due_at: at(),
        approvals_so_far: 0,
        approvals_required: 1,
        decision_summary: summary,
        escalated_at: at(),
      },
      'approval-queue',
    ),
    envelope(
      Topics.ApprovalResolved,
      {
        job_id: jobId,
        tenant: 'acme',
        resolution: 'APPROVED',
        job_hash: hash,
        policy_snapshot: snapshot,
        approvals: [
          {
            actor: 'bob@acme.test',
            role: 'service-owner',
            action: 'approve',
            reason: 'change window is open',
            note: null,
            at: at(),
          },
        ],
        resolved_by: 'bob@acme.test',
        resolved_comment: 'change window is open',
        resolved_at: at(),
      },
      'approval-queue',
    ),
    envelope(
      Topics.JobReleased,
      {
        job_id: jobId,
        tenant: 'acme',
        agent_id: 'agent-1',
        job_hash: hash,
        policy_snapshot: snapshot,
        constraints: {},
        released_at: at(),
        expires_at: at(),
      },
      'execution-binding',
    ),
    envelope(
      Topics.JobExecuted,
      {
        job_id: jobId,
        tenant: 'acme',
        job_hash: hash,
        executor: 'http',
        status: 'SUCCEEDED',
        error: null,
        attempts: 1,
        executed_at: at(),
      },
      'execution-binding',
    ),
    proposal({ job_id: blockedJobId, tenant: 'globex' }),
    envelope(
      Topics.JobBlocked,
      {
        job_id: blockedJobId,
        tenant: null,
        reason_code: 'DENIED',
        detail: 'policy denies',
        job_hash: null,
        reason_text: null,
        blocked_at: at(),
      },
      'execution-binding',
    ),
  ];
  const rejected: DlqRecord = {
    source_topic: Topics.ApprovalResolved,
    partition: 3,
    offset: String(Date.now()),
    consumer: 'execution-binding',
    error: 'does not match approval.resolved v1: data.resolution: Invalid option',
    issues: [{ path: 'data.resolution', message: 'Invalid option' }],
    key: jobId,
    value_base64: Buffer.from(
      JSON.stringify({ data: { job_id: jobId, tenant: 'acme', resolution: 'MAYBE' } }),
    ).toString('base64'),
    headers: {},
    failed_at: at(),
  };
  const malformed = Buffer.from([0x7b, 0xff, 0x00, 0x22, 0x6e, 0x6f, 0x74]);
  const malformedKey = `malformed-${randomUUID()}`;

  const api = async (path: string, token: string | null = auditor()) => {
    const res = await fetch(`${svc.url}${path}`, {
      headers: token !== null ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const verify = async (query = '') => (await api(`/api/v1/audit/verify${query}`)).body;
  const seqOf = async (eventId: string) =>
    Number(
      (
        (await pg.query(`SELECT seq FROM audit.audit_records WHERE source_event_id = $1`, [eventId])).rows[0] as {
          seq: string;
        }
      ).seq,
    );
  const asSuperuser = async (sql: string, params: unknown[] = []) => {
    await pg.query(`ALTER TABLE audit.audit_records DISABLE TRIGGER audit_records_append_only`);
    try {
      return await pg.query(sql, params);
    } finally {
      await pg.query(`ALTER TABLE audit.audit_records ENABLE TRIGGER audit_records_append_only`);
    }
  };

  beforeAll(async () => {
    // Per run, so a second run of this spec (another engineer's, in parallel) cannot drop it under this one.
    db = await createTestDatabase(`audit_trail_${process.pid}`);
    await probe.start([Topics.AuditRecorded]);
    svc = await startService('audit', { databaseUrl: db, keys });
    pg = new Client({ connectionString: db });
    pg.on('error', () => undefined);
    await pg.connect();

    // In story order, each recorded before the next, so the chain order is the story's order.
    const recorded = (e: { event_id: string }, n: number) => () =>
      svc.lines.filter((l) => l['msg'] === 'event recorded' && l['event_id'] === e.event_id).length >= n;
    const dlqKey = `dlq:${rejected.source_topic}:${rejected.partition}:${rejected.offset}:${rejected.consumer}`;
    const publishRejected = () => publishRaw(dlqTopic(Topics.ApprovalResolved), jobId, JSON.stringify(rejected));
    const publish = (e: (typeof events)[number]) =>
      publishRaw(e.type, (e.data['job_id'] as string | undefined) ?? e.type, JSON.stringify(e));
    for (const [i, e] of events.entries()) {
      if (i === 4) {
        await publishRejected();
        await waitUntil(
          async () =>
            (await pg.query(`SELECT 1 FROM audit.audit_records WHERE dedupe_key = $1`, [dlqKey])).rowCount === 1,
          { what: 'the DLQ record', timeout: 60_000 },
        );
      }
      await publish(e);
      await waitUntil(recorded(e, 1), { what: `${e.type} recorded`, timeout: 60_000 });
    }
    await publishRaw(dlqTopic(Topics.DecisionMade), malformedKey, malformed);

    // Everything again: a redelivery must not become a second record.
    for (const e of events) await publish(e);
    await publishRejected();
    for (const e of events)
      await waitUntil(recorded(e, 2), { what: `the second delivery of ${e.type}`, timeout: 60_000 });
    const dlqSeq = Number(
      (
        (await pg.query(`SELECT seq FROM audit.audit_records WHERE dedupe_key = $1`, [dlqKey])).rows[0] as {
          seq: string;
        }
      ).seq,
    );
    await waitUntil(
      () => svc.lines.filter((l) => l['msg'] === 'dlq message recorded' && l['seq'] === dlqSeq).length >= 2,
      { what: 'the second DLQ delivery', timeout: 60_000 },
    );
    await waitUntil(
      async () => {
        const r = await pg.query(
          `SELECT count(*)::int AS n FROM audit.audit_records WHERE event_type = 'rejected_input.malformed' AND body LIKE $1`,
          [`%${malformedKey}%`],
        );
        return (r.rows[0] as { n: number }).n === 1;
      },
      { what: 'the malformed DLQ message', timeout: 60_000 },
    );
  }, 180000);

  afterAll(async () => {
    await svc?.stop();
    await probe.stop();
    await closePublisher();
    await pg?.end();
    await dropDatabase(db);
  });

  it('records every event type exactly once, though each was delivered twice', async () => {
    const ids = events.map((e) => e.event_id);
    const r = await pg.query(
      `SELECT source_event_id, event_type, count(*)::int AS n FROM audit.audit_records WHERE source_event_id = ANY($1) GROUP BY 1, 2`,
      [ids],
    );
    const rows = r.rows as { source_event_id: string; event_type: string; n: number }[];
    expect(rows).toHaveLength(events.length);
    for (const row of rows) expect(row.n).toBe(1);
    expect(new Set(rows.map((x) => x.event_type))).toEqual(
      new Set([
        Topics.PolicyActivated,
        Topics.JobProposed,
        Topics.DecisionMade,
        Topics.ApprovalEscalated,
        Topics.ApprovalResolved,
        Topics.JobReleased,
        Topics.JobExecuted,
        Topics.JobBlocked,
      ]),
    );
  });

  it('records a DLQ message once as rejected input, and a malformed one with its raw bytes', async () => {
    const dlq = await pg.query(`SELECT body, job_id FROM audit.audit_records WHERE dedupe_key = $1`, [
      `dlq:${rejected.source_topic}:${rejected.partition}:${rejected.offset}:${rejected.consumer}`,
    ]);
    expect(dlq.rows).toHaveLength(1);
    expect(JSON.parse((dlq.rows[0] as { body: string }).body)).toEqual(rejected);
    expect((dlq.rows[0] as { job_id: string }).job_id).toBe(jobId);

    const bad = await pg.query(
      `SELECT body FROM audit.audit_records WHERE event_type = 'rejected_input.malformed' AND body LIKE $1`,
      [`%${malformedKey}%`],
    );
    const body = JSON.parse((bad.rows[0] as { body: string }).body) as DlqRecord;
    expect(body).toMatchObject({ source_topic: dlqTopic(Topics.DecisionMade), consumer: 'audit', key: malformedKey });
    expect(Buffer.from(body.value_base64!, 'base64')).toEqual(malformed);
  });

  it('links the records into a chain that verifies', async () => {
    const v = await verify();
    expect(v).toMatchObject({ ok: true });
    expect(v['checked']).toBeGreaterThanOrEqual(events.length + 2);
    const ranged = await verify(`?from_seq=${await seqOf(events[2]!.event_id)}`);
    expect(ranged).toMatchObject({ ok: true });
  });

  it('finds a record altered by a superuser at its exact seq, and accepts it once restored', async () => {
    const seq = await seqOf(events[2]!.event_id);
    const original = (
      (await pg.query(`SELECT body FROM audit.audit_records WHERE seq = $1`, [seq])).rows[0] as { body: string }
    ).body;
    await asSuperuser(
      `UPDATE audit.audit_records SET body = replace(body, 'REQUIRE_APPROVAL', 'ALLOW') WHERE seq = $1`,
      [seq],
    );
    try {
      expect(await verify()).toMatchObject({ ok: false, broken_seq: seq, reason: 'HASH_MISMATCH' });
    } finally {
      await asSuperuser(`UPDATE audit.audit_records SET body = $2 WHERE seq = $1`, [seq, original]);
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('finds a deleted record as a gap at its seq', async () => {
    const seq = await seqOf(events[6]!.event_id);
    const row = (await pg.query(`SELECT * FROM audit.audit_records WHERE seq = $1`, [seq])).rows[0] as Record<
      string,
      unknown
    >;
    await asSuperuser(`DELETE FROM audit.audit_records WHERE seq = $1`, [seq]);
    try {
      expect(await verify()).toMatchObject({ ok: false, broken_seq: seq, reason: 'GAP' });
    } finally {
      const cols = Object.keys(row);
      await pg.query(
        `INSERT INTO audit.audit_records (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((c) => row[c]),
      );
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it("refuses UPDATE, DELETE and TRUNCATE to the service's role, and to a superuser while the trigger is on", async () => {
    const privileges = await pg.query(
      `SELECT p, has_table_privilege('audit_writer', 'audit.audit_records', p) AS granted FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) AS p`,
    );
    expect(
      Object.fromEntries((privileges.rows as { p: string; granted: boolean }[]).map((r) => [r.p, r.granted])),
    ).toEqual({
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
    });
    for (const sql of [
      `UPDATE audit.audit_records SET tenant = 'x' WHERE seq = 1`,
      `DELETE FROM audit.audit_records WHERE seq = 1`,
      `TRUNCATE audit.audit_records`,
    ]) {
      await pg.query('BEGIN');
      try {
        await pg.query('SET LOCAL ROLE audit_writer');
        await expect(pg.query(sql)).rejects.toMatchObject({
          code: '42501',
          message: expect.stringMatching(/permission denied/),
        });
      } finally {
        await pg.query('ROLLBACK');
      }
      await pg.query('BEGIN');
      try {
        await expect(pg.query(sql)).rejects.toMatchObject({ message: expect.stringMatching(/append-only/) });
      } finally {
        await pg.query('ROLLBACK');
      }
    }
  });

  it('streams every record to audit.recorded, and an independent verifier recomputes the chain from it', async () => {
    await outboxDrained();
    const head = (await pg.query(`SELECT seq::int AS seq FROM audit.chain_head`)).rows[0] as { seq: number };

    // The standalone script, reading the topic from the beginning like a compliance consumer.
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'deploy/audit/verify-chain.cjs'), '--json', '--brokers', KAFKA_BROKERS],
      {
        encoding: 'utf8',
        timeout: 60000,
      },
    );
    const result = JSON.parse(run.stdout) as {
      ok: boolean;
      chains: { last_seq: number; last_hash: string }[];
      broken: unknown;
    };
    const mine = [];
    for (const c of result.chains) {
      const r = await pg.query(`SELECT record_hash FROM audit.audit_records WHERE seq = $1`, [c.last_seq]);
      if ((r.rows[0] as { record_hash: string } | undefined)?.record_hash === c.last_hash) mine.push(c);
    }
    expect(mine).toHaveLength(1);
    expect(mine[0]!.last_seq).toBeGreaterThanOrEqual(head.seq);

    // On the topic, per key, in seq order: one message per record, carrying the whole record. (Other
    // audit services on a shared broker publish their own chains: this one's are the hashes in its table.)
    const mineHashes = new Set(
      (
        (await pg.query(`SELECT record_hash FROM audit.audit_records WHERE job_id = $1`, [jobId])).rows as {
          record_hash: string;
        }[]
      ).map((r) => r.record_hash),
    );
    const isMine = (m: ProbedMessage) =>
      mineHashes.has((m.json?.['data'] as { record_hash?: string } | undefined)?.record_hash ?? '');
    await probe.waitFor(Topics.AuditRecorded, isMine, 30000, mineHashes.size);
    const ours = probe.find(Topics.AuditRecorded, isMine);
    const seqs = [...new Set(ours.map((m) => (m.json?.['data'] as { seq: number }).seq))];
    expect(seqs).toHaveLength(mineHashes.size);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(ours.every((m) => m.key === jobId)).toBe(true);
  });

  it('lets an export be verified offline, and shows where an exported record was altered', async () => {
    const res = await fetch(`${svc.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${auditor()}` } });
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const text = await res.text();
    const dir = mkdtempSync(join(tmpdir(), 'cs-audit-'));
    const file = join(dir, 'export.ndjson');
    writeFileSync(file, text);
    const ok = spawnSync(process.execPath, [join(ROOT, 'deploy/audit/verify-chain.cjs'), '--file', file], {
      encoding: 'utf8',
    });
    expect(ok.stdout).toMatch(/^ok: \d+ records verified \(last seq \d+\)/);
    expect(ok.status).toBe(0);

    const seq = await seqOf(events[4]!.event_id);
    const tampered = readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => (line.includes(`"seq":${seq},`) ? line.replace('change window is open', 'no reason given') : line))
      .join('\n');
    writeFileSync(file, tampered);
    const bad = spawnSync(process.execPath, [join(ROOT, 'deploy/audit/verify-chain.cjs'), '--file', file], {
      encoding: 'utf8',
    });
    expect(bad.stdout).toBe(`broken at seq ${seq}: HASH_MISMATCH (record_hash does not match the record)\n`);
    expect(bad.status).toBe(1);
  });

  it("tells a job's story in order, linked to the policy text of its snapshot", async () => {
    const { status, body } = await api(`/api/v1/jobs/${jobId}/timeline`);
    expect(status).toBe(200);
    // Services other engineers run on the shared broker react to these events too (decide, refuse the
    // test signature, block): their events join the job's story. The spec checks the ones it sent.
    const ids = new Set(events.map((e) => e.event_id));
    const steps = (body['steps'] as Record<string, unknown>[]).filter(
      (s) =>
        ids.has(s['event_id'] as string) ||
        (s['rejected_topic'] === rejected.source_topic && s['consumer'] === rejected.consumer),
    );
    expect(steps.map((s) => s['kind'])).toEqual([
      'proposed',
      'decided',
      'escalated',
      'rejected_input',
      'resolved',
      'released',
      'executed',
    ]);
    const all = (body['steps'] as { seq: number }[]).map((s) => s.seq);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(body).toMatchObject({ job_id: jobId, tenant: 'acme' });
    expect(['executed', 'blocked']).toContain(body['outcome']);
    expect(steps[1]).toMatchObject({
      decision: 'REQUIRE_APPROVAL',
      policy_rule_id: 'prod-write-gate',
      policy_snapshot: snapshot,
      signed: true,
    });
    expect(steps[4]).toMatchObject({
      resolution: 'APPROVED',
      approvals: [{ actor: 'bob@acme.test', reason: 'change window is open' }],
    });

    const policy = await api(steps[1]!['policy_url'] as string);
    expect(policy.status).toBe(200);
    expect(policy.body).toMatchObject({
      snapshot_id: snapshot,
      scope: 'system',
      document,
      matches_snapshot_id: true,
      document_sha256: sha256Hex(canonicalJson(document)),
    });

    const blocked = await api(`/api/v1/jobs/${blockedJobId}/timeline`);
    expect(blocked.body).toMatchObject({ outcome: 'blocked', tenant: 'globex' });
  });

  it('pages through records by seq with filters', async () => {
    const whole = (await api(`/api/v1/audit?job_id=${jobId}&limit=1000`)).body['items'] as {
      seq: number;
      source_event_id: string | null;
    }[];
    const first = await api(`/api/v1/audit?job_id=${jobId}&limit=3`);
    expect(first.status).toBe(200);
    const items = first.body['items'] as { seq: number }[];
    expect(items).toHaveLength(3);
    const rest = await api(`/api/v1/audit?job_id=${jobId}&limit=1000&cursor=${String(first.body['next_cursor'])}`);
    const paged = [...items, ...(rest.body['items'] as { seq: number }[])].map((r) => r.seq);
    expect(paged).toEqual(whole.map((r) => r.seq));
    expect(paged).toEqual([...paged].sort((a, b) => a - b));
    expect(rest.body['next_cursor']).toBeNull();
    const ids = new Set(events.map((e) => e.event_id));
    expect(whole.filter((r) => r.source_event_id !== null && ids.has(r.source_event_id))).toHaveLength(6);
    const typed = (await api(`/api/v1/audit?type=decision.made&job_id=${jobId}`)).body['items'] as {
      event_type: string;
      source_event_id: string;
    }[];
    expect(typed.every((r) => r.event_type === 'decision.made')).toBe(true);
    expect(typed.map((r) => r.source_event_id)).toContain(events[2]!.event_id);
    expect((await api(`/api/v1/audit?from=not-a-time`)).body).toMatchObject({
      error: { code: 'INVALID_REQUEST', field: 'from' },
    });
  });

  it('requires an auditor token, and a tenants claim limits what it sees', async () => {
    expect((await api('/api/v1/audit', null)).status).toBe(401);
    const approver = await api('/api/v1/audit', mintToken(keys.jwtSecret, { sub: 'bob', roles: ['approver'] }));
    expect(approver).toMatchObject({ status: 403, body: { error: { code: 'ROLE_NOT_ALLOWED' } } });
    expect(
      (
        await api(
          '/api/v1/audit',
          mintToken('wrong-secret-0123456789abcdef0123456789', { sub: 'x', roles: ['auditor'] }),
        )
      ).status,
    ).toBe(401);

    const globex = mintToken(keys.jwtSecret, { sub: 'gina', roles: ['auditor'], tenants: ['globex'] });
    expect((await api(`/api/v1/audit?job_id=${jobId}`, globex)).body['items']).toEqual([]);
    expect((await api(`/api/v1/jobs/${jobId}/timeline`, globex)).status).toBe(404);
    expect((await api(`/api/v1/jobs/${blockedJobId}/timeline`, globex)).status).toBe(200);
    const tenants = ((await api('/api/v1/audit?limit=1000', globex)).body['items'] as { tenant: string }[]).map(
      (r) => r.tenant,
    );
    expect(new Set(tenants)).toEqual(new Set(['globex']));
  });

  const recordOf = async (where: string, params: unknown[]) => {
    const r = await pg.query(
      `SELECT seq::int AS seq, kind, digest, signature, signature_reason, redaction, conflict, body, format
         FROM audit.audit_records WHERE ${where} ORDER BY seq`,
      params,
    );
    return r.rows as {
      seq: number;
      kind: string;
      digest: string;
      signature: string;
      signature_reason: string | null;
      redaction: string | null;
      conflict: string | null;
      body: string;
      format: number;
    }[];
  };
  /** Waits until `n` deliveries of `eventId` were handled (recorded or found recorded). */
  const handled = (eventId: string, n: number) =>
    waitUntil(() => svc.lines.filter((l) => l['msg'] === 'event recorded' && l['event_id'] === eventId).length >= n, {
      what: `${n} deliveries of ${eventId}`,
      timeout: 60_000,
    });

  it('verifies the signature of every signed event with its producer key, before redacting', async () => {
    const verdicts = new Map<string, string>();
    for (const e of events) verdicts.set(e.type, (await recordOf('source_event_id = $1', [e.event_id]))[0]!.signature);
    expect(Object.fromEntries(verdicts)).toEqual({
      [Topics.PolicyActivated]: 'unsigned',
      [Topics.JobProposed]: 'unsigned',
      [Topics.DecisionMade]: 'verified',
      [Topics.ApprovalEscalated]: 'verified',
      [Topics.ApprovalResolved]: 'verified',
      [Topics.JobReleased]: 'verified',
      [Topics.JobExecuted]: 'verified',
      [Topics.JobBlocked]: 'verified',
    });
  });

  it('records a forged, altered or unsigned decision.made with the verdict invalid and why', async () => {
    const forgedJob = `job-forged-${randomUUID()}`;
    const data = (decision: string) =>
      `{"job_id":"${forgedJob}","tenant":"acme","decision":"${decision}","policy_snapshot":"${snapshot}",` +
      `"policy_rule_id":"allow-all","policy_reason":"forged","matched_rules":[],"job_hash":"${hash}","constraints":{},` +
      `"approval":null,"decision_summary":{"title":"t","why":"w","next_effect":"n"},"decided_at":"${at()}"}`;
    const head = (id: string) =>
      `{"event_id":"${id}","type":"decision.made","schema_version":1,"occurred_at":"${at()}","producer":"policy-decision",`;
    // Signed by a key nobody trusts.
    const outsider = signerFromPem(generateSigningKeyPair().privateKeyPem);
    const forgedId = randomUUID();
    const forgedSig = signEvent(
      JSON.parse(`${head(forgedId)}"data":${data('ALLOW')}}`) as Record<string, unknown>,
      outsider,
    ).signature;
    const forged = `${head(forgedId)}"data":${data('ALLOW')},"signature":{"alg":"Ed25519","key_id":"${forgedSig.key_id}","value":"${forgedSig.value}"}}`;
    // Signed by policy-decision's real key over DENY, then the text edited to ALLOW.
    const alteredId = randomUUID();
    const genuine = signEvent(
      JSON.parse(`${head(alteredId)}"data":${data('DENY')}}`) as Record<string, unknown>,
      signerOf('policy-decision'),
    ).signature;
    const altered = `${head(alteredId)}"data":${data('ALLOW')},"signature":{"alg":"Ed25519","key_id":"${genuine.key_id}","value":"${genuine.value}"}}`;
    const unsignedId = randomUUID();
    const unsigned = `${head(unsignedId)}"data":${data('ALLOW')}}`;
    for (const text of [forged, altered, unsigned]) await publishRaw(Topics.DecisionMade, forgedJob, text);
    for (const id of [forgedId, alteredId, unsignedId]) await handled(id, 1);

    const verdict = async (id: string) => {
      const [r] = await recordOf('source_event_id = $1', [id]);
      return [r!.signature, r!.signature_reason];
    };
    expect(await verdict(forgedId)).toEqual(['invalid', `unknown signing key ${forgedSig.key_id}`]);
    expect(await verdict(alteredId)).toEqual(['invalid', 'signature does not verify']);
    expect(await verdict(unsignedId)).toEqual(['invalid', 'no signature']);

    // The timeline shows them as such, and a forged decision does not make the job "decided".
    const { body } = await api(`/api/v1/jobs/${forgedJob}/timeline`);
    const steps = body['steps'] as Record<string, unknown>[];
    expect(steps.map((x) => [x['kind'], x['signed'], x['signature']])).toEqual([
      ['decided', false, 'invalid'],
      ['decided', false, 'invalid'],
      ['decided', false, 'invalid'],
    ]);
    expect(body['outcome']).toBe('unknown');
    const story = spawnSync(process.execPath, ['-e', CLI_HARNESS, 'audit', 'timeline', forgedJob, '--url', svc.url], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, COUNTERSIGN_TOKEN: auditor() },
    });
    expect(story.stdout).toContain('decided ALLOW by rule allow-all (forged)');
    expect(story.stdout).toContain('[SIGNATURE INVALID: no signature]');
    expect(story.stdout).toContain('[SIGNATURE INVALID: signature does not verify]');
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('records a different body under a known event id as a conflict, and a redelivery of either as nothing', async () => {
    const first = events[4]!;
    const [original] = await recordOf('source_event_id = $1 AND kind = $2', [first.event_id, 'event']);
    const before = svc.lines.filter((l) => l['msg'] === 'event recorded' && l['event_id'] === first.event_id).length;
    // The genuine approval's id and signature, copied onto another job and a REJECTED resolution.
    const sig = (first as unknown as { signature: { key_id: string; value: string } }).signature;
    const other = `job-conflict-${randomUUID()}`;
    const conflicting =
      `{"event_id":"${first.event_id}","type":"approval.resolved","schema_version":1,"occurred_at":"${at()}",` +
      `"producer":"approval-queue","data":{"job_id":"${other}","tenant":"acme","resolution":"REJECTED",` +
      `"job_hash":"${hash}","policy_snapshot":"${snapshot}","approvals":[],"resolved_by":"mallory",` +
      `"resolved_comment":null,"resolved_at":"${at()}"},` +
      `"signature":{"alg":"Ed25519","key_id":"${sig.key_id}","value":"${sig.value}"}}`;
    await publishRaw(Topics.ApprovalResolved, other, conflicting);
    await publishRaw(Topics.ApprovalResolved, other, conflicting);
    await publishRaw(Topics.ApprovalResolved, jobId, JSON.stringify(first));
    await handled(first.event_id, before + 3);

    const all = await recordOf('source_event_id = $1', [first.event_id]);
    expect(all.map((r) => r.kind)).toEqual(['event', 'conflict']);
    const conflict = all[1]!;
    expect(JSON.parse(conflict.conflict!)).toEqual({ first_seq: original!.seq, first_digest: original!.digest });
    expect(conflict.digest).not.toBe(original!.digest);
    expect(conflict).toMatchObject({ signature: 'invalid', signature_reason: 'signature does not verify' });
    expect(JSON.parse(conflict.body)).toMatchObject({ data: { job_id: other, resolution: 'REJECTED' } });
    // The first record is untouched: the trail keeps the genuine approval as it was.
    expect(JSON.parse(all[0]!.body)).toMatchObject({ data: { job_id: jobId, resolution: 'APPROVED' } });

    // The conflict is in the other job's timeline, naming the first record.
    const { body } = await api(`/api/v1/jobs/${other}/timeline`);
    expect((body['steps'] as Record<string, unknown>[])[0]).toMatchObject({
      kind: 'resolved',
      signed: false,
      signature: 'invalid',
      conflict: { first_seq: original!.seq, first_digest: original!.digest, digest: conflict.digest },
    });
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('records a different DLQ record at known coordinates once as a conflict, without holding the partition', async () => {
    const key = `dlq:${rejected.source_topic}:${rejected.partition}:${rejected.offset}:${rejected.consumer}`;
    const [first] = await recordOf('dedupe_key = $1', [key]);
    // Same source coordinates and consumer, another error: hand-built text, sent twice.
    const text =
      `{"source_topic":"${rejected.source_topic}","partition":${rejected.partition},"offset":"${rejected.offset}",` +
      `"consumer":"${rejected.consumer}","error":"rewritten by someone on the broker","issues":[],"key":"${jobId}",` +
      `"value_base64":null,"headers":{},"failed_at":"${at()}"}`;
    const recordedLines = () => svc.lines.filter((l) => l['msg'] === 'dlq message recorded').length;
    const before = recordedLines();
    await publishRaw(dlqTopic(Topics.ApprovalResolved), jobId, text);
    await publishRaw(dlqTopic(Topics.ApprovalResolved), jobId, text);
    await waitUntil(() => recordedLines() >= before + 2, {
      what: 'both deliveries of the conflicting DLQ record',
      timeout: 60_000,
    });
    const conflicts = await recordOf('dedupe_key LIKE $1', [`conflict:${key}:%`]);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ kind: 'conflict', signature: 'unsigned' });
    expect(JSON.parse(conflicts[0]!.conflict!)).toEqual({ first_seq: first!.seq, first_digest: first!.digest });
    expect(svc.lines.filter((l) => l['msg'] === 'recording dlq message failed; retrying')).toEqual([]);
  });

  it("keeps a proposal's payload redacted, with the job_hash of the full payload", async () => {
    const p = events[1]!;
    const [r] = await recordOf('source_event_id = $1', [p.event_id]);
    expect(r!.body).not.toContain('sk-live-do-not-keep');
    expect((JSON.parse(r!.body) as { data: { payload: unknown } }).data.payload).toEqual({
      key: 'feature.x',
      value: true,
      credentials: { api_key: '[REDACTED]', region: 'eu' },
    });
    expect(JSON.parse(r!.redaction!)).toEqual({
      fields: ['credentials.api_key'],
      job_hash: jobHash(p.data as unknown as Parameters<typeof jobHash>[0]),
    });
    // The digest is of the message as sent, which the stored (redacted) body no longer is.
    const { trace: _t, ...sent } = p as unknown as Record<string, unknown>;
    expect(r!.digest).toBe(sha256Hex(canonicalJson(sent)));
    // And audit.recorded carries the redacted form too.
    const streamed = probe.find(
      Topics.AuditRecorded,
      (m) => (m.json?.['data'] as { seq?: number } | undefined)?.seq === r!.seq,
    );
    expect(JSON.stringify(streamed.map((m) => m.json))).not.toContain('sk-live-do-not-keep');
  });

  it('signs audit.recorded: a copy verifies with the public key alone, and fails when altered', async () => {
    await outboxDrained();
    const head = ((await pg.query(`SELECT seq::int AS seq, record_hash FROM audit.chain_head`)).rows[0] as {
      seq: number;
      record_hash: string;
    })!;
    const hashes = new Set(
      ((await pg.query(`SELECT record_hash FROM audit.audit_records`)).rows as { record_hash: string }[]).map(
        (r) => r.record_hash,
      ),
    );
    const isMine = (m: ProbedMessage) =>
      hashes.has((m.json?.['data'] as { record_hash?: string } | undefined)?.record_hash ?? '');
    await probe.waitFor(Topics.AuditRecorded, isMine, 30000, hashes.size);
    // The compliance copy: the events exactly as they came off the topic.
    const copy = probe
      .find(Topics.AuditRecorded, isMine)
      .map((m) => m.value!)
      .join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'cs-audit-copy-'));
    const file = join(dir, 'copy.ndjson');
    const pub = join(dir, 'audit.pub');
    writeFileSync(file, copy);
    writeFileSync(pub, keys.pems['audit'].publicKeyPem);
    const script = (f: string, key = pub) =>
      spawnSync(process.execPath, [join(ROOT, 'deploy/audit/verify-chain.cjs'), '--file', f, '--trust-key', key], {
        encoding: 'utf8',
      });
    const ok = script(file);
    expect(ok.stdout).toBe(
      `ok: ${head.seq} records verified (last seq ${head.seq}); signatures ${head.seq} verified\n`,
    );
    expect(ok.status).toBe(0);

    // Another audit key: nothing verifies.
    const otherPub = join(dir, 'other.pub');
    writeFileSync(otherPub, generateSigningKeyPair().publicKeyPem);
    expect(script(file, otherPub).stdout).toMatch(
      /^broken at seq 1: BAD_SIGNATURE \(unknown signing key [0-9a-f]{16}\)/,
    );

    // A record altered and re-hashed consistently (so the chain alone still links) fails its signature.
    const lines = copy.split('\n');
    const lastLine = lines.findIndex((l) => l.includes(`"seq":${head.seq},`));
    const rewritten = JSON.parse(lines[lastLine]!) as { data: Record<string, unknown> };
    rewritten.data['tenant'] = 'evil';
    const { record_hash: _h, ...rest } = rewritten.data;
    rewritten.data['record_hash'] = sha256Hex(canonicalJson(rest));
    const altered = join(dir, 'altered.ndjson');
    writeFileSync(altered, lines.map((l, i) => (i === lastLine ? JSON.stringify(rewritten) : l)).join('\n'));
    expect(script(altered).stdout).toBe(`broken at seq ${head.seq}: BAD_SIGNATURE (signature does not verify)\n`);
    // A record appended without audit's signature is an unsigned head.
    const unsignedTail = join(dir, 'unsigned.ndjson');
    const { signature: _s, ...stripped } = JSON.parse(lines[lastLine]!) as Record<string, unknown>;
    writeFileSync(unsignedTail, lines.map((l, i) => (i === lastLine ? JSON.stringify(stripped) : l)).join('\n'));
    expect(script(unsignedTail).stdout).toMatch(new RegExp(`^broken at seq ${head.seq}: UNSIGNED_HEAD`));

    // The CLI checks the same copy offline.
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ['-e', CLI_HARNESS, ...args], { cwd: ROOT, encoding: 'utf8', env: process.env });
    const cliOk = cli(['audit', 'verify', '--file', file, '--trust-key', pub]);
    expect(cliOk.stdout).toMatch(
      new RegExp(`^ok: ${head.seq} records verified \\(last seq ${head.seq}\\); signatures \\d+ verified\n`),
    );
    expect(cliOk.status).toBe(0);
    const cliBad = cli(['audit', 'verify', '--file', altered, '--trust-key', pub]);
    expect(cliBad.stdout).toBe(`broken at seq ${head.seq}: BAD_SIGNATURE (signature does not verify)\n`);
    expect(cliBad.status).toBe(1);
  });

  it('serves the CLI: verify, timeline and clear errors', async () => {
    const cli = (args: string[], token = auditor()) =>
      spawnSync(process.execPath, ['-e', CLI_HARNESS, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, COUNTERSIGN_TOKEN: token },
      });
    const ok = cli(['audit', 'verify', '--url', svc.url]);
    expect(ok.stdout).toMatch(/^ok: \d+ records verified/);
    expect(ok.status).toBe(0);
    const story = cli(['audit', 'timeline', jobId, '--url', svc.url]);
    expect(story.stdout).toMatch(new RegExp(`^job ${jobId} \\(tenant acme\\): (executed|blocked)\n`));
    expect(story.stdout).toContain('decided REQUIRE_APPROVAL by rule prod-write-gate');
    expect(story.stdout).toContain('bob@acme.test (service-owner) approve "change window is open"');
    const denied = cli(
      ['audit', 'verify', '--url', svc.url],
      mintToken(keys.jwtSecret, { sub: 'bob', roles: ['approver'] }),
    );
    expect(denied.stderr).toBe("countersign: 403 ROLE_NOT_ALLOWED: the audit trail needs the 'auditor' role\n");
    expect(denied.status).toBe(2);
    const closed = await freePort();
    const down = cli(['audit', 'verify', '--url', `http://127.0.0.1:${closed}`]);
    expect(down.stderr).toBe(
      `countersign: cannot reach the audit service at http://127.0.0.1:${closed}: ECONNREFUSED\n`,
    );
    expect(cli(['audit', 'verify'], '').stderr).toBe(
      'countersign: set COUNTERSIGN_TOKEN to a bearer token with the auditor role\n',
    );
  });
});

/** Runs the built `audit` command the way the CLI's entry point will (libs/cli/dist). */
const CLI_HARNESS = `
const { Command, CommanderError } = require('commander');
const { register } = require('./libs/cli/dist/commands/audit.command.js');
const ctx = { io: { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }, exitCode: 0 };
const program = new Command('countersign').exitOverride();
register(program, ctx);
program.parseAsync(process.argv.slice(1), { from: 'user' }).then(
  () => { process.exitCode = ctx.exitCode; },
  (e) => { if (!(e instanceof CommanderError)) process.stderr.write('countersign: ' + e.message + '\\n'); process.exitCode = e.exitCode ?? 1; },
);
`;
