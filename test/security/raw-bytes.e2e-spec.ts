import { createHash, randomUUID } from 'node:crypto';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@countersign/bus';
import { Topics, dlqTopic, parseEvent, type JobProposedV1, type Topic } from '@countersign/contracts';
import { CompressionTypes, type Producer } from 'kafkajs';
import { proposal } from '../support/fixtures';
import { kafka, type ServiceName } from '../support/stack';
import { FAMILY, rawPoisons, splice, templateText, type PoisonCase, type PoisonFamily } from './support/raw-poison';
import { CONSUMERS, TopicTail, eventually, startSecurityStack, type SecurityStack } from './support/security-stack';

/** The consumers' default limit: the size cases sit at it and over it. */
const MAX_MESSAGE_BYTES = DEFAULT_MAX_MESSAGE_BYTES;
/** How long an ordinary proposal may take to reach its outcome after a batch of poison (loaded 2-vCPU CI). */
const LIVENESS_MS = Number(process.env['SECURITY_LIVENESS_MS'] ?? 30000);
/** Cases this large are published under the shared key only: sending them twice proves nothing more. */
const BIG = 64 * 1024;
const TOPICS = Object.keys(CONSUMERS) as Topic[];
const FAMILIES: PoisonFamily[] = ['numbers', 'text', 'structure'];
const RESERVED_RULE = 'countersign:reserved-key';

interface Sent {
  c: PoisonCase;
  key: string;
  partition: number;
  offset: string;
  at: number;
}

interface TopicFigures {
  cases: number;
  messages: number;
  dlqRecords: number;
  dlqMs: number[];
  decidedMs: number[];
  outcomeMs: number[];
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return '-';
  const s = [...xs].sort((a, b) => a - b);
  return String(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]);
};

/**
 * Raw-byte poison on every topic each service consumes, against the four services on the real broker
 * and PostgreSQL. Each case is bytes spliced by hand into a valid event (raw-poison.ts): numbers
 * JSON.stringify cannot write (1e309, 2^53 + 1, -0), lone surrogates, invalid UTF-8, a BOM, NUL,
 * duplicate keys, reserved keys, 5,000-deep nesting, sizes at and over MAX_MESSAGE_BYTES, truncated
 * JSON. Every case goes out under a key an ordinary proposal then uses, and under a fresh key.
 * After each batch, ordinary proposals on that key and on fresh keys must reach their outcome within
 * LIVENESS_MS (liveness, not only "no crash"), every poison must be in `<topic>.dlq` from each
 * consumer with a reason naming it, reserved keys inside a job.proposed payload must be DENIED
 * visibly, and every service must stay healthy.
 */
describe('raw-byte poison on every consumed topic', () => {
  let stack: SecurityStack;
  let producer: Producer;
  const dlq = new TopicTail();
  const recorded = new TopicTail();
  const figures = new Map<Topic, TopicFigures>();
  /** Job ids the executor target may see: ordinary proposals and `-0` cases processed as 0. */
  const allowed = new Set<string>();

  const readJob = (jobId: string) =>
    proposal({ job_id: jobId, tenant: 'globex', topic: 'job.repo.read', risk_tags: [], payload: { repo: 'api' } });
  const gatedJob = (jobId: string) =>
    proposal({
      job_id: jobId,
      tenant: 'globex',
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      payload: { flag: 'checkout-v2', on: true },
    });

  async function publish(topic: string, key: string, value: Buffer | string, partition?: number) {
    const size = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    const at = Date.now();
    // Gzip keeps the MAX_MESSAGE_BYTES cases under the broker's own 1 MiB batch limit.
    const [meta] = await producer.send({
      topic,
      acks: -1,
      compression: size > BIG ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: [{ key, value, ...(partition === undefined ? {} : { partition }) }],
    });
    return { partition: meta!.partition, offset: meta!.baseOffset!, at };
  }

  const dlqRecord = (topic: Topic, at: { partition: number; offset: string }, consumer: ServiceName) =>
    dlq.messages.find(
      (m) =>
        m.topic === dlqTopic(topic) &&
        m.json?.['partition'] === at.partition &&
        m.json?.['offset'] === at.offset &&
        m.json?.['consumer'] === consumer,
    );
  const decisionOf = (jobId: string) =>
    stack.events.find(Topics.DecisionMade, (m) => m.key === jobId && m.json?.['producer'] === 'policy-decision')[0];
  const outcomeOf = (jobId: string) =>
    [...stack.events.forJob(Topics.JobExecuted, jobId), ...stack.events.forJob(Topics.JobBlocked, jobId)].find(
      (m) => (m.json?.['data'] as { report_only?: boolean }).report_only !== true,
    );

  /** `/healthz` and `/readyz` of every service. */
  async function health(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [name, s] of stack.services) {
      const codes = await Promise.all(
        ['healthz', 'readyz'].map((p) =>
          fetch(`${s.url}/${p}`).then(
            (r) => r.status,
            () => 0,
          ),
        ),
      );
      out[name] = codes.join('/');
    }
    return out;
  }

  async function approve(jobId: string): Promise<void> {
    const token = await stack.token('bob', ['service-owner'], { tenants: ['globex'] });
    await eventually(
      `${jobId} approved`,
      async () => {
        const res = await fetch(`${stack.url('approval-queue')}/api/v1/approvals/${jobId}/approve`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'ordinary change after poison' }),
        });
        return res.status === 200 ? true : undefined;
      },
      LIVENESS_MS,
    );
  }

  /**
   * Ordinary traffic after a batch: a proposal on the poisoned key (gated and approved where the
   * topic is decision.made or approval.resolved, so its own events cross the poisoned partition),
   * two on fresh keys, and a valid event of the topic for audit. Resolves with the latencies, or
   * rejects naming what did not arrive within LIVENESS_MS.
   */
  async function ordinaryTraffic(topic: Topic, key: string): Promise<{ decidedMs: number; outcomeMs: number[] }> {
    const sameKeyGated = topic === Topics.DecisionMade || topic === Topics.ApprovalResolved;
    const same: JobProposedV1 = sameKeyGated ? gatedJob(key) : readJob(key);
    const fresh = [readJob(`fresh-${randomUUID()}`), readJob(`fresh-${randomUUID()}`)];
    const waits: [string, Promise<number>][] = [];
    const t0 = Date.now();
    const decided = stack.events
      .waitFor(Topics.DecisionMade, (m) => m.key === key && m.json?.['producer'] === 'policy-decision', LIVENESS_MS)
      .then((m) => m.receivedAt - t0);
    const executed = (jobId: string) =>
      stack.outcome(jobId, LIVENESS_MS).then((m) => {
        expect(`${m.topic} ${String((m.json?.['data'] as { reason_code?: string }).reason_code ?? '')}`.trim()).toBe(
          Topics.JobExecuted,
        );
        return m.receivedAt - t0;
      });
    for (const p of [same, ...fresh]) allowed.add(p.data.job_id);
    await publish(Topics.JobProposed, key, JSON.stringify(same));
    for (const p of fresh) await publish(Topics.JobProposed, p.data.job_id, JSON.stringify(p));
    if (topic === Topics.JobProposed) {
      // approval-queue's partition of the poisoned key: a gated job under that key is queued, approved, run.
      const queued = gatedJob(`${key}-gated`);
      allowed.add(queued.data.job_id);
      await publish(Topics.JobProposed, key, JSON.stringify(queued));
      waits.push([
        `gated ${queued.data.job_id} under the poisoned key queued, approved and executed`,
        approve(queued.data.job_id).then(() => executed(queued.data.job_id)),
      ]);
    }
    // audit's partition of the poisoned key on this topic: a valid event of the topic is recorded.
    const valid = splice(templateText(topic, `valid-${randomUUID()}`), null);
    const validId = (JSON.parse(valid.toString()) as { event_id: string }).event_id;
    await publish(topic, key, valid);
    waits.push([
      `audit records a valid ${topic} under the poisoned key`,
      recorded
        .waitFor(
          Topics.AuditRecorded,
          (m) => (m.json?.['data'] as { source_event_id?: string } | undefined)?.source_event_id === validId,
          LIVENESS_MS,
        )
        .then(() => 0),
    ]);
    waits.push([`${same.data.job_id} (poisoned key) decided`, decided]);
    waits.push([
      `${same.data.job_id} (poisoned key${sameKeyGated ? ', gated and approved' : ''}) executed`,
      sameKeyGated ? decided.then(() => approve(key)).then(() => executed(key)) : executed(key),
    ]);
    for (const p of fresh) waits.push([`${p.data.job_id} (fresh key) executed`, executed(p.data.job_id)]);
    const results = await Promise.allSettled(waits.map(([, w]) => w));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${waits[i]![0]}: ${(r.reason as Error).message.split('\n')[0]}`] : [],
    );
    if (failed.length) throw new Error(failed.join('; '));
    const ms = results.map((r) => (r as PromiseFulfilledResult<number>).value);
    return { decidedMs: await decided, outcomeMs: ms.filter((_, i) => waits[i]![0].endsWith('executed')) };
  }

  /** What is wrong with one sent case once the batch has settled (empty when all is as expected). */
  function problemsOf(s: Sent): string[] {
    const consumers = CONSUMERS[s.c.topic]!;
    const at = `${s.c.name} (key ${s.key.startsWith('fresh') ? 'fresh' : 'shared'}, ${s.partition}/${s.offset})`;
    const records = consumers.map((c) => [c, dlqRecord(s.c.topic, s, c)] as const);
    const outcome = outcomeOf(s.c.jobId);
    if (s.c.expect === 'deny') {
      const decision = decisionOf(s.c.jobId)?.json?.['data'] as
        { decision: string; policy_rule_id: string; policy_reason: string } | undefined;
      const block = outcome?.json?.['data'] as { reason_code?: string } | undefined;
      const out: string[] = [];
      if (decision?.decision !== 'DENY' || decision.policy_rule_id !== RESERVED_RULE)
        out.push(
          `${at}: decided ${decision ? `${decision.decision} by ${decision.policy_rule_id}` : 'nothing'}, not DENY by ${RESERVED_RULE}`,
        );
      if (outcome?.topic !== Topics.JobBlocked || block?.reason_code !== 'DENIED')
        out.push(
          `${at}: outcome ${outcome ? `${outcome.topic} ${block?.reason_code ?? ''}` : 'none'}, not job.blocked DENIED`,
        );
      return out;
    }
    if (s.c.expect === 'normalised') {
      const refused = records.filter(([, r]) => r).map(([c, r]) => `${c}: ${String(r!.json?.['error'])}`);
      if (refused.length) return [`${at}: refused by ${refused.join('; ')}, not read as 0`];
      if (outcome?.topic !== Topics.JobExecuted)
        return [`${at}: outcome ${outcome?.topic ?? 'none'}, not job.executed`];
      allowed.add(s.c.jobId);
      return [];
    }
    return records.flatMap(([consumer, r]) => {
      if (!r)
        return [
          `${at}: no ${dlqTopic(s.c.topic)} record from ${consumer}${outcome ? ` (it became ${outcome.topic})` : ''}`,
        ];
      const error = String(r.json?.['error']);
      return s.c.reason.test(error) ? [] : [`${at}: ${consumer} refused it for another reason: ${error.slice(0, 200)}`];
    });
  }

  beforeAll(async () => {
    stack = await startSecurityStack('sec_raw');
    await dlq.start(TOPICS.map(dlqTopic));
    await recorded.start([Topics.AuditRecorded]);
    producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }, 240000);

  afterAll(async () => {
    const rows = [...figures].map(([topic, f]) =>
      [
        topic.padEnd(19),
        String(f.cases).padStart(5),
        String(f.messages).padStart(8),
        String(f.dlqRecords).padStart(7),
        `${pct(f.dlqMs, 50)} / ${pct(f.dlqMs, 95)} / ${f.dlqMs.length ? Math.max(...f.dlqMs) : '-'}`.padStart(20),
        `${pct(f.decidedMs, 50)} / ${f.decidedMs.length ? Math.max(...f.decidedMs) : '-'}`.padStart(14),
        `${pct(f.outcomeMs, 50)} / ${f.outcomeMs.length ? Math.max(...f.outcomeMs) : '-'}`.padStart(14),
      ].join(' | '),
    );
    console.log(
      [
        'raw-byte poison: cases and messages per topic; ms from publish to each DLQ record (p50/p95/max);',
        'ms from publishing the next ordinary proposal (right after a batch) to its decision (p50/max) and outcomes (p50/max)',
        `${'topic'.padEnd(19)} | cases | messages | dlq rec | dlq ms p50/p95/max   | decided p50/max | outcome p50/max`,
        ...rows,
      ].join('\n'),
    );
    await producer?.disconnect();
    await dlq.stop();
    await recorded.stop();
    await stack?.stop();
  });

  it('the corpus: each template is a valid event, each case is named once and is refused by the contract', () => {
    for (const topic of TOPICS) {
      const template = parseEvent(topic, splice(templateText(topic, 'job-template'), null));
      expect(template.ok ? 'valid' : template.error).toBe('valid');
      const cases = rawPoisons(topic, MAX_MESSAGE_BYTES);
      expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
      for (const f of FAMILIES) expect(cases.some((c) => FAMILY[c.kind] === f)).toBe(true);
    }
  });

  it('keeps the secrets of a refused proposal out of every DLQ record and the audit trail of them', async () => {
    const secret = `hunter2-${randomUUID()}`;
    const jobId = `poison-${randomUUID()}`;
    // A poison that carries a secret: every consumer refuses it, and what it writes about it is kept for good.
    const value = splice(templateText(Topics.JobProposed, jobId), 'payload', `"password":"${secret}","n":1e309`);
    const sent = await publish(Topics.JobProposed, jobId, value);
    const digest = createHash('sha256').update(value).digest('hex');
    for (const consumer of CONSUMERS[Topics.JobProposed]!) {
      const record = await eventually(
        `${consumer} DLQ record`,
        async () => dlqRecord(Topics.JobProposed, sent, consumer),
        LIVENESS_MS,
      );
      expect(record.value).not.toContain(secret);
      expect(record.json).toMatchObject({ value_base64: null, value_sha256: digest, value_bytes: value.length });
      expect(String(record.json?.['error'])).toMatch(/not finite/);
      // audit records each DLQ record: the copy in the permanent trail is the redacted one.
      const audited = await recorded.waitFor(
        Topics.AuditRecorded,
        (m) => {
          const body = (m.json?.['data'] as { body?: Record<string, unknown> } | undefined)?.body;
          return (
            body?.['offset'] === sent.offset && body['partition'] === sent.partition && body['consumer'] === consumer
          );
        },
        LIVENESS_MS,
      );
      expect(audited.value).not.toContain(secret);
    }
  });

  it.each(TOPICS)(
    '%s: every raw case is refused by each consumer (or DENIED) and ordinary proposals keep their outcome',
    async (topic) => {
      const f: TopicFigures = { cases: 0, messages: 0, dlqRecords: 0, dlqMs: [], decidedMs: [], outcomeMs: [] };
      figures.set(topic, f);
      // Two instances of the corpus, so each key carries its own job ids.
      const shared = rawPoisons(topic, MAX_MESSAGE_BYTES);
      const freshOnes = rawPoisons(topic, MAX_MESSAGE_BYTES);
      f.cases = shared.length;
      for (const family of FAMILIES) {
        const key = `live-${randomUUID()}`;
        const sent: Sent[] = [];
        for (const [i, c] of shared.entries()) {
          if (FAMILY[c.kind] !== family) continue;
          sent.push({ c, key, ...(await publish(topic, key, c.value)) });
          const twin = freshOnes[i]!;
          if (twin.value.length <= BIG) {
            const freshKey = `fresh-${randomUUID()}`;
            sent.push({ c: twin, key: freshKey, ...(await publish(topic, freshKey, twin.value)) });
          }
        }
        f.messages += sent.length;

        const problems: string[] = [];
        try {
          const t = await ordinaryTraffic(topic, key);
          f.decidedMs.push(t.decidedMs);
          f.outcomeMs.push(...t.outcomeMs);
        } catch (e) {
          problems.push(`liveness after the ${family} batch: ${(e as Error).message}`);
        }
        // The ordinary traffic is the barrier for the partitions it crossed; the rest get the same bound.
        const settled = async () => (sent.every((s) => problemsOf(s).length === 0) ? true : undefined);
        await eventually(`${topic} ${family} poisons settled`, settled, LIVENESS_MS).catch(() => undefined);
        problems.push(...sent.flatMap(problemsOf));
        for (const s of sent)
          for (const consumer of CONSUMERS[topic]!) {
            const r = dlqRecord(topic, s, consumer);
            if (!r) continue;
            f.dlqRecords++;
            f.dlqMs.push(r.receivedAt - s.at);
          }
        expect(problems.slice(0, 25)).toEqual([]);
      }
      // Nothing refused or denied ever reached the executor.
      const poisoned = new Set([...shared, ...freshOnes].map((c) => c.jobId));
      expect(stack.calls.filter((c) => poisoned.has(c.jobId) && !allowed.has(c.jobId))).toEqual([]);
      expect(await health()).toEqual(Object.fromEntries([...stack.services.keys()].map((n) => [n, '200/200'])));
    },
    // Three batches, each bounded by LIVENESS_MS for the traffic and again for the DLQ records.
    FAMILIES.length * 3 * LIVENESS_MS + 60000,
  );
});
