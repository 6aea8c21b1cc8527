import { join } from 'node:path';
import type { EventProducer } from '@countersign/bus';
import { FakeClock } from '@countersign/clock';
import { Topics, exampleEvents, type DecisionMadeV1, type JobProposedV1 } from '@countersign/contracts';
import { generateSigningKeyPair, publicKeyFromPem, signerFromPem, verifyEvent } from '@countersign/crypto';
import { DecideProposalUseCase } from './decide-proposal.use-case';
import { PolicyStore } from './policy-store';

const POLICIES = join(__dirname, '..', '..', '..', '..', 'policies');
const keys = generateSigningKeyPair();

/** Records what the use case sends instead of talking to a broker. */
class SentEvents {
  readonly sent: { topic: string; key: string; event: DecisionMadeV1 }[] = [];
  send(topic: string, key: string, event: DecisionMadeV1) {
    this.sent.push({ topic, key, event });
    return Promise.resolve([]);
  }
}

function proposal(data: Partial<JobProposedV1['data']>, eventId = 'evt-proposal-1'): JobProposedV1 {
  const base = exampleEvents['job.proposed'] as unknown as JobProposedV1;
  return { ...base, event_id: eventId, data: { ...base.data, ...data } };
}

function setup(start = '2026-12-06T10:00:00.000Z') {
  const producer = new SentEvents();
  const clock = new FakeClock(start);
  const store = new PolicyStore({ kind: 'file', path: join(POLICIES, 'approval-policy.yaml') });
  const sut = new DecideProposalUseCase(
    store,
    producer as unknown as EventProducer,
    { signer: signerFromPem(keys.privateKeyPem) },
    clock,
  );
  return { sut, producer, clock };
}

describe('DecideProposalUseCase', () => {
  it('gates a production write and sends one signed decision keyed by the job', async () => {
    const { sut, producer } = setup();
    const data = await sut.execute(
      proposal({ job_id: 'job-0002', topic: 'job.deploy.rollout', risk_tags: ['prod', 'write'] }),
    );

    expect(data).toMatchObject({
      job_id: 'job-0002',
      decision: 'REQUIRE_APPROVAL',
      policy_rule_id: 'prod-write-gate',
      approval: { approvals_required: 1, sla_seconds: 3600 },
    });
    expect(producer.sent).toHaveLength(1);
    const [{ topic, key, event }] = producer.sent as [(typeof producer.sent)[0]];
    expect(topic).toBe(Topics.DecisionMade);
    expect(key).toBe('job-0002');
    expect(event.data).toEqual(data);
    expect(event.producer).toBe('policy-decision');
    expect(verifyEvent(event, [publicKeyFromPem(keys.publicKeyPem)])).toMatchObject({ ok: true });
  });

  it('stamps decided_at from the injected clock', async () => {
    const { sut, clock } = setup('2026-12-06T10:00:00.000Z');
    clock.advance(90_000);
    const data = await sut.execute(proposal({ topic: 'job.deploy.rollout', risk_tags: ['prod', 'write'] }));
    expect(data.decided_at).toBe('2026-12-06T10:01:30.000Z');
  });

  it('gives a redelivered proposal the same event id, so consumers keep one decision', async () => {
    const { sut, producer } = setup();
    const p = proposal({ topic: 'job.deploy.rollout', risk_tags: ['prod', 'write'] }, 'evt-same');
    await sut.execute(p);
    await sut.execute(p);
    await sut.execute(proposal({ topic: 'job.deploy.rollout', risk_tags: ['prod', 'write'] }, 'evt-other'));

    const ids = producer.sent.map((s) => s.event.event_id);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('sends a topic no rule matches to a human (the default rule): it fails closed, never open', async () => {
    const { sut, producer } = setup();
    const data = await sut.execute(proposal({ topic: 'job.unknown.thing', risk_tags: [] }));
    expect(data).toMatchObject({ decision: 'REQUIRE_APPROVAL', policy_rule_id: 'default', matched_rules: [] });
    expect(producer.sent.map((s) => s.event.data.decision)).toEqual(['REQUIRE_APPROVAL']);
  });
});
