import {
  Countersign,
  DeniedError,
  InvalidProposalError,
  RejectedError,
  TimeoutError,
  type Grant,
} from '@countersign/agent-sdk';
import { Topics, type ApprovalResolvedV1, type DecisionMadeV1, type JobProposedV1 } from '@countersign/contracts';
import { jobHash } from '@countersign/crypto';
import { jobId as newJobId, proposal } from '../../../test/support/fixtures';
import { KAFKA_BROKERS, type ServiceHandle } from '../../../test/support/stack';
import { BindingRig, HOOK_SECRET, deliver, hookAndAgentExecutors } from './binding-support';

/**
 * What an agent fleet sees: the SDK proposes over Kafka, the test plays policy (and reviewer) with
 * signed events, execution-binding binds, and the SDK runs the released function once and reports.
 */
describe('agent SDK with execution-binding', () => {
  const rig = new BindingRig();
  const { keys, facts, kafkaProbe, probe, hook } = rig;
  let svc: ServiceHandle;
  let gate: Countersign;

  beforeAll(async () => {
    await hook.start();
    svc = await rig.start('eb_agent_sdk', [Topics.JobProposed, Topics.JobExecuted], {
      EXECUTORS_FILE: hookAndAgentExecutors(hook.port),
      TEST_HOOK_SECRET: HOOK_SECRET,
    });
    gate = new Countersign({
      brokers: KAFKA_BROKERS.split(','),
      agentId: 'sdk-test-agent',
      tenant: 'acme',
      executionUrl: svc.url,
      trustedExecutorKeys: keys.pems['execution-binding'].publicKeyPem,
    });
  }, 120_000);

  afterAll(async () => {
    await gate?.close();
    await rig.stop();
  });

  /**
   * Plays the rest of the stack for one job, ahead of its proposal: the decision (and resolution)
   * are stored first, so the job binds the moment the SDK's proposal arrives (and a decision from
   * another stack sharing the broker can only be a late, reported fact).
   */
  async function decideAhead(
    jobId: string,
    a: ReturnType<typeof action>,
    decide: (p: JobProposedV1) => (DecisionMadeV1 | ApprovalResolvedV1)[],
    agentId = 'sdk-test-agent',
  ) {
    const p = proposal({
      job_id: jobId,
      tenant: 'acme',
      agent_id: agentId,
      topic: a.topic,
      risk_tags: a.riskTags,
      payload: a.payload,
    });
    for (const e of decide(p)) await deliver(svc.url, e.type === 'decision.made' ? 'decision' : 'resolution', e);
    return p;
  }

  const action = (jobId: string, topic = 'job.ticket.create') => ({
    jobId,
    topic,
    riskTags: ['write'],
    payload: { queue: 'ops', title: 'Disk full on db-3' },
    summary: { title: 'Open an ops ticket', nextEffect: 'a ticket is created' },
    requestedBy: 'alice@acme.test',
  });

  it('propose -> ALLOW -> verified grant -> run executes fn once -> job.executed SUCCEEDED', async () => {
    const jobId = newJobId('sdk');
    const p = await decideAhead(jobId, action(jobId), (p) => [
      facts.decision(p, { constraints: { max_runtime_sec: 30 } }),
    ]);
    const grants: Grant[] = [];
    const result = await gate.run(action(jobId), async (grant) => {
      grants.push(grant);
      return { ticket: 'OPS-7' };
    });

    expect(result).toEqual({ ticket: 'OPS-7' });
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ jobId, jobHash: jobHash(p.data), constraints: { max_runtime_sec: 30 } });
    expect(grants[0]!.signal.aborted).toBe(false);
    const executed = await probe.waitForJob(Topics.JobExecuted, jobId);
    expect(executed['data']).toMatchObject({
      status: 'SUCCEEDED',
      executor: 'release',
      result: { ticket: 'OPS-7' },
      job_hash: jobHash(p.data),
    });
    expect(await gate.outcome(jobId, { timeoutMs: 10_000 })).toMatchObject({
      jobId,
      status: 'SUCCEEDED',
      result: { ticket: 'OPS-7' },
    });
  });

  it('run() as a SPIFFE workload: the default client id and group work, the grant names the id intact', async () => {
    const agentId = 'spiffe://acme.example/ns/prod/sa/deploy-bot';
    const workload = new Countersign({
      brokers: KAFKA_BROKERS.split(','),
      agentId,
      tenant: 'acme',
      executionUrl: svc.url,
      trustedExecutorKeys: keys.pems['execution-binding'].publicKeyPem,
    });
    try {
      const jobId = newJobId('sdk');
      await decideAhead(jobId, action(jobId), (p) => [facts.decision(p)], agentId);
      const result = await workload.run(action(jobId), (grant) => ({ job: grant.jobId }));
      expect(result).toEqual({ job: jobId });
      await kafkaProbe.caughtUp([Topics.JobProposed]);
      const proposed = kafkaProbe.find(Topics.JobProposed, (m) => m.key === jobId);
      expect(proposed).toHaveLength(1);
      expect((proposed[0]!.json?.['data'] as { agent_id: string }).agent_id).toBe(agentId);
      const executed = await probe.waitForJob(Topics.JobExecuted, jobId);
      expect(executed['data']).toMatchObject({ status: 'SUCCEEDED', result: { job: jobId } });
    } finally {
      await workload.close();
    }
  });

  it('run(): a function that throws is reported FAILED and its error rethrown', async () => {
    const jobId = newJobId('sdk');
    await decideAhead(jobId, action(jobId), (p) => [facts.decision(p)]);
    await expect(
      gate.run(action(jobId), () => {
        throw new Error('ticket system down');
      }),
    ).rejects.toThrow('ticket system down');
    const executed = await probe.waitForJob(Topics.JobExecuted, jobId);
    expect(executed['data']).toMatchObject({ status: 'FAILED', error: 'ticket system down' });
  });

  it('run() of a gated job a reviewer approved', async () => {
    const jobId = newJobId('sdk');
    await decideAhead(jobId, action(jobId), (p) => [
      facts.decision(p, { decision: 'REQUIRE_APPROVAL' }),
      facts.resolution(p),
    ]);
    let calls = 0;
    await gate.run(action(jobId), () => {
      calls += 1;
    });
    expect(calls).toBe(1);
  });

  it('outcome(): DeniedError carries the policy reason', async () => {
    const jobId = newJobId('sdk');
    await decideAhead(jobId, action(jobId), (p) => [
      facts.decision(p, { decision: 'DENY', policy_reason: 'agents may not open tickets at night' }),
    ]);
    await gate.propose(action(jobId));
    const error = await gate.outcome(jobId, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeniedError);
    expect(error).toMatchObject({ reasonCode: 'DENIED', reasonText: 'agents may not open tickets at night' });
  });

  it('run(): RejectedError carries the reviewer reason and the function never runs', async () => {
    const jobId = newJobId('sdk');
    const at = new Date().toISOString();
    await decideAhead(jobId, action(jobId), (p) => [
      facts.decision(p, { decision: 'REQUIRE_APPROVAL' }),
      facts.resolution(p, {
        resolution: 'REJECTED',
        approvals: [{ actor: 'carol', role: 'owner', action: 'reject', reason: 'duplicate of OPS-6', note: null, at }],
        resolved_by: 'carol',
      }),
    ]);
    let calls = 0;
    const error = await gate.run(action(jobId), () => (calls += 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectedError);
    expect((error as RejectedError).reason).toBe('duplicate of OPS-6');
    expect(calls).toBe(0);
  });

  it('outcome() of a job an http executor ran resolves to its result', async () => {
    const jobId = newJobId('sdk');
    await decideAhead(jobId, action(jobId, 'test.http.ticket'), (p) => [facts.decision(p)]);
    await gate.propose(action(jobId, 'test.http.ticket'));
    expect(await gate.outcome(jobId, { timeoutMs: 30_000 })).toMatchObject({
      status: 'SUCCEEDED',
      executor: 'http',
      result: { http_status: 200 },
    });
    expect(hook.callsTo(jobId)).toHaveLength(1);
  });

  it('outcome() throws TimeoutError when nothing arrives in time', async () => {
    await expect(gate.outcome(newJobId('never-proposed'), { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('propose() refuses an invalid proposal before anything is sent', async () => {
    const jobId = newJobId('sdk');
    await expect(gate.propose({ ...action(jobId), topic: 'job.*' })).rejects.toBeInstanceOf(InvalidProposalError);
    await kafkaProbe.caughtUp([Topics.JobProposed]);
    expect(kafkaProbe.find(Topics.JobProposed, (m) => m.key === jobId)).toHaveLength(0);
  });
});
