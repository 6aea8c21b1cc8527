import { Topics, type JobProposedV1 } from '@countersign/contracts';
import { proposal } from '../../../test/support/fixtures';
import { pgStatementCounter } from '../../../test/support/pg-statements';
import { kafka } from '../../../test/support/stack';
import { BindingRig, HOOK_SECRET, writeExecutorsFile } from './binding-support';

const JOBS = 300;
/**
 * A burst of proposals and decisions produced at once, as raw bytes, against the real service on
 * Kafka and PostgreSQL (issue 16): every job executes exactly once, and the facts are recorded in
 * batch passes, so the service commits far fewer transactions than it receives facts. The service
 * counts its own statements (a preload wrapping pg's Client.prototype.query).
 */
describe('execution-binding: a burst of facts', () => {
  const rig = new BindingRig();
  const { facts, kafkaProbe, probe, hook } = rig;
  const counter = pgStatementCounter();

  beforeAll(async () => {
    await hook.start();
    const executors = writeExecutorsFile(`
executors:
  - name: hook
    kind: http
    match: ["test.burst.**"]
    url: http://127.0.0.1:${hook.port}/hook
    secret_env: TEST_HOOK_SECRET
    timeout_sec: 10
`);
    await rig.start('eb_burst', [Topics.JobExecuted, Topics.JobBlocked], {
      EXECUTORS_FILE: executors,
      TEST_HOOK_SECRET: HOOK_SECRET,
      // Quiet clocks: what is counted is the work the burst causes.
      SWEEP_INTERVAL_MS: '600000',
      OUTBOX_POLL_MS: '1000',
      LOG_LEVEL: 'info',
      ...counter.env,
    });
  }, 120_000);

  afterAll(() => rig.stop());

  it('executes every job exactly once, in far fewer transactions than facts', async () => {
    const proposals: JobProposedV1[] = Array.from({ length: JOBS }, () => proposal({ topic: 'test.burst.apply' }));
    const decisions = proposals.map((p) => facts.decision(p));
    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const before = await counter.settled();
    try {
      await producer.sendBatch({
        topicMessages: [
          {
            topic: Topics.JobProposed,
            messages: proposals.map((p) => ({ key: p.data.job_id, value: JSON.stringify(p) })),
          },
          {
            topic: Topics.DecisionMade,
            messages: decisions.map((d) => ({ key: d.data.job_id, value: JSON.stringify(d) })),
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const ids = new Set(proposals.map((p) => p.data.job_id));
    await kafkaProbe.waitFor(
      Topics.JobExecuted,
      (m) => ids.has((m.json?.['data'] as { job_id?: string } | undefined)?.job_id ?? ''),
      120_000,
      JOBS,
    );
    const after = await counter.settled();

    for (const p of proposals) {
      const executed = probe.forJob(Topics.JobExecuted, p.data.job_id);
      expect(executed.map((e) => (e['data'] as { status: string }).status)).toEqual(['SUCCEEDED']);
      expect(hook.callsTo(p.data.job_id)).toHaveLength(1);
    }
    const blocked = kafkaProbe.find(Topics.JobBlocked, (m) =>
      ids.has((m.json?.['data'] as { job_id?: string } | undefined)?.job_id ?? ''),
    );
    expect(blocked).toHaveLength(0);

    const factCount = 2 * JOBS;
    const statements = after.total - before.total;
    const commits = after.commits - before.commits;
    process.stdout.write(
      `burst of ${JOBS} proposals + ${JOBS} decisions: ${statements} statements ` +
        `(${(statements / JOBS).toFixed(2)} per proposal), ${commits} commits\n`,
    );
    expect(commits).toBeLessThan(factCount / 3);
    expect(statements / JOBS).toBeLessThan(1);
  }, 180_000);
});
