import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Topics } from '@countersign/contracts';
import { canonicalJson, eventDigest, sha256Hex, signEvent, signerFromPem } from '@countersign/crypto';
import { mintToken, waitUntil } from '@countersign/testkit';
import { GENESIS_HASH, linkRecords } from '../src/records/core/hash-chain';
import { proposal } from '../../../test/support/fixtures';
import { closePublisher, publishRaw } from '../../../test/support/kafka-probe';
import {
  dropDatabase,
  ROOT,
  createTestDatabase,
  makeTestKeys,
  startService,
  type ServiceHandle,
} from '../../../test/support/stack';

/**
 * A trail written before format 2 (full bodies, no verdicts) keeps verifying after the upgrade, and
 * the new rules apply to it: a redelivery of an old event is a no-op, another body under its id a conflict.
 */
describe('audit: a format 1 trail upgraded to format 2', () => {
  const keys = makeTestKeys();
  let svc: ServiceHandle;
  let db: string;
  let pg: Client;
  const jobId = `job-upgrade-${randomUUID()}`;
  const old = proposal({ job_id: jobId, payload: { password: 'kept-by-format-1', target: 'db' } });
  const decision = signEvent(
    {
      event_id: randomUUID(),
      type: 'decision.made',
      schema_version: 1,
      occurred_at: new Date().toISOString(),
      producer: 'policy-decision',
      data: {
        job_id: jobId,
        tenant: 'acme',
        decision: 'ALLOW',
        policy_snapshot: `cfg:system:policy#sha256:${'a'.repeat(64)}`,
        policy_rule_id: 'r',
        policy_reason: 'ok',
        matched_rules: ['r'],
        job_hash: sha256Hex('x'),
        constraints: {},
        approval: null,
        decision_summary: { title: 't', why: 'w', next_effect: 'n' },
        decided_at: new Date().toISOString(),
      },
    },
    signerFromPem(keys.pems['policy-decision'].privateKeyPem),
  );
  const handled = (eventId: string, n: number) => () =>
    waitUntil(() => svc.lines.filter((l) => l['msg'] === 'event recorded' && l['event_id'] === eventId).length >= n, {
      what: `${eventId} recorded ${n} time(s)`,
      timeout: 60_000,
    });

  beforeAll(async () => {
    db = await createTestDatabase(`audit_upgrade_${process.pid}`);
    svc = await startService('audit', { databaseUrl: db, keys });
    pg = new Client({ connectionString: db });
    pg.on('error', () => undefined);
    await pg.connect();
    // The two records as the previous version wrote them: the whole event as body, no format 2 fields.
    const linked = linkRecords(
      { seq: 0, record_hash: GENESIS_HASH },
      [old, decision].map((e) => ({
        source_topic: e.type,
        source_event_id: e.event_id,
        event_type: e.type,
        job_id: jobId,
        tenant: 'acme',
        recorded_at: new Date().toISOString(),
        body: canonicalJson(e),
      })),
    );
    await pg.query('BEGIN');
    await pg.query(`SELECT 1 FROM audit.chain_head WHERE id = 1 FOR UPDATE`);
    for (const r of linked)
      await pg.query(
        `INSERT INTO audit.audit_records (seq, prev_hash, record_hash, dedupe_key, source_topic, source_event_id, event_type, job_id, tenant, recorded_at, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          r.seq,
          r.prev_hash,
          r.record_hash,
          `event:${r.source_topic}:${r.source_event_id}`,
          r.source_topic,
          r.source_event_id,
          r.event_type,
          r.job_id,
          r.tenant,
          r.recorded_at,
          r.body,
        ],
      );
    await pg.query(`UPDATE audit.chain_head SET seq = 2, record_hash = $1 WHERE id = 1`, [linked[1]!.record_hash]);
    await pg.query('COMMIT');
  }, 180000);

  afterAll(async () => {
    await svc?.stop();
    await closePublisher();
    await pg?.end();
    await dropDatabase(db);
  });

  it('treats a redelivery of an old event as a no-op and another body under its id as a conflict', async () => {
    await publishRaw(Topics.JobProposed, jobId, JSON.stringify(old));
    await handled(old.event_id, 1)();
    // Same event id, another body: the decision turned into a DENY after signing.
    const altered = JSON.stringify(decision).replace('"decision":"ALLOW"', '"decision":"DENY"');
    await publishRaw(Topics.DecisionMade, jobId, altered);
    await handled(decision.event_id, 1)();
    const fresh = proposal({ job_id: jobId });
    await publishRaw(Topics.JobProposed, jobId, JSON.stringify(fresh));
    await handled(fresh.event_id, 1)();

    const rows = (
      await pg.query(
        `SELECT seq::int AS seq, format, kind, signature, signature_reason, conflict, source_event_id FROM audit.audit_records ORDER BY seq`,
      )
    ).rows as Record<string, unknown>[];
    expect(rows).toEqual([
      {
        seq: 1,
        format: 1,
        kind: null,
        signature: null,
        signature_reason: null,
        conflict: null,
        source_event_id: old.event_id,
      },
      {
        seq: 2,
        format: 1,
        kind: null,
        signature: null,
        signature_reason: null,
        conflict: null,
        source_event_id: decision.event_id,
      },
      {
        seq: 3,
        format: 2,
        kind: 'conflict',
        signature: 'invalid',
        signature_reason: 'signature does not verify',
        // The first digest is computed from the format 1 body, which is the whole event.
        conflict: canonicalJson({ first_digest: eventDigest(decision), first_seq: 2 }),
        source_event_id: decision.event_id,
      },
      {
        seq: 4,
        format: 2,
        kind: 'event',
        signature: 'unsigned',
        signature_reason: null,
        conflict: null,
        source_event_id: fresh.event_id,
      },
    ]);
  });

  it('verifies the mixed chain on the server and offline', async () => {
    const token = mintToken(keys.jwtSecret, { sub: 'carol', roles: ['auditor'] });
    const res = await fetch(`${svc.url}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${token}` } });
    expect(await res.json()).toMatchObject({ ok: true, checked: 4, last_seq: 4 });
    const exported = await fetch(`${svc.url}/api/v1/audit/export`, { headers: { authorization: `Bearer ${token}` } });
    const file = join(mkdtempSync(join(tmpdir(), 'cs-audit-upgrade-')), 'export.ndjson');
    writeFileSync(file, await exported.text());
    const run = spawnSync(process.execPath, [join(ROOT, 'deploy/audit/verify-chain.cjs'), '--file', file], {
      encoding: 'utf8',
    });
    expect(run.stdout).toBe('ok: 4 records verified (last seq 4); signatures not checked\n');
  });
});
