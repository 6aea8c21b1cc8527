import { Client } from 'pg';
import { ChainVerifier, FORMAT_1_COLUMNS, rangeResult, type ChainedRecord, type RangeResult } from './core/hash-chain';
import { isoFromPgUtc } from './core/pg-timestamp';

/** One seq range to verify, in the snapshot the request took (so every range sees the same chain). */
export interface ScanRangeJob {
  databaseUrl: string;
  /** From pg_export_snapshot(); null reads the current state. */
  snapshot: string | null;
  from: number;
  to: number;
  /** Rows per keyset batch. */
  batch: number;
}

/** Raw text for every column: node-postgres' cheapest form (bigint arrives as text anyway). */
const RAW_TEXT = { getTypeParser: () => (v: string) => v };
type N = string | null;
type ScanRow = [string, string, string, string, N, string, N, N, string, string, string, N, N, N, N, N, N];

/**
 * Verifies [from, to] on its own connection in keyset batches (`WHERE seq > $1 … ORDER BY seq
 * LIMIT`), never holding more than one batch; the record object is reused across rows.
 */
export async function scanRange(job: ScanRangeJob): Promise<RangeResult> {
  const client = new Client({ connectionString: job.databaseUrl, application_name: 'audit-verify' });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (job.snapshot !== null) {
      if (!/^[0-9A-F-]+$/i.test(job.snapshot)) throw new Error(`not a snapshot id: ${job.snapshot}`);
      await client.query(`SET TRANSACTION SNAPSHOT '${job.snapshot}'`);
    }
    // Timestamps as text in UTC, turned into the hashed ISO form without a Date per row.
    await client.query(`SET LOCAL TimeZone = 'UTC'`);
    const verifier = new ChainVerifier({ seq: job.from, prevHash: null });
    const rec: ChainedRecord = {
      seq: 0,
      prev_hash: '',
      record_hash: '',
      source_topic: '',
      source_event_id: null,
      event_type: '',
      job_id: null,
      tenant: null,
      recorded_at: '',
      body: '',
      ...FORMAT_1_COLUMNS,
    };
    let after = job.from - 1;
    scanning: for (;;) {
      const { rows } = await client.query<ScanRow>({
        text: `SELECT seq, prev_hash, record_hash, source_topic, source_event_id, event_type, job_id, tenant, recorded_at, body,
                      format, kind, digest, signature, signature_reason, redaction, conflict
               FROM audit.audit_records WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        values: [after, job.to, job.batch],
        rowMode: 'array',
        types: RAW_TEXT,
      });
      for (const r of rows) {
        rec.seq = Number(r[0]);
        rec.prev_hash = r[1];
        rec.record_hash = r[2];
        rec.source_topic = r[3];
        rec.source_event_id = r[4];
        rec.event_type = r[5];
        rec.job_id = r[6];
        rec.tenant = r[7];
        rec.recorded_at = isoFromPgUtc(r[8]);
        rec.body = r[9];
        rec.format = Number(r[10]);
        rec.kind = r[11];
        rec.digest = r[12];
        rec.signature = r[13];
        rec.signature_reason = r[14];
        rec.redaction = r[15];
        rec.conflict = r[16];
        if (verifier.check(rec)) break scanning;
      }
      if (rows.length < job.batch) break;
      after = rec.seq;
    }
    await client.query('COMMIT');
    return rangeResult(job.from, job.to, verifier);
  } finally {
    await client.end();
  }
}
