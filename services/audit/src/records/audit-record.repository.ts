import { enqueueEvents, buildEvent, deterministicEventId, OutboxRelay, type StagedEvent } from '@countersign/bus';
import { Topics, type AuditRecord } from '@countersign/contracts';
import type { TraceCarrier } from '@countersign/telemetry';
import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PoolClient } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditRecordEntity } from './audit-record.entity';
import { conflictEntry, contentDigest, type AuditEntry } from './core/audit-entry';
import { AUDIT_CONFIG, type AuditConfig } from '../config/audit-config';

/** What the chain store reads of the service's config (a bench builds just this). */
export type RepositorySettings = Pick<AuditConfig, 'dbRole' | 'signer' | 'verifyBatch' | 'verifyWorkers'>;
import { scanRange, type ScanRangeJob } from './chain-scan';
import {
  CURRENT_FORMAT,
  linkRecords,
  splitRange,
  type ChainedFields,
  type ChainedRecord,
  type RangeResult,
} from './core/hash-chain';
import { PolicySnapshotEntity } from './policy-snapshot.entity';
import type { ChainHead, RecordFilter, TrailStore } from '../trail/trail.port';

export type { ChainHead, RecordFilter } from '../trail/trail.port';

export const AUDIT_SCHEMA = 'audit';

export interface EntryToAppend extends AuditEntry {
  /** The trace of the message that caused it, so `audit.recorded` joins that trace. */
  trace?: TraceCarrier;
}

export interface AppendResult {
  seq: number;
  record_hash: string;
  duplicate: boolean;
}

export function toAuditRecord(r: AuditRecordEntity): AuditRecord {
  return auditRecordOf(r, r.recorded_at.toISOString());
}

/** A record as the API and `audit.recorded` carry it, stored or just linked. */
function auditRecordOf(r: Omit<ChainedRecord, 'recorded_at'>, recordedAt: string): AuditRecord {
  return {
    seq: r.seq,
    prev_hash: r.prev_hash,
    record_hash: r.record_hash,
    source_topic: r.source_topic,
    source_event_id: r.source_event_id,
    event_type: r.event_type,
    job_id: r.job_id,
    tenant: r.tenant,
    recorded_at: recordedAt,
    body: JSON.parse(r.body) as unknown,
    ...findingsOf(r),
  };
}

/** The format 2 fields of a record as they are hashed (none for format 1, which hashes without them). */
export function findingsOf(r: Omit<ChainedFields, 'seq' | 'prev_hash' | 'recorded_at'>): Partial<AuditRecord> {
  if (r.format !== 2) return {};
  return {
    format: 2,
    kind: (r.kind ?? null) as AuditRecord['kind'],
    digest: r.digest ?? null,
    signature: (r.signature ?? null) as AuditRecord['signature'],
    signature_reason: r.signature_reason ?? null,
    redaction: r.redaction ? (JSON.parse(r.redaction) as AuditRecord['redaction']) : null,
    conflict: r.conflict ? (JSON.parse(r.conflict) as AuditRecord['conflict']) : null,
  };
}

/** A linked record as a row of audit.audit_records. */
export type RecordRow = ChainedRecord & { dedupe_key: string };

/** Inserts linked records in one statement, an array per column (the bench's chain generator uses it too). */
export async function insertRecordRows(m: Pick<EntityManager, 'query'>, rows: readonly RecordRow[]): Promise<void> {
  await m.query(
    `INSERT INTO audit.audit_records
       (seq, prev_hash, record_hash, dedupe_key, source_topic, source_event_id, event_type, job_id, tenant, recorded_at, body,
        format, kind, digest, signature, signature_reason, redaction, conflict)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::timestamptz[], $11::text[], $12::smallint[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])`,
    [
      rows.map((r) => r.seq),
      rows.map((r) => r.prev_hash),
      rows.map((r) => r.record_hash),
      rows.map((r) => r.dedupe_key),
      rows.map((r) => r.source_topic),
      rows.map((r) => r.source_event_id),
      rows.map((r) => r.event_type),
      rows.map((r) => r.job_id),
      rows.map((r) => r.tenant),
      rows.map((r) => r.recorded_at),
      rows.map((r) => r.body),
      rows.map((r) => r.format ?? 1),
      rows.map((r) => r.kind ?? null),
      rows.map((r) => r.digest ?? null),
      rows.map((r) => r.signature ?? null),
      rows.map((r) => r.signature_reason ?? null),
      rows.map((r) => r.redaction ?? null),
      rows.map((r) => r.conflict ?? null),
    ],
  );
}

/**
 * The trail's storage. Appends run in one transaction per batch that locks the chain head row,
 * so seqs are gap-free and hashes link correctly however many replicas append at once.
 */
@Injectable()
export class AuditRecordRepository implements TrailStore {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(AUDIT_CONFIG) private readonly settings: RepositorySettings,
    private readonly relay: OutboxRelay,
  ) {}

  /**
   * Appends the entries not recorded before, in order; returns each entry's record (existing or new).
   * Their `audit.recorded` events are published right after the commit (ADR 0008).
   */
  async append(entries: readonly EntryToAppend[], now: Date): Promise<AppendResult[]> {
    let staged: StagedEvent[] = [];
    const results = await this.dataSource.transaction(async (m) => {
      if (this.settings.dbRole) await m.query(`SET LOCAL ROLE "${this.settings.dbRole}"`);
      const [head] = (await m.query(
        `SELECT seq::text AS seq, record_hash FROM audit.chain_head WHERE id = 1 FOR UPDATE`,
      )) as {
        seq: string;
        record_hash: string;
      }[];
      if (!head) throw new Error('audit.chain_head has no row: the migration did not run');
      const byKey = await this.recorded(m, entries);
      const fresh: EntryToAppend[] = [];
      const mine = new Map<string, { seq: number; digest: string }>();
      // The key each entry ends up recorded under (its own, or its conflict key).
      const keys: string[] = [];
      let next = Number(head.seq);
      for (const given of entries) {
        const first = byKey.get(given.dedupe_key) ?? mine.get(given.dedupe_key);
        // A different body under a recorded topic + event_id is evidence (a forgery, or a producer
        // that reused an id): it gets its own record, never dropped, never replacing the first.
        const e: EntryToAppend =
          first && first.digest !== given.digest ? { ...conflictEntry(given, first), trace: given.trace } : given;
        keys.push(e.dedupe_key);
        // The same key means the same content (a conflict key names its digest): a redelivery, a no-op.
        if (byKey.has(e.dedupe_key) || mine.has(e.dedupe_key)) continue;
        next += 1;
        mine.set(e.dedupe_key, { seq: next, digest: e.digest });
        fresh.push(e);
      }
      const recordedAt = now.toISOString();
      const linked = linkRecords(
        { seq: Number(head.seq), record_hash: head.record_hash },
        fresh.map((e) => ({
          source_topic: e.source_topic,
          source_event_id: e.source_event_id,
          event_type: e.event_type,
          job_id: e.job_id,
          tenant: e.tenant,
          recorded_at: recordedAt,
          body: e.body,
          format: CURRENT_FORMAT,
          kind: e.kind,
          digest: e.digest,
          signature: e.signature,
          signature_reason: e.signature_reason,
          redaction: e.redaction,
          conflict: e.conflict,
          dedupe_key: e.dedupe_key,
          entry: e,
        })),
      );
      if (linked.length > 0) {
        await insertRecordRows(m, linked);
        await this.insertSnapshots(m, linked);
        staged = await enqueueEvents(
          m,
          AUDIT_SCHEMA,
          linked.map((r) => ({
            topic: Topics.AuditRecorded,
            key: r.job_id ?? r.source_topic,
            event: {
              ...buildEvent(Topics.AuditRecorded, auditRecordOf(r, r.recorded_at), {
                producer: 'audit',
                signer: this.settings.signer,
                eventId: deterministicEventId('audit.recorded', String(r.seq), r.record_hash),
                now,
              }),
              trace: r.entry.trace ?? {},
            },
          })),
        );
        const last = linked[linked.length - 1]!;
        await m.query(`UPDATE audit.chain_head SET seq = $1, record_hash = $2 WHERE id = 1`, [
          last.seq,
          last.record_hash,
        ]);
      }
      const created = new Map(
        linked.map((r) => [r.entry.dedupe_key, { seq: r.seq, record_hash: r.record_hash, duplicate: false }]),
      );
      // A redelivery inside the batch resolves to the record made for its first copy.
      return keys.map((k) => {
        const old = byKey.get(k);
        return old ? { seq: old.seq, record_hash: old.record_hash, duplicate: true } : created.get(k)!;
      });
    });
    void this.relay.publishNow(staged);
    return results;
  }

  /**
   * What is recorded under the batch's dedupe keys (and under the conflict keys they could turn
   * into), with each record's content digest. Format 1 records have none stored: their body is the
   * whole message, so it is computed from it.
   */
  private async recorded(
    m: EntityManager,
    entries: readonly EntryToAppend[],
  ): Promise<Map<string, { seq: number; digest: string; record_hash: string }>> {
    const keys = new Set<string>();
    for (const e of entries) {
      keys.add(e.dedupe_key);
      // Any entry, a DLQ record too: a second conflicting copy must be found, not inserted twice.
      keys.add(conflictEntry(e, { seq: 0, digest: '' }).dedupe_key);
    }
    const rows = (await m.query(
      `SELECT dedupe_key, seq::text AS seq, record_hash, digest, CASE WHEN digest IS NULL THEN body END AS body
         FROM audit.audit_records WHERE dedupe_key = ANY($1::text[])`,
      [[...keys]],
    )) as { dedupe_key: string; seq: string; record_hash: string; digest: string | null; body: string | null }[];
    return new Map(
      rows.map((f) => [
        f.dedupe_key,
        {
          seq: Number(f.seq),
          record_hash: f.record_hash,
          digest: f.digest ?? contentDigest(JSON.parse(f.body ?? 'null') as unknown),
        },
      ]),
    );
  }

  private async insertSnapshots(m: EntityManager, linked: (ChainedRecord & { entry: EntryToAppend })[]): Promise<void> {
    for (const r of linked) {
      const s = r.entry.snapshot;
      if (!s) continue;
      await m.query(
        `INSERT INTO audit.policy_snapshots (snapshot_id, scope, document, activated_at, record_seq) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (snapshot_id) DO NOTHING`,
        [s.snapshot_id, s.scope, s.document, s.activated_at, r.seq],
      );
    }
  }

  /** Records matching the filter, in seq order after `afterSeq`. */
  async list(f: RecordFilter): Promise<AuditRecordEntity[]> {
    const q = this.dataSource
      .getRepository(AuditRecordEntity)
      .createQueryBuilder('r')
      .orderBy('r.seq', 'ASC')
      .limit(f.limit);
    if (f.afterSeq !== undefined) q.andWhere('r.seq > :after', { after: f.afterSeq });
    if (f.job_id !== undefined) q.andWhere('r.job_id = :job', { job: f.job_id });
    if (f.tenant !== undefined) q.andWhere('r.tenant = :tenant', { tenant: f.tenant });
    if (f.type !== undefined) q.andWhere('r.event_type = :type', { type: f.type });
    if (f.from !== undefined) q.andWhere('r.recorded_at >= :from', { from: f.from });
    if (f.to !== undefined) q.andWhere('r.recorded_at < :to', { to: f.to });
    if (f.tenants !== undefined) q.andWhere('r.tenant = ANY(:tenants)', { tenants: [...f.tenants] });
    return q.getMany();
  }

  /** Every record about a job, in seq order. */
  async forJob(jobId: string): Promise<AuditRecordEntity[]> {
    return this.dataSource.getRepository(AuditRecordEntity).find({ where: { job_id: jobId }, order: { seq: 'ASC' } });
  }

  async snapshot(id: string): Promise<PolicySnapshotEntity | null> {
    return this.dataSource.getRepository(PolicySnapshotEntity).findOne({ where: { snapshot_id: id } });
  }

  async head(): Promise<ChainHead> {
    const [row] = (await this.dataSource.query(
      `SELECT seq::text AS seq, record_hash FROM audit.chain_head WHERE id = 1`,
    )) as {
      seq: string;
      record_hash: string;
    }[];
    return row ? { seq: Number(row.seq), record_hash: row.record_hash } : { seq: 0, record_hash: '' };
  }

  async recordHashAt(seq: number): Promise<string | undefined> {
    const [row] = (await this.dataSource.query(`SELECT record_hash FROM audit.audit_records WHERE seq = $1`, [
      seq,
    ])) as { record_hash: string }[];
    return row?.record_hash;
  }

  /**
   * Verifies [fromSeq, toSeq] in one snapshot: split into ranges checked in parallel worker threads
   * (each with its own connection importing the snapshot), returned in order for stitching.
   */
  async verifyRanges(fromSeq: number, toSeq: number | undefined): Promise<{ head: ChainHead; ranges: RangeResult[] }> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<[string, string, string, string | null]>({
        text: `SELECT pg_export_snapshot(), h.seq::text, h.record_hash, (SELECT max(seq)::text FROM audit.audit_records) FROM audit.chain_head h WHERE h.id = 1`,
        rowMode: 'array',
      });
      const [snapshot, headSeq, headHash, maxSeq] = rows[0] ?? ['', '0', '', null];
      const head = { seq: Number(headSeq), record_hash: headHash };
      const upper = Math.min(toSeq ?? Number.MAX_SAFE_INTEGER, Number(maxSeq ?? 0));
      const ranges = splitRange(fromSeq, upper, this.settings.verifyWorkers);
      const databaseUrl = (this.dataSource.options as { url?: string }).url ?? '';
      const jobs = ranges.map(([from, to]): ScanRangeJob => ({
        databaseUrl,
        snapshot,
        from,
        to,
        batch: this.settings.verifyBatch,
      }));
      const results = await Promise.all(jobs.map((job) => (ranges.length > 1 ? inWorker(job) : scanRange(job))));
      await client.query('COMMIT');
      return { head, ranges: results };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      await runner.release();
    }
  }
}

function inWorker(job: ScanRangeJob): Promise<RangeResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'verify-range.worker.js'), { workerData: job });
    worker.once('message', (m: { ok: true; result: RangeResult } | { ok: false; error: string }) =>
      m.ok ? resolve(m.result) : reject(new Error(m.error)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`verify worker exited with ${code}`)));
  });
}
