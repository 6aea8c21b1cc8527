import type { Consumer, IHeaders, Producer } from 'kafkajs';
import { MessageWaits, barrier } from '@countersign/testkit';
import { kafka } from './stack';

export interface ProbedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  json: Record<string, unknown> | undefined;
  headers: Record<string, string>;
}

/** A message value as a JSON object, or undefined when it is empty or not JSON. */
export function jsonOf(value: string | null): Record<string, unknown> | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A message's headers as strings, the absent ones left out. */
export function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Reads topics from the beginning and keeps every message, so a test can wait for the event it
 * expects (matched by job id) and count exactly how many arrived.
 */
export class KafkaProbe {
  readonly messages: ProbedMessage[] = [];
  private consumer: Consumer | undefined;
  private readonly waits = new MessageWaits();
  /** Per `topic:partition`, the offset after the last message read. */
  private readonly read = new Map<string, number>();

  async start(topics: readonly string[]): Promise<void> {
    const consumer = kafka().consumer({
      groupId: `probe-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const value = message.value ? message.value.toString('utf8') : null;
        const json = jsonOf(value);
        const headers = headersOf(message.headers);
        this.read.set(`${topic}:${partition}`, Number(message.offset) + 1);
        this.messages.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value,
          json,
          headers,
        });
        this.waits.seen();
      },
    });
    this.consumer = consumer;
  }

  find(topic: string, predicate: (m: ProbedMessage) => boolean = () => true): ProbedMessage[] {
    return this.messages.filter((m) => m.topic === topic && predicate(m));
  }

  forJob(topic: string, jobId: string): ProbedMessage[] {
    return this.find(topic, (m) => (m.json?.['data'] as { job_id?: string } | undefined)?.job_id === jobId);
  }

  waitFor(
    topic: string,
    predicate: (m: ProbedMessage) => boolean,
    timeoutMs = 30000,
    count = 1,
  ): Promise<ProbedMessage[]> {
    return this.waits.waitFor(
      () => this.find(topic, predicate),
      count,
      timeoutMs,
      () =>
        `no ${count} message(s) on ${topic} matching within ${timeoutMs} ms (saw ${this.find(topic).length} on the topic)`,
    );
  }

  waitForJob(topic: string, jobId: string, timeoutMs = 30000): Promise<ProbedMessage> {
    return this.waitFor(
      topic,
      (m) => (m.json?.['data'] as { job_id?: string } | undefined)?.job_id === jobId,
      timeoutMs,
    ).then((h) => h[0]!);
  }

  /**
   * Barrier for the probe itself: returns once it has read everything published to `topics` before
   * the call, so a count taken after it includes any duplicate sent until then.
   */
  caughtUp(topics: readonly string[], timeout = 30_000): Promise<unknown> {
    return barrier({
      mark: () => endsOf(topics),
      passed: (ends) => [...ends].every(([at, end]) => end === 0 || (this.read.get(at) ?? 0) >= end),
      what: `the probe reading to the end of ${topics.join(', ')}`,
      timeout,
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

let producer: Producer | undefined;

export async function publishRaw(
  topic: string,
  key: string | null,
  value: string | Buffer | null,
  headers: IHeaders = {},
): Promise<void> {
  if (!producer) {
    producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }
  await producer.send({ topic, messages: [{ key, value, headers }] });
}

export async function closePublisher(): Promise<void> {
  await producer?.disconnect();
  producer = undefined;
}

/** The end of each partition of `topics` now: the offset the next message will get. */
async function endsOf(topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const ends = new Map<string, number>();
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic))
        // A partition with nothing left to read (empty, or all of it past retention) has no end to reach.
        ends.set(`${topic}:${p.partition}`, p.high === p.low ? 0 : Number(p.high));
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Barrier for a service's consumer: returns once consumer group `groupId` has committed past
 * everything on `topics` published before the call. Offsets move only over messages whose handlers
 * finished, so after it, whatever those messages were going to change has changed: assert that
 * nothing (more) happened without a fixed sleep. The last message published is the marker.
 */
export function consumerPassed(groupId: string, topics: readonly string[], timeout = 30_000): Promise<unknown> {
  return barrier({
    mark: () => endsOf(topics),
    passed: async (ends) => {
      const admin = kafka().admin();
      await admin.connect();
      try {
        const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
        return committed.every(({ topic, partitions }) =>
          partitions.every((p) => Number(p.offset) >= (ends.get(`${topic}:${p.partition}`) ?? 0)),
        );
      } finally {
        await admin.disconnect();
      }
    },
    what: `${groupId} past the end of ${topics.join(', ')}`,
    timeout,
  });
}
