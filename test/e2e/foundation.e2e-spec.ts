import { createHash, randomBytes } from 'node:crypto';
import { Topics, dlqTopic } from '@countersign/contracts';
import { KafkaProbe, publishRaw } from '../support/kafka-probe';
import { proposal } from '../support/fixtures';
import { SERVICE_NAMES, createTestStack, startServices, type ServiceHandle } from '../support/stack';
import { stopSpecStack } from '../support/teardown';

/**
 * The foundation: four real service processes on the real broker and Postgres. A proposal reaches
 * every consumer in one trace; a malformed message goes to the DLQ and the next one still flows.
 */
describe('foundation: the four services on Kafka and Postgres', () => {
  const services: ServiceHandle[] = [];
  const probe = new KafkaProbe();

  beforeAll(async () => {
    const stack = await createTestStack('foundation');
    await probe.start([dlqTopic(Topics.JobProposed)]);
    services.push(...(await startServices(stack)));
  }, 180000);

  afterAll(async () => {
    await stopSpecStack(services, probe);
  });

  it('answers /healthz and /readyz on every service', async () => {
    for (const s of services) {
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      expect(body.checks['kafka']?.ok).toBe(true);
    }
  });

  it('delivers one proposal to every service in one trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const event = proposal();
    await publishRaw(Topics.JobProposed, event.data.job_id, JSON.stringify(event), {
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    });
    const seen = await Promise.all(
      services.map((s) => s.waitForLog((l) => l['msg'] === 'event accepted' && l['job_id'] === event.data.job_id)),
    );
    expect(seen).toHaveLength(4);
    for (const line of seen) expect(line['trace_id']).toBe(traceId);
  });

  it('sends a malformed message to the DLQ and still processes the next valid one', async () => {
    const badKey = `bad-${Date.now()}`;
    await publishRaw(Topics.JobProposed, badKey, Buffer.from('{"not": "a proposal"'));
    const next = proposal();
    await publishRaw(Topics.JobProposed, next.data.job_id, JSON.stringify(next));

    const dlq = await probe.waitFor(dlqTopic(Topics.JobProposed), (m) => m.json?.['key'] === badKey, 30000, 4);
    const consumers = dlq.map((m) => m.json?.['consumer']).sort();
    expect(consumers).toEqual([...SERVICE_NAMES].sort());
    for (const m of dlq) {
      expect(m.json?.['error']).toMatch(/not JSON/);
      // The bytes themselves are kept only with DLQ_KEEP_RAW; their digest always.
      expect(m.json?.['value_base64']).toBeNull();
      expect(m.json?.['value_sha256']).toBe(createHash('sha256').update('{"not": "a proposal"').digest('hex'));
    }
    await Promise.all(
      services.map((s) => s.waitForLog((l) => l['msg'] === 'event accepted' && l['job_id'] === next.data.job_id)),
    );
  });
});
