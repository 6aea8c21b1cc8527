import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Consumer, type KafkaConfig, type Producer } from 'kafkajs';
import { ALL_TOPICS, Topics, dlqTopic } from '@countersign/contracts';
import { MessageWaits, bearer, mintToken, waitUntil } from '@countersign/testkit';
import { expandAcls, PRINCIPALS } from '../../deploy/local/secure/acl-matrix.cjs';
import { proposal } from '../support/fixtures';
import { jsonOf } from '../support/kafka-probe';
import {
  ROOT,
  SERVICE_NAMES,
  createTestDatabase,
  keyEnv,
  makeTestKeys,
  startService,
  type ServiceHandle,
  type ServiceName,
} from '../support/stack';

/**
 * Broker-enforced authorization on the local secure broker (deploy/local/kafka.sh, KAFKA_SECURE=1):
 * SASL/SCRAM-SHA-512, the KRaft StandardAuthorizer and the ACLs of deploy/local/secure/acl-matrix.cjs.
 * Each service runs as its own principal (policy-decision over SASL_SSL) and does its job; the
 * agent principal is refused what only services may do; unauthenticated clients are refused.
 *
 * The broker is started here on its own ports (9192/9193/9194, beside the plain one on 9092) with a
 * throw-away state and secrets dir, and stopped afterwards; a secure broker already running (make up
 * SECURE=1) is used as it is, with the credentials in .run/secure.
 */
const run = promisify(execFile);
const SASL_PORT = 9192;
const TLS_PORT = 9194;
const KAFKA_SH = join(ROOT, 'deploy/local/kafka.sh');
const LIBS = join(ROOT, 'deploy/local/.kafka/libs');

interface Broker {
  secretsDir: string;
  /** Set when this spec started the broker (and must stop it). */
  started?: { env: NodeJS.ProcessEnv; tmp: string; ms: number };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

async function ensureSecureBroker(): Promise<Broker> {
  if (await portOpen(SASL_PORT)) {
    // Someone's secure broker (make up SECURE=1): its credentials are the ones in .run/secure.
    const running: Broker = { secretsDir: join(ROOT, '.run/secure') };
    const probe = secureKafka(running, 'admin').admin();
    try {
      await probe.connect();
    } catch (e) {
      throw new Error(
        `a broker answers on 127.0.0.1:${SASL_PORT} but not with the credentials in .run/secure (${(e as Error).message}); stop it first`,
      );
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
    return running;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'cs-secure-broker-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_SECURE: '1',
    KAFKA_PORT: String(SASL_PORT),
    KAFKA_TLS_PORT: String(TLS_PORT),
    KAFKA_CONTROLLER_PORT: '9193',
    KAFKA_STATE_DIR: join(tmp, 'state'),
    KAFKA_DATA_DIR: join(tmp, 'state', 'data'),
    KAFKA_SECRETS_DIR: join(tmp, 'secrets'),
    KAFKA_START_TIMEOUT: '240',
  };
  const t0 = Date.now();
  try {
    await run(KAFKA_SH, ['start'], { env, timeout: 300_000 });
  } catch (e) {
    // Never leave a half-started broker behind on the shared ports.
    await run(KAFKA_SH, ['stop'], { env, timeout: 60_000 }).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`secure broker did not start:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
  return { secretsDir: join(tmp, 'secrets'), started: { env, tmp, ms: Date.now() - t0 } };
}

const password = (b: Broker, user: string) => readFileSync(join(b.secretsDir, `${user}.password`), 'utf8').trim();

function secureKafka(
  b: Broker,
  user: string | null,
  opts: { password?: string; tls?: 'ca' | 'no-ca'; errorLog?: string[] } = {},
): Kafka {
  const config: KafkaConfig = {
    clientId: `secure-spec-${user ?? 'anonymous'}`,
    brokers: [`127.0.0.1:${opts.tls ? TLS_PORT : SASL_PORT}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    retry: { retries: 3, initialRetryTime: 100 },
  };
  // Some refusals kafkajs only logs (FindCoordinator's GROUP_AUTHORIZATION_FAILED surfaces as
  // "coordinator not found"): keep the error types it logs at debug level.
  const errorLog = opts.errorLog;
  if (errorLog) {
    config.logLevel = logLevel.DEBUG;
    config.logCreator = () => (entry) => {
      const error = entry.log['error'] as { type?: string } | string | undefined;
      const type = typeof error === 'string' ? error : error?.type;
      if (type) errorLog.push(type);
    };
  }
  if (user) config.sasl = { mechanism: 'scram-sha-512', username: user, password: opts.password ?? password(b, user) };
  if (opts.tls === 'ca') config.ssl = { ca: [readFileSync(join(b.secretsDir, 'ca.pem'), 'utf8')] };
  if (opts.tls === 'no-ca') config.ssl = true;
  return new Kafka(config);
}

interface Seen {
  topic: string;
  value: string;
  json: Record<string, unknown> | undefined;
}

/** A consumer that keeps what it reads and lets a test wait for a message naming a job. */
class Reader {
  readonly seen: Seen[] = [];
  private consumer: Consumer | undefined;
  private readonly waits = new MessageWaits();
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
  ) {}

  async start(topics: string[]): Promise<void> {
    // kafkajs restarts a crashed consumer after a delay, even one disconnected meanwhile: once
    // stopping, no restart (else it would retry for ever once the broker is gone).
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10000,
      retry: { retries: 5, restartOnFailure: async () => !this.stopping },
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()));
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = message.value?.toString('utf8') ?? '';
        this.seen.push({ topic, value, json: jsonOf(value) });
        this.waits.seen();
      },
    });
    this.consumer = consumer;
    await within(joined, 90000, `${this.groupId} did not join its group`);
  }

  waitFor(topic: string, match: (m: Seen) => boolean, count = 1, timeoutMs = 45000): Promise<Seen[]> {
    return this.waits.waitFor(
      () => this.seen.filter((m) => m.topic === topic && match(m)),
      count,
      timeoutMs,
      () => `${this.groupId}: fewer than ${count} matching message(s) on ${topic} within ${timeoutMs} ms`,
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
  }
}

const forJob = (jobId: string) => (m: Seen) => (m.json?.['data'] as { job_id?: string } | undefined)?.job_id === jobId;

/** Commits a new group's offsets at the end of every topic (as the super user), so a service sees only this spec's events. */
async function positionAtEnd(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await Promise.all(
    ALL_TOPICS.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })),
  ).finally(() => admin.disconnect());
  // Restarts after a crash (a busy broker) until the offsets are committed, never after.
  let done = false;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    retry: { retries: 5, restartOnFailure: async () => !done },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...ALL_TOPICS], fromBeginning: false });
    const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()));
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await within(joined, 90000, `${groupId} did not join its group`);
    await consumer.commitOffsets(
      ends.flatMap(({ topic, partitions }) =>
        partitions.map((p) => ({ topic, partition: p.partition, offset: p.high })),
      ),
    );
  } finally {
    done = true;
    await consumer.disconnect();
  }
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, rej) => (timer = setTimeout(() => rej(new Error(`${what} within ${ms} ms`)), ms)),
  );
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The kafkajs error type behind a failure (`TOPIC_AUTHORIZATION_FAILED`, ...), following causes. */
function errorTypes(e: unknown): string[] {
  const out: string[] = [];
  for (
    let cur = e as { type?: string; name?: string; cause?: unknown } | undefined;
    cur;
    cur = cur.cause as typeof cur
  ) {
    out.push(cur.type ?? cur.name ?? 'unknown');
  }
  return out;
}

async function produceError(kafka: Kafka, topic: string): Promise<string[]> {
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'secure-spec', value: 'must be refused' }] });
    return [];
  } catch (e) {
    return errorTypes(e);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

describe('secure broker: SASL/SCRAM, ACLs, one principal per service', () => {
  let broker: Broker;
  let admin: Kafka;
  const services = new Map<ServiceName, ServiceHandle>();
  const keys = makeTestKeys();
  const tag = `${process.pid}-${Date.now()}`;
  let probe: Reader;
  let agentOutcomes: Reader;
  let compliance: Reader;
  let agentProducer: Producer;

  beforeAll(async () => {
    broker = await ensureSecureBroker();
    if (broker.started) process.stdout.write(`[secure-broker] started in ${broker.started.ms} ms\n`);
    admin = secureKafka(broker, 'admin');
    const db = await createTestDatabase('secure_broker');

    const env = (name: ServiceName): Record<string, string> => ({
      ...keyEnv(keys),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: name,
      KAFKA_SASL_PASSWORD_FILE: join(broker.secretsDir, `${name}.password`),
      // One service over the TLS listener proves KAFKA_SSL / KAFKA_SSL_CA_FILE end to end.
      ...(name === 'policy-decision'
        ? {
            KAFKA_BROKERS: `127.0.0.1:${TLS_PORT}`,
            KAFKA_SSL: 'true',
            KAFKA_SSL_CA_FILE: join(broker.secretsDir, 'ca.pem'),
          }
        : { KAFKA_BROKERS: `127.0.0.1:${SASL_PORT}` }),
    });
    // Each handle is kept as soon as it is ready, so afterAll stops it even when another fails to start.
    await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        const groupId = `${name}-secure-${tag}`;
        await positionAtEnd(admin, groupId);
        services.set(
          name,
          await startService(name, {
            databaseUrl: db,
            groupId,
            positionAtEnd: false,
            env: env(name),
            readyTimeoutMs: 150000,
          }),
        );
      }),
    );

    probe = new Reader(admin, `secure-spec-probe-${tag}`);
    await probe.start([Topics.JobProposed, Topics.DecisionMade, Topics.ApprovalResolved, dlqTopic(Topics.JobProposed)]);
    agentOutcomes = new Reader(secureKafka(broker, 'agent'), `agent-secure-${tag}`);
    await agentOutcomes.start([Topics.JobReleased, Topics.JobBlocked, Topics.JobExecuted]);
    compliance = new Reader(secureKafka(broker, 'compliance'), `compliance-secure-${tag}`);
    await compliance.start([Topics.AuditRecorded]);
    agentProducer = secureKafka(broker, 'agent').producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await agentProducer.connect();
  }, 600000);

  afterAll(async () => {
    await Promise.all([probe, agentOutcomes, compliance].map((r) => r?.stop().catch(() => undefined)));
    await agentProducer?.disconnect().catch(() => undefined);
    await Promise.all([...services.values()].map((s) => s.stop()));
    if (broker?.started) {
      await run(KAFKA_SH, ['stop'], { env: broker.started.env, timeout: 60000 });
      rmSync(broker.started.tmp, { recursive: true, force: true });
    }
  }, 120000);

  /** Publishes as the agent principal, and waits until the proposal can be read back from the topic. */
  const propose = async (p: ReturnType<typeof proposal>) => {
    await agentProducer.send({
      topic: Topics.JobProposed,
      acks: -1,
      messages: [{ key: p.data.job_id, value: JSON.stringify(p) }],
    });
    await probe.waitFor(Topics.JobProposed, forJob(p.data.job_id), 1, 15000);
  };

  it('starts every service with its own principal; each reaches /readyz', async () => {
    for (const name of SERVICE_NAMES) {
      const s = services.get(name)!;
      const body = (await (await fetch(`${s.url}/readyz`)).json()) as {
        status: string;
        checks: Record<string, { ok: boolean }>;
      };
      expect({ name, status: body.status, kafka: body.checks['kafka']?.ok }).toEqual({
        name,
        status: 'ready',
        kafka: true,
      });
    }
  });

  it('an ALLOW proposal from the agent principal is decided, released to the agent and audited for compliance', async () => {
    const p = proposal({ tenant: 'globex', topic: 'job.ticket.read', risk_tags: ['read'] });
    await propose(p);
    const [decision] = await probe.waitFor(Topics.DecisionMade, forJob(p.data.job_id), 1, 60000);
    expect(decision!.json).toMatchObject({
      producer: 'policy-decision',
      data: { decision: 'ALLOW', policy_rule_id: 'allow-read' },
    });
    await agentOutcomes.waitFor(Topics.JobReleased, forJob(p.data.job_id));
    // The trail records the proposal, the decision and the grant; compliance reads them as its own principal.
    await compliance.waitFor(Topics.AuditRecorded, (m) => m.value.includes(p.data.job_id), 3);
  });

  it('a gated proposal: approval-queue publishes the approval, execution-binding releases the job', async () => {
    const p = proposal({
      tenant: 'globex',
      topic: 'job.db.migrate',
      risk_tags: ['prod', 'write'],
      requested_by: 'alice@globex.test',
    });
    await propose(p);
    const [decision] = await probe.waitFor(Topics.DecisionMade, forJob(p.data.job_id), 1, 60000);
    expect(decision!.json).toMatchObject({ data: { decision: 'REQUIRE_APPROVAL', policy_rule_id: 'prod-write-gate' } });

    const queue = services.get('approval-queue')!;
    const token = mintToken(keys.jwtSecret, { sub: `bob-${tag}`, roles: ['service-owner'], tenants: ['globex'] });
    let last = '';
    // Until the queue has the item (it answers 404 before); the last answer is asserted below.
    await waitUntil(
      async () => {
        const r = await fetch(`${queue.url}/api/v1/approvals/${encodeURIComponent(p.data.job_id)}/approve`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'secure broker e2e' }),
        });
        last = `${r.status} ${await r.text()}`;
        return r.status === 200;
      },
      { what: 'the approval accepted', timeout: 30000, every: 300 },
    ).catch(() => undefined);
    expect(last).toMatch(/^200 /);
    const [resolved] = await probe.waitFor(Topics.ApprovalResolved, forJob(p.data.job_id));
    expect(resolved!.json).toMatchObject({ producer: 'approval-queue', data: { resolution: 'APPROVED' } });
    await agentOutcomes.waitFor(Topics.JobReleased, forJob(p.data.job_id));
  });

  it('every service may write the DLQ of what it consumes: a malformed proposal is parked by all four', async () => {
    const key = `bad-${tag}`;
    await agentProducer.send({
      topic: Topics.JobProposed,
      acks: -1,
      messages: [{ key, value: '{"not": "a proposal"' }],
    });
    const parked = await probe.waitFor(
      dlqTopic(Topics.JobProposed),
      (m) => m.json?.['key'] === key,
      SERVICE_NAMES.length,
    );
    expect(parked.map((m) => m.json?.['consumer']).sort()).toEqual([...SERVICE_NAMES].sort());
  });

  it('refuses the agent principal writing decision.made or approval.resolved (TOPIC_AUTHORIZATION_FAILED)', async () => {
    const agent = secureKafka(broker, 'agent');
    expect(await produceError(agent, Topics.DecisionMade)).toContain('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceError(agent, Topics.ApprovalResolved)).toContain('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceError(agent, Topics.AuditRecorded)).toContain('TOPIC_AUTHORIZATION_FAILED');
    // ...and the services are fenced in the same way: no service may forge another's event.
    expect(await produceError(secureKafka(broker, 'execution-binding'), Topics.ApprovalResolved)).toContain(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(await produceError(secureKafka(broker, 'approval-queue'), Topics.DecisionMade)).toContain(
      'TOPIC_AUTHORIZATION_FAILED',
    );
  });

  it('refuses the agent a consumer group outside its prefix, and compliance any topic but audit.recorded', async () => {
    const crashOf = async (kafka: Kafka, groupId: string, topic: string): Promise<string[]> => {
      // No restart after the crash: kafkajs would otherwise rejoin (and be refused) for ever.
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: 10000,
        retry: { retries: 0, restartOnFailure: async () => false },
      });
      const crashed = new Promise<string[]>((res) =>
        consumer.on(consumer.events.CRASH, (e) => res(errorTypes(e.payload.error))),
      );
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async () => undefined });
        let timer: NodeJS.Timeout | undefined;
        const quiet = new Promise<string[]>((res) => (timer = setTimeout(() => res(['no error within 20 s']), 20000)));
        return await Promise.race([crashed, quiet]).finally(() => clearTimeout(timer));
      } catch (e) {
        return errorTypes(e);
      } finally {
        await consumer.disconnect().catch(() => undefined);
      }
    };
    const logged: string[] = [];
    const refused = await crashOf(
      secureKafka(broker, 'agent', { errorLog: logged }),
      `policy-decision-${tag}`,
      Topics.JobReleased,
    );
    expect([...refused, ...logged]).toContain('GROUP_AUTHORIZATION_FAILED');
    expect(await crashOf(secureKafka(broker, 'compliance'), `compliance-x-${tag}`, Topics.DecisionMade)).toContain(
      'TOPIC_AUTHORIZATION_FAILED',
    );
  });

  it('refuses an unauthenticated client, a wrong password and TLS to a broker certificate it does not trust', async () => {
    const anonymous = secureKafka(broker, null).admin();
    await expect(anonymous.connect().then(() => anonymous.listTopics())).rejects.toThrow();
    await anonymous.disconnect().catch(() => undefined);
    expect(await produceError(secureKafka(broker, null), Topics.JobProposed)).not.toEqual([]);

    expect(
      await produceError(secureKafka(broker, 'agent', { password: 'not-the-password' }), Topics.JobProposed),
    ).toContain('KafkaJSSASLAuthenticationError');
    const untrusted = await produceError(secureKafka(broker, 'agent', { tls: 'no-ca' }), Topics.JobProposed);
    expect(untrusted.length).toBeGreaterThan(0);
    expect(await produceError(secureKafka(broker, 'agent', { tls: 'ca' }), Topics.DecisionMade)).toContain(
      'TOPIC_AUTHORIZATION_FAILED',
    );
  });

  it('a service with SASL half-configured stops at boot naming the variable', async () => {
    await expect(
      startService('policy-decision', {
        databaseUrl: 'postgres://127.0.0.1:1/none',
        positionAtEnd: false,
        env: {
          ...keyEnv(keys),
          KAFKA_BROKERS: `127.0.0.1:${SASL_PORT}`,
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_PASSWORD: 'x',
        },
      }),
    ).rejects.toThrow(/KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set/);
  });

  it('authorizes every principal exactly as the ACL matrix says, topic by topic (the broker answers, nothing is written)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-authz-'));
    try {
      const principals = Object.keys(PRINCIPALS);
      const files = principals.map((name) => {
        const file = join(dir, `${name}.properties`);
        writeFileSync(
          file,
          [
            `bootstrap.servers=127.0.0.1:${SASL_PORT}`,
            'security.protocol=SASL_PLAINTEXT',
            'sasl.mechanism=SCRAM-SHA-512',
            `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${name}" password="${password(broker, name)}";`,
          ].join('\n'),
        );
        return file;
      });
      const { stdout } = await run(
        'java',
        [
          '-Xmx96m',
          `-Dlog4j2.configurationFile=${join(ROOT, 'deploy/local/kafka/log4j2-tools.properties')}`,
          '-cp',
          `${LIBS}/*`,
          join(ROOT, 'deploy/local/secure/SecureAdmin.java'),
          'authz',
          files.join(','),
          ...ALL_TOPICS,
        ],
        { timeout: 90000 },
      );
      const actual: Record<string, string> = {};
      for (const line of stdout.trim().split('\n')) {
        const [file, topic, ops] = line.split(' ');
        actual[`${file!.replace(/^.*\/|\.properties$/g, '')} ${topic}`] = ops!;
      }
      const acls = expandAcls();
      const expected: Record<string, string> = {};
      for (const principal of principals) {
        for (const topic of ALL_TOPICS) {
          const ops = new Set<string>();
          for (const a of acls) {
            if (a.principal !== principal || a.resource !== 'topic') continue;
            if (a.pattern === 'literal' ? a.name !== topic : !topic.startsWith(a.name)) continue;
            ops.add(a.operation.toUpperCase()).add('DESCRIBE');
          }
          expected[`${principal} ${topic}`] = ops.size ? [...ops].sort().join(',') : '-';
        }
      }
      expect(actual).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
