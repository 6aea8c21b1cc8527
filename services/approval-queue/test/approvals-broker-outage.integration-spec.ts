import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { ALL_TOPICS, Topics } from '@countersign/contracts';
import { barrier, mintToken, waitUntil } from '@countersign/testkit';
import { proposal } from '../../../test/support/fixtures';
import {
  outboxPublished,
  ROOT,
  freePort,
  keyEnv,
  makeTestKeys,
  startService,
  type ServiceHandle,
  type TestKeys,
} from '../../../test/support/stack';
import {
  Api,
  createRunDatabase,
  dropDatabase,
  expectedEventId,
  policyKey,
  signedDecision,
  sql,
} from './approval-queue.fixtures';

const exec = promisify(execFile);
const KAFKA_SH = join(ROOT, 'deploy/local/kafka.sh');

/**
 * The outbox across a broker outage. The shared broker is never touched: this spec runs its own
 * plain broker (deploy/local/kafka.sh with a private state dir and ports), stops it while a reviewer
 * approves, and starts it again: the approval committed during the outage is published once after.
 */
describe('approval-queue outbox during a broker outage', () => {
  let keys: TestKeys;
  let svc: ServiceHandle;
  let dbUrl: string;
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let brokers: string;
  let kafka: Kafka;
  let producer: Producer;
  let consumer: Consumer;
  const resolved: { key: string | null; value: Record<string, unknown> }[] = [];
  const run = randomUUID().slice(0, 8);

  const broker = async (cmd: 'start' | 'stop') => {
    try {
      await exec(KAFKA_SH, [cmd], { env, timeout: 180_000 });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`private broker ${cmd} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cs-aq-outage-'));
    const port = await freePort();
    let controller = await freePort();
    while (controller === port) controller = await freePort();
    brokers = `127.0.0.1:${port}`;
    env = {
      ...process.env,
      KAFKA_STATE_DIR: join(tmp, 'state'),
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_SECURE: '0',
    };
    await broker('start');
    kafka = new Kafka({
      clientId: 'outage-spec',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 10 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: ALL_TOPICS.map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })),
    });
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    consumer = kafka.consumer({ groupId: `outage-probe-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [Topics.ApprovalResolved], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        resolved.push({
          key: message.key?.toString() ?? null,
          value: JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>,
        });
      },
    });
    keys = makeTestKeys();
    dbUrl = await createRunDatabase('approval_queue_outage');
    svc = await startService('approval-queue', {
      databaseUrl: dbUrl,
      positionAtEnd: false,
      env: { ...keyEnv(keys), KAFKA_BROKERS: brokers },
    });
  }, 300_000);

  afterAll(async () => {
    await svc?.kill();
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    if (env) await broker('stop').catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    await dropDatabase(dbUrl);
  }, 120_000);

  it('keeps an approval made while the broker is down and publishes it once the broker is back', async () => {
    const p = proposal({ job_id: `job-${run}-outage` });
    const d = signedDecision(policyKey(keys), p, { policy_rule_id: `rule-${run}` });
    await producer.send({ topic: Topics.JobProposed, messages: [{ key: p.data.job_id, value: JSON.stringify(p) }] });
    await producer.send({ topic: Topics.DecisionMade, messages: [{ key: p.data.job_id, value: JSON.stringify(d) }] });
    const api = new Api(svc.url);
    const token = mintToken(keys.jwtSecret, { sub: `bob-${run}`, roles: ['service-owner'] });
    await waitUntil(
      async () => (await api.list(token)).body.items?.some((i) => i.job.id === p.data.job_id && i.proposal_received),
      { what: 'item listed', timeout: 30_000 },
    );

    await producer.disconnect();
    await consumer.disconnect();
    await broker('stop');

    const ok = await api.approve(p.data.job_id, token, { reason: 'approved during the outage' });
    expect(ok).toMatchObject({ status: 200, body: { resolution: 'APPROVED' } });
    // The service notices the outage (its producer cannot reach the broker); the approval waits in the outbox.
    await waitUntil(async () => (await fetch(`${svc.url}/readyz`)).status === 503, {
      what: 'not ready while the broker is down',
      timeout: 30_000,
    });
    const pending = await sql(dbUrl, `SELECT published_at FROM approval_queue.outbox WHERE key = $1`, [p.data.job_id]);
    expect(pending).toEqual([{ published_at: null }]);

    await broker('start');
    const read = new Map<number, number>();
    consumer = kafka.consumer({ groupId: `outage-probe-${run}-2` });
    await consumer.connect();
    await consumer.subscribe({ topics: [Topics.ApprovalResolved], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        read.set(partition, Number(message.offset) + 1);
        resolved.push({
          key: message.key?.toString() ?? null,
          value: JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>,
        });
      },
    });
    await waitUntil(async () => resolved.some((m) => m.key === p.data.job_id), {
      what: 'approval.resolved after the outage',
      timeout: 120_000,
      every: 250,
    });
    // Barrier: the row is published (the relay sends nothing more) and the consumer has read to the end.
    await outboxPublished(dbUrl, 'approval_queue', [p.data.job_id]);
    await barrier({
      mark: async () => {
        const admin = kafka.admin();
        await admin.connect();
        return admin.fetchTopicOffsets(Topics.ApprovalResolved).finally(() => admin.disconnect());
      },
      passed: (ends) => ends.every((e) => e.high === e.low || (read.get(e.partition) ?? 0) >= Number(e.high)),
      what: 'the consumer reading approval.resolved to its end',
    });
    const events = resolved.filter((m) => m.key === p.data.job_id);
    expect(events).toHaveLength(1);
    expect(events[0]?.value).toMatchObject({
      event_id: expectedEventId(Topics.ApprovalResolved, p.data.job_id),
      data: {
        resolution: 'APPROVED',
        resolved_by: `bob-${run}`,
        approvals: [{ reason: 'approved during the outage' }],
      },
    });
    const published = await sql(dbUrl, `SELECT published_at FROM approval_queue.outbox WHERE key = $1`, [
      p.data.job_id,
    ]);
    expect(published).toHaveLength(1);
    expect(published[0]?.['published_at']).not.toBeNull();
    await waitUntil(async () => (await fetch(`${svc.url}/readyz`)).status === 200, {
      what: 'ready again',
      timeout: 60_000,
      every: 500,
    });
  }, 400_000);
});
