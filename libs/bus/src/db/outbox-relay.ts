import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { EventProducer } from '../kafka/event-producer';

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  trace: { traceparent?: string; tracestate?: string } | null;
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  databaseUrl: string;
  schema: string;
  producer: EventProducer;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/**
 * Most bytes of values sent in one request: kafkajs puts a partition's messages in one record batch,
 * and the broker refuses a batch over its `max.message.bytes` (1 MiB by default) whole.
 */
export const RELAY_REQUEST_BYTES = 512 * 1024;

/**
 * Consecutive rows of one topic, sent as one produce request: one broker round trip for many
 * events instead of one each. Order is kept: within a request Kafka appends each partition's
 * messages in the order given, and requests go one at a time (the producer is idempotent). A run
 * is cut at `maxBytes` of values.
 */
export function runsOfOneTopic<R extends { topic: string; value?: string }>(
  rows: readonly R[],
  maxBytes = RELAY_REQUEST_BYTES,
): R[][] {
  const runs: R[][] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = row.value === undefined ? 0 : Buffer.byteLength(row.value);
    const last = runs[runs.length - 1];
    if (last && last[0]!.topic === row.topic && bytes + size <= maxBytes) {
      last.push(row);
      bytes += size;
    } else {
      runs.push([row]);
      bytes = size;
    }
  }
  return runs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes committed outbox rows to Kafka in id order. One relay at a time per schema holds an
 * advisory lock for each batch, so order survives several replicas; a row is marked published
 * only after the broker acknowledged it, so a crash or an outage repeats a send (consumers dedupe
 * on event_id) and never loses one. LISTEN/NOTIFY wakes it at once; polling is the fallback.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private listener: Client | undefined;
  private wake: (() => void) | undefined;
  /** A NOTIFY arrived while a batch was being published: look again at once instead of sleeping. */
  private notified = false;
  private lastError: string | undefined;

  private readonly batchSize: number;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.batchSize = opts.batchSize ?? 200;
  }

  get healthy(): { ok: boolean; error?: string } {
    return this.lastError ? { ok: false, error: this.lastError } : { ok: true };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen().catch((e: unknown) =>
      this.opts.logger.warn({ err: e }, 'outbox LISTEN unavailable; polling only'),
    );
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  /** Publishes everything pending now; tests and shutdown use it to drain. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.publishBatch();
      total += n;
      if (n === 0) return total;
    }
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.opts.databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    await client.query(`LISTEN ${this.opts.schema}_outbox`);
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    this.listener = client;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        this.notified = false;
        const n = await this.publishBatch();
        this.lastError = undefined;
        backoff = 100;
        // A full batch may have left rows behind: look again at once. A short one emptied the
        // outbox as of its SELECT, so another look would find nothing (four wasted statements) unless
        // a row was committed since; that row's NOTIFY arrived while we published, and without this
        // check it would wait a whole poll interval.
        if (n >= this.batchSize || this.notified) continue;
      } catch (e) {
        this.lastError = (e as Error).message;
        this.opts.logger.warn({ err: e }, 'outbox relay could not publish; will retry');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.pollMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async publishBatch(): Promise<number> {
    const { schema, dataSource, producer } = this.opts;
    return dataSource.transaction(async (m) => {
      const [lock] = (await m.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [
        `countersign:outbox:${schema}`,
      ])) as {
        ok: boolean;
      }[];
      if (!lock?.ok) return 0;
      const rows = (await m.query(
        `SELECT id, topic, key, value, headers, trace FROM "${schema}".outbox WHERE published_at IS NULL ORDER BY id LIMIT $1`,
        [this.batchSize],
      )) as OutboxRow[];
      if (rows.length === 0) return 0;
      for (const run of runsOfOneTopic(rows)) {
        // Sent inside the trace that wrote the (first) row, so the event joins the proposal's trace;
        // every event also carries its own trace in its body.
        const first = run[0]!;
        const ctx = first.trace ? propagation.extract(ROOT_CONTEXT, first.trace) : ROOT_CONTEXT;
        await context.with(ctx, () =>
          producer.sendRaw(
            first.topic,
            run.map((row) => ({ key: row.key, value: row.value, headers: row.headers })),
          ),
        );
      }
      await m.query(`UPDATE "${schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }
}
