import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { kafka as testKafka } from '../support/stack';

/**
 * What patches/kafkajs+2.2.4.patch (applied by `npm ci`, postinstall) changes, on the real broker.
 *
 * kafkajs 2.2.4 re-armed a timer on every connection whenever its request queue was checked, with
 * a negative delay when nothing was throttled: an idle client ran a 1 ms timer loop per broker
 * connection forever (kafkajs #1556 / #1704; 3-5 % of a vCPU per idle service here): an idle
 * producer and a consumer waiting in a long poll must schedule no request-queue timers at all.
 *
 * kafkajs left Nagle's algorithm on, so a request could wait for the previous one's ACK (up to the
 * 40 ms delayed-ACK timer): every broker connection must disable it.
 */
describe('kafkajs as patched (patches/kafkajs+2.2.4.patch)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin.disconnect();
  });

  it('disables Nagle on every broker connection', async () => {
    const calls: unknown[] = [];
    const original = Socket.prototype.setNoDelay;
    Socket.prototype.setNoDelay = function (this: Socket, ...args: Parameters<Socket['setNoDelay']>) {
      calls.push(args[0]);
      return original.apply(this, args);
    };
    const client = kafka.producer();
    try {
      await client.connect();
    } finally {
      Socket.prototype.setNoDelay = original;
      await client.disconnect();
    }
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((noDelay) => noDelay === true)).toBe(true);
  });

  it('schedules no request-queue timers while nothing is pending', async () => {
    const topic = `spec.idle.${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: Buffer.from('one') }] });
    consumer = kafka.consumer({ groupId: `spec-idle-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 5000 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const consumed = new Promise<void>((resolve) => {
      void consumer.run({ eachMessage: () => Promise.resolve(resolve()) });
    });
    // Barrier: the consumer has joined, fetched and handled the one message; its next fetch now
    // waits on the broker (a long poll in flight, nothing pending).
    await consumed;

    const original = global.setTimeout;
    let fromQueue = 0;
    let total = 0;
    global.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      total++;
      if (new Error().stack?.includes('requestQueue')) fromQueue++;
      return original(...args);
    }) as typeof setTimeout;
    try {
      // An observation window, not a wait for an event: unpatched, this is ~200 timers.
      await new Promise((r) => original(r, 200));
    } finally {
      global.setTimeout = original;
    }
    expect(fromQueue).toBe(0);
    expect(total).toBeLessThan(20);
  });
});
