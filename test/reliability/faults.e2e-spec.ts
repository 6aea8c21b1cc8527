import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer } from 'kafkajs';
import { Client } from 'pg';
import { ALL_TOPICS, DLQ_SUFFIX, Topics } from '@countersign/contracts';
import { elapse, mintToken, waitUntil } from '@countersign/testkit';
import {
  ROOT,
  SERVICE_NAMES,
  keyEnv,
  makeTestKeys,
  startService,
  type ServiceHandle,
  type ServiceName,
  type TestKeys,
} from '../support/stack';
import { checkInvariants, consumerLag, formatReport } from './invariants';
import { ExecutorTarget, Publisher, Reviewer, executorsYaml } from './load';
import { PrivateKafka, PrivatePostgres } from './private-cluster';

/**
 * The fault suite (issue #8): proposals flow at a steady rate while each service is killed with
 * SIGKILL and restarted, the broker is stopped and started, and PostgreSQL is stopped in immediate
 * mode and started; then, once everything is quiet, the invariant checker reads every topic and
 * database. It runs on its own broker and its own PostgreSQL cluster, so nothing else on the
 * machine is hurt. CHAOS_PROPOSALS sizes it (short by default; `make chaos` runs 10,000).
 */
const PROPOSALS = Number(process.env['CHAOS_PROPOSALS'] ?? 150);
const FULL = PROPOSALS > 1000;
// The short run's rate spreads its proposals over a little more than one fault cycle (~80 s here: a
// restarted service waits out its dead member's 8 s session before it is ready again), so every
// fault meets traffic; the run stops injecting once the load is done and a whole cycle has run.
const RATE = Number(process.env['CHAOS_RATE'] ?? (FULL ? 12 : 1.6));
const FAULT_GAP_MS = Number(process.env['CHAOS_FAULT_GAP_MS'] ?? (FULL ? 20_000 : 3_000));
const OUTAGE_MS = Number(process.env['CHAOS_OUTAGE_MS'] ?? 5_000);
const QUIESCE_MS = Number(process.env['CHAOS_QUIESCE_MS'] ?? (FULL ? 3_600_000 : 300_000));
const DISPATCH_TOPIC = 'chaos.dispatch';
const DATABASES: Record<ServiceName, string> = {
  'policy-decision': 'cs_chaos_policy',
  'approval-queue': 'cs_chaos_approval_queue',
  'execution-binding': 'cs_chaos_execution_binding',
  audit: 'cs_chaos_audit',
};

const log = (msg: string) => process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Follows every topic while the run goes on, to tell when the system has gone quiet. */
class LiveView {
  readonly outcomes = new Set<string>();
  readonly events = new Set<string>();
  dlq = 0;
  auditStreamed = 0;
  private consumer: Consumer | undefined;

  async start(kafka: PrivateKafka): Promise<void> {
    this.consumer = kafka.client('chaos-live').consumer({ groupId: `chaos-live-${process.pid}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...ALL_TOPICS], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const json = JSON.parse(message.value?.toString('utf8') ?? '{}') as {
          event_id?: string;
          data?: Record<string, unknown>;
        };
        if (topic.endsWith(DLQ_SUFFIX)) {
          if (topic !== `${Topics.AuditRecorded}${DLQ_SUFFIX}`) this.dlq++;
          return;
        }
        if (topic === Topics.AuditRecorded) {
          this.auditStreamed = Math.max(this.auditStreamed, Number(json.data?.['seq'] ?? 0));
          return;
        }
        this.events.add(`${topic}:${json.event_id}`);
        if (topic === Topics.JobExecuted || (topic === Topics.JobBlocked && json.data?.['report_only'] !== true))
          this.outcomes.add(String(json.data?.['job_id']));
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

async function scalar(url: string, sql: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(sql)).rows[0]?.['n'] ?? 0);
  } finally {
    await c.end();
  }
}

describe('fault suite: faults while proposals flow', () => {
  const kafka = new PrivateKafka();
  const pg = new PrivatePostgres();
  const target = new ExecutorTarget();
  const live = new LiveView();
  const services = new Map<ServiceName, ServiceHandle>();
  const dbUrls = {} as Record<ServiceName, string>;
  const faults: { fault: string; at: string; recoveredInMs: number }[] = [];
  const unplannedExits: string[] = [];
  let keys: TestKeys;
  let env: Record<string, string>;
  let dir: string | undefined;
  let reviewer: Reviewer;
  let publisher: Publisher;

  const svc = (name: ServiceName) => services.get(name)!;

  /** Each service's consumer lag (messages behind, worst partition), for the progress lines. */
  const lag = async () => {
    try {
      const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timed out')), 10_000).unref());
      const byGroup = await Promise.race([
        timeout,
        consumerLag(
          kafka.client('chaos-lag'),
          SERVICE_NAMES.map((n) => svc(n).groupId),
          [Topics.JobProposed, Topics.DecisionMade, Topics.ApprovalResolved, Topics.JobExecuted, Topics.JobBlocked],
        ),
      ]);
      return SERVICE_NAMES.map((n) => {
        const t = Object.entries(byGroup[svc(n).groupId] ?? {}).map(([topic, l]) => `${topic} ${l.total}/${l.worst}`);
        return `${n}: ${t.length ? t.join(', ') : '0'}`;
      }).join('; ');
    } catch (e) {
      return `lag n/a (${(e as Error).message})`;
    }
  };

  const start = async (name: ServiceName, previous?: ServiceHandle) => {
    const h = await startService(name, {
      databaseUrl: dbUrls[name],
      env,
      positionAtEnd: false,
      readyTimeoutMs: 180_000,
      ...(previous ? { groupId: previous.groupId, port: previous.port } : { groupId: `${name}-chaos-${process.pid}` }),
    });
    h.process.on('exit', (code, signal) => {
      if (services.get(name) === h && signal !== 'SIGKILL' && signal !== 'SIGTERM')
        unplannedExits.push(`${name} exited ${code ?? signal}`);
    });
    services.set(name, h);
    return h;
  };

  /** After a broker or database fault: every service ready again, a crashed one restarted as a supervisor would. */
  const waitAllReady = async (why: string) => {
    const deadline = Date.now() + 180_000;
    for (const name of SERVICE_NAMES) {
      await waitUntil(
        async () => {
          const h = svc(name);
          if (h.process.exitCode !== null || h.process.signalCode !== null) {
            log(`${name} died after ${why}; restarting it`);
            await start(name, h);
            return false;
          }
          return fetch(`${h.url}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          );
        },
        { what: `${name} ready again after ${why}`, timeout: Math.max(0, deadline - Date.now()), every: 500 },
      );
    }
  };

  const inject = async (fault: string, run: () => Promise<void>) => {
    const t0 = Date.now();
    const at = `${publisher.sent} sent`;
    log(`fault: ${fault} (${at})`);
    await run();
    faults.push({ fault, at, recoveredInMs: Date.now() - t0 });
    log(`recovered from ${fault} in ${Date.now() - t0} ms`);
  };

  const faultCycle: { name: string; run: () => Promise<void> }[] = [
    ...SERVICE_NAMES.map((name) => ({
      name: `kill -9 ${name}`,
      run: async () => {
        const h = svc(name);
        await h.kill();
        await elapse(1000, 'the service stays down a moment, as after a real crash');
        await start(name, h);
      },
    })),
    {
      name: 'stop/start Kafka',
      run: async () => {
        await kafka.down();
        await elapse(OUTAGE_MS, 'the broker outage lasts OUTAGE_MS');
        await kafka.up();
        await waitAllReady('the broker restart');
      },
    },
    {
      name: 'stop (immediate)/start PostgreSQL',
      run: async () => {
        await pg.down('immediate');
        await elapse(OUTAGE_MS, 'the database outage lasts OUTAGE_MS');
        await pg.up();
        await waitAllReady('the PostgreSQL restart');
      },
    },
  ];

  beforeAll(async () => {
    log(`private PostgreSQL and Kafka for ${PROPOSALS} proposals at ${RATE}/s`);
    await Promise.all([pg.start(), kafka.start()]);
    log(`broker ${kafka.brokers}, PostgreSQL :${pg.port}`);
    await kafka.createTopic(DISPATCH_TOPIC);
    log('dispatch topic');
    for (const name of SERVICE_NAMES) {
      dbUrls[name] = await pg.createDatabase(DATABASES[name]);
      log(`db ${name}`);
    }
    await target.start();
    log('databases and executor target ready; starting the services');
    keys = makeTestKeys();
    dir = mkdtempSync(join(tmpdir(), 'cs-chaos-'));
    mkdirSync(join(dir, 'policies'));
    cpSync(join(ROOT, 'policies', 'system.yaml'), join(dir, 'policies', 'system.yaml'));
    writeFileSync(join(dir, 'executors.yaml'), executorsYaml(target.url, DISPATCH_TOPIC));
    env = {
      ...keyEnv(keys),
      KAFKA_BROKERS: kafka.brokers,
      LOG_LEVEL: 'info',
      POLICY_DIR: join(dir, 'policies'),
      EXECUTORS_FILE: join(dir, 'executors.yaml'),
      EXECUTOR_HTTP_SECRET: 'chaos-executor-secret-0123456789',
      // A call cut off by a SIGKILL is recovered (UNKNOWN) once its lease runs out: keep it short.
      EXECUTION_LEASE_GRACE_MS: '3000',
      // A killed service's partitions go back to the group after this long (the default is 30 s).
      KAFKA_SESSION_TIMEOUT_MS: '8000',
    };
    for (const name of SERVICE_NAMES) {
      await start(name);
      log(`${name} ready on ${svc(name).url}`);
    }
    await live.start(kafka);
    reviewer = new Reviewer(() => svc('approval-queue').url, keys.jwtSecret);
    publisher = new Publisher(kafka.client('chaos-agent'), reviewer, Date.now().toString(36));
  }, 600_000);

  afterAll(async () => {
    await reviewer?.stop();
    await publisher?.stop();
    await live.stop();
    await Promise.all([...services.values()].map((s) => s.kill()));
    await target.stop();
    await kafka.destroy();
    await pg.destroy();
    for (const d of [dir, keys?.dir]) if (d) rmSync(d, { recursive: true, force: true });
  }, 300_000);

  it(
    'keeps every promise of the gate through service, broker and database crashes',
    async () => {
      const began = Date.now();
      reviewer.start();
      let publishing = true;
      const load = publisher
        .run(PROPOSALS, RATE, (n) => {
          const line = `${n}/${PROPOSALS} proposals sent, ${live.outcomes.size} outcomes, ${reviewer.pending} reviews pending`;
          if (n % 1000 === 0) void lag().then((l) => log(`${line}; lag (total/worst partition) ${l}`));
          else log(line);
        })
        .finally(() => (publishing = false));

      let cycles = 0;
      do {
        for (const f of faultCycle) {
          // A fault after the load meets no traffic: once a whole cycle has run, stop with the load.
          if (!publishing && cycles > 0) break;
          await elapse(FAULT_GAP_MS, 'the load runs undisturbed between two faults');
          await inject(f.name, f.run);
        }
        cycles++;
      } while (publishing);
      await load;
      const loadEnded = Date.now();
      log(
        `load done: ${publisher.sent} proposals, ${faults.length} faults in ${cycles} cycle(s); waiting for quiescence`,
      );

      const deadline = Date.now() + QUIESCE_MS;
      let lastLog = 0;
      // Until quiet, or checked anyway when QUIESCE_MS is up (the probe logs which).
      await waitUntil(
        async () => {
          const unpublished = await Promise.all(
            (['approval-queue', 'execution-binding', 'audit'] as const).map((n) =>
              scalar(dbUrls[n], `SELECT count(*) AS n FROM ${n.replace('-', '_')}.outbox WHERE published_at IS NULL`),
            ),
          );
          const audited = await scalar(dbUrls.audit, `SELECT count(*) AS n FROM audit.audit_records`);
          // A conflict record is a second body under a known event id (policy-decision re-announces its
          // snapshots with a new activated_at on every start): one event, two records.
          const conflicts = await scalar(
            dbUrls.audit,
            `SELECT count(*) AS n FROM audit.audit_records WHERE kind = 'conflict'`,
          );
          const state = {
            outcomes: live.outcomes.size,
            reviews: reviewer.pending,
            outbox: unpublished.reduce((a, b) => a + b, 0),
            audited,
            events: live.events.size + live.dlq,
            streamed: live.auditStreamed,
          };
          if (
            state.outcomes >= PROPOSALS &&
            state.reviews === 0 &&
            state.outbox === 0 &&
            audited - conflicts === state.events &&
            state.streamed === audited
          )
            return true;
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            log(`quiescing: ${JSON.stringify(state)}; lag ${await lag()}`);
          }
          if (Date.now() > deadline) {
            log(`not quiet within ${QUIESCE_MS} ms: ${JSON.stringify(state)}; checking anyway`);
            return true;
          }
          return false;
        },
        { what: 'quiescence', timeout: QUIESCE_MS + 60_000, every: 1000 },
      );
      const quiesceMs = Date.now() - loadEnded;
      await reviewer.stop();

      const auditor = mintToken(keys.jwtSecret, { sub: 'erin@globex.test', roles: ['auditor'] });
      const report = await checkInvariants({
        kafka: kafka.client('chaos-invariants'),
        databases: {
          executionBinding: dbUrls['execution-binding'],
          approvalQueue: dbUrls['approval-queue'],
          audit: dbUrls.audit,
        },
        expected: publisher.expected,
        reviews: reviewer.reviews,
        targetCalls: target.calls,
        dispatchTopics: [DISPATCH_TOPIC],
        audit: { url: svc('audit').url, token: auditor },
      });
      const extra = {
        'faults injected': faults.length,
        ...Object.fromEntries(
          faults.map((f, i) => [
            `  ${i + 1}. ${f.fault}`,
            `at ${f.at}, recovered in ${(f.recoveredInMs / 1000).toFixed(1)} s`,
          ]),
        ),
        'unplanned service exits': unplannedExits.length,
        'proposal send retries': publisher.sendRetries,
        'review retries': reviewer.retries,
        'http target calls': [...target.calls.values()].reduce((a, b) => a + b, 0),
        'load duration (s)': ((loadEnded - began) / 1000).toFixed(1),
        'time to quiesce (s)': (quiesceMs / 1000).toFixed(1),
      };
      log(formatReport(report, extra));
      if (unplannedExits.length) log(`unplanned exits: ${unplannedExits.join('; ')}`);
      if (reviewer.refusals.length) log(`reviewer refusals:\n${reviewer.refusals.slice(0, 20).join('\n')}`);
      if (report.violations.length) log(`violations:\n${report.violations.slice(0, 50).join('\n')}`);

      expect(faults.length).toBeGreaterThanOrEqual(faultCycle.length);
      expect(reviewer.refusals).toEqual([]);
      expect(report.violations).toEqual([]);
      expect(report.counts['proposals']).toBe(PROPOSALS);
      expect(report.counts['no outcome']).toBe(0);
      expect(report.counts['more than one outcome']).toBe(0);
      expect(
        report.counts['executed twice (topic)']! +
          report.counts['executed twice (target)']! +
          report.counts['executed twice (dispatch)']!,
      ).toBe(0);
      expect(report.counts['gated executions without a bound approval']).toBe(0);
      expect(report.counts['events not in the audit chain']).toBe(0);
      expect(report.counts['audit verify ok']).toBe(1);
      expect(report.counts['reviews lost']).toBe(0);
    },
    FULL ? 6 * 3_600_000 : 1_800_000,
  );
});
