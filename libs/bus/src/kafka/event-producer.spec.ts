import type { Kafka, TopicMessages } from 'kafkajs';
import { EventProducer } from './event-producer';

/** A kafkajs stand-in that records each produce request and lets the test answer it. */
function fakeKafka() {
  const requests: { topicMessages: TopicMessages[]; answer: (e?: Error) => void }[] = [];
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    sendBatch: ({ topicMessages }: { topicMessages: TopicMessages[] }) =>
      new Promise((resolve, reject) => {
        requests.push({ topicMessages, answer: (e) => (e ? reject(e) : resolve([])) });
      }),
  };
  let created = 0;
  const kafka = {
    producer: () => {
      created++;
      return producer;
    },
  } as unknown as Kafka;
  return { kafka, requests, created: () => created };
}
const msg = (key: string) => ({ key, value: `{"k":"${key}"}`, headers: {} });
const tick = () => new Promise((r) => setImmediate(r));

describe('EventProducer send coalescing', () => {
  it('sends what was sent while a request was out as the next request, in order, grouped by topic runs', async () => {
    const { kafka, requests } = fakeKafka();
    const p = new EventProducer(kafka);
    const settled: string[] = [];
    const first = p.sendRaw('a', [msg('1')]).then(() => settled.push('1'));
    await tick();
    const rest = [
      p.sendRaw('a', [msg('2')]).then(() => settled.push('2')),
      p.sendRaw('a', [msg('3')]).then(() => settled.push('3')),
      p.sendRaw('b', [msg('4')]).then(() => settled.push('4')),
      p.sendRaw('a', [msg('5')]).then(() => settled.push('5')),
    ];
    await tick();
    expect(requests).toHaveLength(1);
    expect(settled).toEqual([]); // nothing is acknowledged before the broker answers
    requests[0]!.answer();
    await first;
    await tick();
    expect(requests).toHaveLength(2);
    expect(requests[1]!.topicMessages.map((t) => [t.topic, t.messages.map((m) => m.key)])).toEqual([
      ['a', ['2', '3']],
      ['b', ['4']],
      ['a', ['5']],
    ]);
    expect(settled).toEqual(['1']);
    requests[1]!.answer();
    await Promise.all(rest);
    expect(settled).toEqual(['1', '2', '3', '4', '5']);
  });

  it('rejects every send of a failed request, replaces the producer, and goes on with the next', async () => {
    const { kafka, requests, created } = fakeKafka();
    const p = new EventProducer(kafka);
    const a = p.sendRaw('a', [msg('1')]);
    await tick();
    const b = p.sendRaw('a', [msg('2')]);
    const c = p.sendRaw('a', [msg('3')]);
    requests[0]!.answer(new Error('broker down'));
    await expect(a).rejects.toThrow('broker down');
    await tick();
    requests[1]!.answer(new Error('still down'));
    await expect(b).rejects.toThrow('still down');
    await expect(c).rejects.toThrow('still down');
    const d = p.sendRaw('a', [msg('4')]);
    await tick();
    requests[2]!.answer();
    await expect(d).resolves.toEqual([]);
    expect(created()).toBe(3); // the first, then a new one after each failed request
  });

  it('refuses an invalid event before anything is sent', async () => {
    const { kafka, requests } = fakeKafka();
    const p = new EventProducer(kafka);
    await expect(p.send('job.proposed', 'k', { nope: true } as never)).rejects.toThrow(
      /refusing to send an invalid job.proposed/,
    );
    expect(requests).toHaveLength(0);
  });
});

describe('EventProducer coalescing limits', () => {
  it('never puts more than 512 KiB of values in one coalesced request, and sends an oversized send alone', async () => {
    const { kafka, requests } = fakeKafka();
    const p = new EventProducer(kafka);
    const big = (key: string, kib: number) => ({ key, value: 'x'.repeat(kib * 1024), headers: {} });
    const first = p.sendRaw('a', [msg('0')]);
    await tick();
    const rest = [
      p.sendRaw('a', [big('1', 300)]),
      p.sendRaw('a', [big('2', 300)]),
      p.sendRaw('a', [big('3', 600)]),
      p.sendRaw('a', [msg('4')]),
      p.sendRaw('a', [msg('5')]),
    ];
    requests[0]!.answer();
    await first;
    for (let i = 1; i <= 4; i++) {
      await tick();
      requests[i]!.answer();
    }
    await Promise.all(rest);
    const keys = requests.slice(1).map((r) => r.topicMessages.flatMap((t) => t.messages.map((m) => m.key)));
    expect(keys).toEqual([['1'], ['2'], ['3'], ['4', '5']]);
  });
});
