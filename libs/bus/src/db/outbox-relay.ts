import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { EventProducer } from '../kafka/event-producer';
import type { StagedEvent } from './outbox';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  schema: string;
  producer: EventProducer;
  logger: Logger;
  /** How often the relay looks for rows whose direct publish was not confirmed (`OUTBOX_POLL_MS`). */
  pollMs: number;
  /**
   * How old an unpublished row must be before the relay sends it (`OUTBOX_RELAY_GRACE_MS`): younger
   * rows are still being published by the process that committed them.
   */
  graceMs?: number;
  /** How long confirmed ids wait to be marked published together, in one statement. */
  markDelayMs?: number;
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

/** Default `OUTBOX_RELAY_GRACE_MS`: a direct publish takes milliseconds; a row this old was not confirmed. */
export const DEFAULT_RELAY_GRACE_MS = 2000;

/**
 * Publishes outbox rows, two ways (ADR 0008):
 *
 * - **Right after commit**, by the process that committed (`publishNow`): the rows go to the
 *   coalescing producer at once, and the ids the broker confirmed are marked published together, in
 *   one statement per `markDelayMs`. This is the hot path: no second transaction, no NOTIFY.
 * - **The sweep** (the crash fallback): every `pollMs`, rows still unpublished after `graceMs` (the
 *   process died between commit and publish, the broker was down, the mark was lost) are sent in id
 *   order. One relay at a time per schema holds an advisory lock for each batch.
 *
 * A row is marked published only after the broker acknowledged it, so a crash or an outage repeats a
 * send (consumers dedupe on event_id) and never loses one.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastError: string | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /**
   * Ids of rows a direct publish is sending or has sent but not yet marked: the sweep leaves them
   * alone, or a send held up by an outage would be repeated by the sweep when the broker is back.
   */
  private readonly sending = new Set<string>();
  private confirmed: string[] = [];
  private markTimer: NodeJS.Timeout | undefined;
  private marking: Promise<void> | undefined;

  private readonly batchSize: number;
  private readonly graceMs: number;
  private readonly markDelayMs: number;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.batchSize = opts.batchSize ?? 500;
    this.graceMs = opts.graceMs ?? DEFAULT_RELAY_GRACE_MS;
    this.markDelayMs = opts.markDelayMs ?? 50;
  }

  get healthy(): { ok: boolean; error?: string } {
    return this.lastError ? { ok: false, error: this.lastError } : { ok: true };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
    await this.flushMarks();
  }

  /**
   * Sends rows the caller has just committed, without waiting for a poll. Never rejects: a send the
   * broker did not confirm stays unpublished in the table and the sweep sends it after `graceMs`.
   * Resolves when the send is settled (tests and callers that want to wait may await it).
   */
  publishNow(rows: readonly StagedEvent[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const sends = runsOfOneTopic(rows).map((run) => {
      const first = run[0]!;
      const ids = run.map((r) => r.id);
      for (const id of ids) this.sending.add(id);
      const ctx = first.trace ? propagation.extract(ROOT_CONTEXT, first.trace) : context.active();
      // Called in order without awaiting: the coalescing producer keeps the order of the calls.
      return context
        .with(ctx, () =>
          this.opts.producer.sendRaw(
            first.topic,
            run.map((row) => ({ key: row.key, value: row.value, headers: row.headers })),
          ),
        )
        .then(
          () => this.confirm(ids),
          (e: unknown) => {
            for (const id of ids) this.sending.delete(id);
            throw e;
          },
        );
    });
    const done: Promise<void> = Promise.all(sends).then(
      () => undefined,
      (e: unknown) =>
        this.opts.logger.warn(
          { err: e, rows: rows.length },
          'direct publish after commit failed; the outbox sweep will send these rows',
        ),
    );
    const tracked = done.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
    return tracked;
  }

  /** Publishes everything pending now, whatever its age; tests and shutdown use it to drain. */
  async drain(): Promise<number> {
    await Promise.allSettled([...this.inflight]);
    await this.flushMarks();
    let total = 0;
    for (;;) {
      const n = await this.publishBatch(0);
      total += n;
      if (n === 0) return total;
    }
  }

  private confirm(ids: string[]): void {
    this.confirmed.push(...ids);
    this.markTimer ??= setTimeout(() => {
      this.markTimer = undefined;
      void this.flushMarks();
    }, this.markDelayMs);
  }

  /** Marks confirmed rows published, in one statement; on failure they are kept for the next try. */
  private async flushMarks(): Promise<void> {
    if (this.marking) await this.marking;
    if (this.confirmed.length === 0) return;
    const ids = this.confirmed;
    this.confirmed = [];
    this.marking = this.opts.dataSource
      .query(
        `UPDATE "${this.opts.schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
        [ids],
      )
      .then(
        // Left alone by the sweep until here: confirmed but not yet marked is still unpublished in the table.
        () => {
          for (const id of ids) this.sending.delete(id);
        },
        (e: unknown) => {
          this.confirmed.push(...ids);
          this.opts.logger.warn({ err: e, rows: ids.length }, 'could not mark published rows; will retry');
          this.markTimer ??= setTimeout(() => {
            this.markTimer = undefined;
            void this.flushMarks();
          }, 1000);
        },
      )
      .finally(() => (this.marking = undefined));
    await this.marking;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const n = (await this.anyDue()) ? await this.publishBatch(this.graceMs) : 0;
        this.lastError = undefined;
        backoff = 100;
        if (n >= this.batchSize) continue;
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

  /** One cheap statement, no transaction: is any row older than the grace still unpublished? */
  private async anyDue(): Promise<boolean> {
    const rows = (await this.opts.dataSource.query(
      `SELECT 1 FROM "${this.opts.schema}".outbox
        WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1) AND NOT (id = ANY($2::bigint[])) LIMIT 1`,
      [this.graceMs / 1000, [...this.sending]],
    )) as unknown[];
    return rows.length > 0;
  }

  private async publishBatch(minAgeMs: number): Promise<number> {
    const { schema, dataSource, producer } = this.opts;
    return dataSource.transaction(async (m) => {
      const [lock] = (await m.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [
        `countersign:outbox:${schema}`,
      ])) as {
        ok: boolean;
      }[];
      if (!lock?.ok) return 0;
      const rows = (await m.query(
        `SELECT id, topic, key, value, headers, trace FROM "${schema}".outbox
         WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $2) AND NOT (id = ANY($3::bigint[]))
         ORDER BY id LIMIT $1`,
        [this.batchSize, minAgeMs / 1000, [...this.sending]],
      )) as StagedEvent[];
      if (rows.length === 0) return 0;
      if (minAgeMs > 0)
        this.opts.logger.warn(
          { rows: rows.length, first_id: rows[0]!.id },
          'outbox sweep: sending rows whose direct publish was not confirmed',
        );
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
