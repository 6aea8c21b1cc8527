import {
  addProcessedEventsTopicDigestSql,
  claimEvents,
  createBusTablesSql,
  createDataSource,
  createKafka,
  dropOutboxNotifySql,
  enqueueEvents,
  EventProducer,
  markProcessedMany,
  OutboxRelay,
  type StagedEvent,
} from '@countersign/bus';
import { Topics } from '@countersign/contracts';
import { waitUntil } from '@countersign/testkit';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { proposal } from '../support/fixtures';
import { KafkaProbe } from '../support/kafka-probe';
import { KAFKA_BROKERS, createTestDatabase } from '../support/stack';

/**
 * The outbox's two ways out (ADR 0008), on the real broker and PostgreSQL: the committing process
 * publishes its rows at once and marks them published in one statement; a row whose direct publish
 * was not confirmed is sent by the sweep, and only once it is older than the grace. Also the batch
 * claims every consumer's batch pass relies on.
 */
const SCHEMA = 'bus_spec';
const logger = pino({ level: 'silent' });

/** A data source on a fresh database `name` with the bus tables in SCHEMA, then the `more` statements. */
async function busDatabase(name: string, more: readonly string[] = []): Promise<DataSource> {
  const ds = createDataSource({
    url: await createTestDatabase(name),
    schema: SCHEMA,
    entities: [],
    migrations: [],
    poolMax: 4,
    applicationName: 'bus-spec',
  });
  await ds.initialize();
  await ds.query(`CREATE SCHEMA ${SCHEMA}`);
  for (const sql of [...createBusTablesSql(SCHEMA), ...addProcessedEventsTopicDigestSql(SCHEMA), ...more])
    await ds.query(sql);
  return ds;
}

describe('outbox: publish right after commit, the sweep as the fallback', () => {
  let ds: DataSource;
  let producer: EventProducer;
  const probe = new KafkaProbe();
  const relays: OutboxRelay[] = [];

  const stage = (n: number): Promise<StagedEvent[]> =>
    ds.transaction((m) =>
      enqueueEvents(
        m,
        SCHEMA,
        Array.from({ length: n }, () => {
          const event = proposal();
          return { topic: Topics.JobProposed, key: event.data.job_id, event };
        }),
      ),
    );
  const unpublished = async (ids: string[]): Promise<number> => {
    const [row] = (await ds.query(
      `SELECT count(*)::int AS n FROM "${SCHEMA}".outbox WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
      [ids],
    )) as { n: number }[];
    return row!.n;
  };
  const jobOf = (s: StagedEvent) => (JSON.parse(s.value) as { data: { job_id: string } }).data.job_id;

  beforeAll(async () => {
    ds = await busDatabase('bus_outbox', dropOutboxNotifySql(SCHEMA));
    producer = new EventProducer(createKafka({ clientId: 'bus-spec', brokers: KAFKA_BROKERS.split(','), logger }));
    await probe.start([Topics.JobProposed]);
  });

  afterAll(async () => {
    for (const r of relays) await r.stop();
    await probe.stop();
    await producer.disconnect();
    await ds.destroy();
  });

  it('returns the staged rows in the order given, with ascending ids', async () => {
    const staged = await stage(5);
    const ids = staged.map((s) => BigInt(s.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    const rows = (await ds.query(`SELECT id::text AS id, value FROM "${SCHEMA}".outbox WHERE id = ANY($1::bigint[])`, [
      staged.map((s) => s.id),
    ])) as { id: string; value: string }[];
    for (const s of staged) expect(rows.find((r) => r.id === s.id)?.value).toBe(s.value);
  });

  it('publishes committed rows at once and marks them published, with the sweep idle', async () => {
    // The sweep would wait a minute: only the direct publish can deliver these in time.
    const relay = new OutboxRelay({ dataSource: ds, schema: SCHEMA, producer, logger, pollMs: 60000, graceMs: 60000 });
    relays.push(relay);
    await relay.start();
    const staged = await stage(20);
    await relay.publishNow(staged);
    for (const s of staged) await probe.waitForJob(Topics.JobProposed, jobOf(s), 10000);
    await waitUntil(async () => (await unpublished(staged.map((s) => s.id))) === 0, {
      what: 'the rows are marked published',
      timeout: 20000,
      every: 25,
    });
    // Each event was sent once: direct publish only.
    for (const s of staged) expect(probe.forJob(Topics.JobProposed, jobOf(s))).toHaveLength(1);
  });

  it('leaves a row whose direct publish failed to the sweep, which sends it only after the grace', async () => {
    const dead = new EventProducer(
      createKafka({
        clientId: 'bus-spec-dead',
        brokers: ['127.0.0.1:1'],
        logger,
        extra: { retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 }, connectionTimeout: 300 },
      }),
    );
    const failing = new OutboxRelay({ dataSource: ds, schema: SCHEMA, producer: dead, logger, pollMs: 60000 });
    const staged = await stage(3);
    // Never rejects: the caller's commit stands, the rows wait for the sweep.
    await expect(failing.publishNow(staged)).resolves.toBeUndefined();
    expect(await unpublished(staged.map((s) => s.id))).toBe(3);

    const graceMs = 1500;
    const sweep = new OutboxRelay({ dataSource: ds, schema: SCHEMA, producer, logger, pollMs: 50, graceMs });
    relays.push(sweep);
    await sweep.start();
    for (const s of staged) await probe.waitForJob(Topics.JobProposed, jobOf(s), 15000);
    await waitUntil(async () => (await unpublished(staged.map((s) => s.id))) === 0, {
      what: 'the swept rows are marked published',
      timeout: 20000,
      every: 25,
    });
    const ages = (await ds.query(
      `SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms FROM "${SCHEMA}".outbox WHERE id = ANY($1::bigint[])`,
      [staged.map((s) => s.id)],
    )) as { ms: number }[];
    for (const a of ages) expect(Number(a.ms)).toBeGreaterThanOrEqual(graceMs);
    await dead.disconnect().catch(() => undefined);
  });
});

describe('batch claims in one statement', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = await busDatabase('bus_claims');
  });
  afterAll(() => ds.destroy());

  it('tells new, redelivered and conflicting events apart, within one call and against the table', async () => {
    const first = await ds.transaction((m) =>
      claimEvents(m, SCHEMA, 'c', [
        { topic: 'decision.made', eventId: 'e1', digest: 'a' },
        { topic: 'decision.made', eventId: 'e2', digest: 'b' },
        { topic: 'decision.made', eventId: 'e1', digest: 'a' },
        { topic: 'decision.made', eventId: 'e2', digest: 'x' },
        { topic: 'job.proposed', eventId: 'e1', digest: 'z' },
      ]),
    );
    expect(first).toEqual([
      { status: 'new' },
      { status: 'new' },
      { status: 'redelivery' },
      { status: 'conflict', knownDigest: 'b' },
      { status: 'new' },
    ]);
    const second = await ds.transaction((m) =>
      claimEvents(m, SCHEMA, 'c', [
        { topic: 'decision.made', eventId: 'e2', digest: 'b' },
        { topic: 'decision.made', eventId: 'e1', digest: 'q' },
        { topic: 'decision.made', eventId: 'e3', digest: 'c' },
      ]),
    );
    expect(second).toEqual([{ status: 'redelivery' }, { status: 'conflict', knownDigest: 'a' }, { status: 'new' }]);
  });

  it('claims nothing when the transaction rolls back', async () => {
    await expect(
      ds.transaction(async (m) => {
        await claimEvents(m, SCHEMA, 'c', [{ topic: 'decision.made', eventId: 'rb', digest: 'a' }]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(
      await ds.transaction((m) =>
        claimEvents(m, SCHEMA, 'c', [{ topic: 'decision.made', eventId: 'rb', digest: 'a' }]),
      ),
    ).toEqual([{ status: 'new' }]);
  });

  it('marks many events processed in one statement, an id twice only once', async () => {
    expect(await ds.transaction((m) => markProcessedMany(m, SCHEMA, 'p', ['a', 'b', 'a']))).toEqual([
      true,
      true,
      false,
    ]);
    expect(await ds.transaction((m) => markProcessedMany(m, SCHEMA, 'p', ['b', 'c']))).toEqual([false, true]);
    expect(await ds.transaction((m) => markProcessedMany(m, SCHEMA, 'p', []))).toEqual([]);
  });
});
