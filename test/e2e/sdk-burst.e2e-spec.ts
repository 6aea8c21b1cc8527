import { Topics } from '@countersign/contracts';
import { KafkaTransport } from '../../libs/agent-sdk/src/kafka-transport';
import { KafkaProbe } from '../support/kafka-probe';
import { KAFKA_BROKERS } from '../support/stack';

/**
 * An agent proposing many actions at once: the SDK's sends made while a request is out go together
 * in the next request. Every send must still be acknowledged only by the broker and arrive exactly
 * once, in the order sent per key, and a burst must share requests instead of paying one each.
 */
describe('agent SDK: a burst of proposals shares produce requests', () => {
  const probe = new KafkaProbe();
  let transport: KafkaTransport;
  let produceRequests = 0;

  beforeAll(async () => {
    await probe.start([Topics.JobProposed]);
    transport = new KafkaTransport({ brokers: KAFKA_BROKERS.split(','), clientId: 'sdk-burst' });
    // Counted on the transport's own kafkajs client: every Produce request its producer makes.
    const kafka = (transport as unknown as { kafka: import('kafkajs').Kafka }).kafka;
    const original = kafka.producer.bind(kafka);
    kafka.producer = (config) => {
      const p = original(config);
      p.on(p.events.REQUEST, (e: { payload: { apiName: string } }) => {
        if (e.payload.apiName === 'Produce') produceRequests += 1;
      });
      return p;
    };
  });

  afterAll(async () => {
    await transport.close();
    await probe.stop();
  });

  it('acknowledges every send once it is on the broker, each exactly once and in order per key', async () => {
    const run = `burst-${Date.now()}`;
    const n = 300;
    const keys = ['a', 'b', 'c'].map((k) => `${run}-${k}`);
    // Raw bytes as an agent would send them; the probe matches on the run id inside the value.
    const sends = Array.from({ length: n }, (_, i) =>
      transport.publish(Topics.JobProposed, keys[i % 3]!, `{"burst":"${run}","i":${i}}`, { 'x-i': String(i) }),
    );
    await Promise.all(sends);
    const mine = await probe.waitFor(
      Topics.JobProposed,
      (m) => m.value?.includes(`"burst":"${run}"`) ?? false,
      20000,
      n,
    );
    const seen = mine.map((m) => (m.json as { i: number }).i);
    expect(new Set(seen).size).toBe(n);
    expect(seen).toHaveLength(n);
    for (const key of keys) {
      const order = mine.filter((m) => m.key === key).map((m) => (m.json as { i: number }).i);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    // One request per send would be 300; coalescing shares them (the first goes alone).
    expect(produceRequests).toBeGreaterThan(0);
    expect(produceRequests).toBeLessThan(n / 3);
  });
});
