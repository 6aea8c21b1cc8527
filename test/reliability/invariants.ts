import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { ALL_TOPICS, DLQ_SUFFIX, EVENT_TOPICS, Topics } from '@countersign/contracts';
import { canonicalJson, sha256Hex } from '@countersign/crypto';
import { waitUntil } from '@countersign/testkit';

/** What the load generator proposed and what the policy should make of it. */
export interface ExpectedJob {
  tier: string;
  outcome: 'executed' | 'blocked';
  /** For a blocked job: the reason code it must carry. */
  reasonCode?: string;
  gated: boolean;
}

/** A review the approval queue accepted over REST (its answer, or a 409 on the retry of a lost answer). */
export interface ReviewRecord {
  jobId: string;
  resolution: 'APPROVED' | 'REJECTED';
  confirmedBy: 'response' | 'retry';
  /** The resolution the 409 ALREADY_RESOLVED reported, when confirmed by a retry. */
  reported?: string | undefined;
}

export interface InvariantInput {
  kafka: Kafka;
  databases: { executionBinding: string; approvalQueue: string; audit: string };
  expected: ReadonlyMap<string, ExpectedJob>;
  reviews: readonly ReviewRecord[];
  /** Calls the http executor target received, by job id. */
  targetCalls?: ReadonlyMap<string, number>;
  /** Topics kafka executors dispatch to. */
  dispatchTopics?: readonly string[];
  /** The audit service's verify endpoint (`GET /api/v1/audit/verify`) with an auditor token. */
  audit?: { url: string; token: string };
}

export interface InvariantReport {
  counts: Record<string, number>;
  /** tier -> outcome label (`executed:SUCCEEDED`, `blocked:REJECTED`, `none`) -> jobs. */
  perTier: Record<string, Record<string, number>>;
  violations: string[];
}

interface Message {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  json: Record<string, unknown> | undefined;
}

type Data = Record<string, unknown>;
const dataOf = (m: Message): Data => (m.json?.['data'] ?? {}) as Data;
const eventIdOf = (m: Message): string => String(m.json?.['event_id'] ?? '');

/** Reads every partition of the topics from the beginning up to the end offsets at the start. */
export async function readTopics(kafka: Kafka, topics: readonly string[], timeoutMs = 600_000): Promise<Message[]> {
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const out: Message[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `invariants-${randomUUID()}`, maxBytes: 16 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const value = message.value?.toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = value ? (JSON.parse(value) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        out.push({ topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, json });
        const last = remaining.get(`${topic}:${partition}`);
        if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(`${topic}:${partition}`);
      },
    });
    await waitUntil(() => remaining.size === 0, {
      what: `reading to the end of ${[...remaining.keys()].join(', ')}`,
      timeout: timeoutMs,
      every: 200,
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/**
 * Consumer lag of each group on each topic it has offsets for (end offset minus committed offset,
 * summed over partitions, with the worst partition), so a stuck partition shows while a run goes on.
 */
export async function consumerLag(
  kafka: Kafka,
  groups: readonly string[],
  topics: readonly string[],
): Promise<Record<string, Record<string, { total: number; worst: number }>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, Map<number, bigint>>();
    for (const t of topics)
      ends.set(t, new Map((await admin.fetchTopicOffsets(t)).map((p) => [p.partition, BigInt(p.high)])));
    const out: Record<string, Record<string, { total: number; worst: number }>> = {};
    for (const groupId of groups) {
      out[groupId] = {};
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
        // A topic the group never committed on is one it does not consume.
        if (partitions.every((p) => BigInt(p.offset) < 0n)) continue;
        let total = 0;
        let worst = 0;
        for (const p of partitions) {
          const end = ends.get(topic)?.get(p.partition) ?? 0n;
          const lag = Number(end - (BigInt(p.offset) < 0n ? 0n : BigInt(p.offset)));
          total += lag;
          worst = Math.max(worst, lag);
        }
        if (total > 0) out[groupId][topic] = { total, worst };
      }
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

function groupByJob(messages: Message[]): Map<string, Message[]> {
  const out = new Map<string, Message[]>();
  for (const m of messages) {
    const id = String(dataOf(m)['job_id'] ?? m.key ?? '');
    out.set(id, [...(out.get(id) ?? []), m]);
  }
  return out;
}

/** The distinct events among redelivered copies (same event_id, same content) of one job's messages. */
function distinct(messages: Message[] | undefined): Message[] {
  const seen = new Map<string, Message>();
  for (const m of messages ?? []) if (!seen.has(eventIdOf(m))) seen.set(eventIdOf(m), m);
  return [...seen.values()];
}

interface AuditRow {
  seq: string;
  prev_hash: string;
  record_hash: string;
  dedupe_key: string;
  source_topic: string;
  source_event_id: string | null;
  event_type: string;
  job_id: string | null;
  tenant: string | null;
  recorded_at: Date;
  body: string;
  /** 1, or 2 when the fields below are hashed too (services/audit hash-chain.ts). */
  format: number;
  kind: string | null;
  digest: string | null;
  signature: string | null;
  signature_reason: string | null;
  redaction: string | null;
  conflict: string | null;
}

/**
 * Reads every topic (DLQs included) from the beginning and the services' databases, and checks the
 * gate's promises: one terminal outcome per proposal, nothing executed twice, no gated execution
 * without its bound approval, every event in a verifying audit chain, no accepted review lost.
 */
export async function checkInvariants(input: InvariantInput): Promise<InvariantReport> {
  const violations: string[] = [];
  const v = (s: string) => {
    if (violations.length < 200) violations.push(s);
    else if (violations.length === 200) violations.push('… more violations left out');
  };
  const dispatchTopics = input.dispatchTopics ?? [];
  const messages = await readTopics(input.kafka, [...ALL_TOPICS, ...dispatchTopics]);
  const on = (topic: string) => messages.filter((m) => m.topic === topic);

  const proposed = groupByJob(on(Topics.JobProposed));
  const decisions = groupByJob(on(Topics.DecisionMade));
  const resolutions = groupByJob(on(Topics.ApprovalResolved));
  const executed = groupByJob(on(Topics.JobExecuted));
  const blockedAll = on(Topics.JobBlocked);
  const blocked = groupByJob(blockedAll.filter((m) => dataOf(m)['report_only'] !== true));
  const released = groupByJob(on(Topics.JobReleased));
  const dispatched = groupByJob(messages.filter((m) => dispatchTopics.includes(m.topic)));
  const dlq = messages.filter((m) => m.topic.endsWith(DLQ_SUFFIX));

  const counts: Record<string, number> = {
    proposals: input.expected.size,
    'proposals on job.proposed': proposed.size,
    'job.proposed copies (redelivered)':
      on(Topics.JobProposed).length - [...proposed.values()].reduce((n, ms) => n + distinct(ms).length, 0),
    executed: 0,
    blocked: 0,
    'no outcome': 0,
    'more than one outcome': 0,
    'wrong outcome': 0,
    'failed closed: fact later than INCOMPLETE_AFTER_MS': 0,
    'report-only blocks':
      blockedAll.length - on(Topics.JobBlocked).filter((m) => dataOf(m)['report_only'] !== true).length,
    'executed twice (topic)': 0,
    'executed twice (target)': 0,
    'executed twice (dispatch)': 0,
    'dispatch copies (same event id)': 0,
    'gated executions': 0,
    'gated executions without a bound approval': 0,
    'reviews accepted': input.reviews.length,
    'reviews accepted, answer lost': input.reviews.filter((r) => r.confirmedBy === 'retry').length,
    'reviews lost': 0,
    'dlq messages': dlq.length,
    'audit records': 0,
    'events not in the audit chain': 0,
  };
  const reportOnly = groupByJob(blockedAll.filter((m) => dataOf(m)['report_only'] === true));
  const lateFactOf = (jobId: string) => proposed.has(jobId) && decisions.has(jobId) && reportOnly.has(jobId);
  const perTier: Record<string, Record<string, number>> = {};
  const bump = (tier: string, label: string) => {
    perTier[tier] ??= {};
    perTier[tier][label] = (perTier[tier][label] ?? 0) + 1;
  };

  for (const [jobId, exp] of input.expected) {
    if (!proposed.has(jobId)) v(`${jobId}: never reached job.proposed`);
    const ex = distinct(executed.get(jobId));
    const bl = distinct(blocked.get(jobId));
    const outcomes = ex.length + bl.length;
    let label: string;
    if (outcomes === 0) {
      counts['no outcome']!++;
      label = 'none';
      v(`${jobId} (${exp.tier}): no terminal outcome`);
    } else {
      if (outcomes > 1) {
        counts['more than one outcome']!++;
        v(`${jobId} (${exp.tier}): ${ex.length} job.executed and ${bl.length} job.blocked`);
      }
      if (ex.length) {
        counts['executed']!++;
        label = `executed:${String(dataOf(ex[0]!)['status'])}`;
      } else {
        counts['blocked']!++;
        label = `blocked:${String(dataOf(bl[0]!)['reason_code'])}`;
      }
      const got = ex.length ? 'executed' : 'blocked';
      const reason = bl.length ? String(dataOf(bl[0]!)['reason_code']) : undefined;
      if (reason === 'INCOMPLETE' && lateFactOf(jobId)) {
        // Failed closed, nothing lost: the missing fact is on its topic and reached the executor
        // after INCOMPLETE_AFTER_MS (its consumer lagged that far behind), as a report-only block.
        counts['failed closed: fact later than INCOMPLETE_AFTER_MS']!++;
      } else if (got !== exp.outcome || (exp.reasonCode && reason !== exp.reasonCode)) {
        counts['wrong outcome']!++;
        v(`${jobId} (${exp.tier}): expected ${exp.outcome}${exp.reasonCode ? ` ${exp.reasonCode}` : ''}, got ${label}`);
      }
    }
    bump(exp.tier, label);
    if (released.has(jobId)) v(`${jobId}: released, but no release executor is configured`);
  }
  for (const jobId of new Set([...executed.keys(), ...blocked.keys()])) {
    if (!input.expected.has(jobId)) v(`${jobId}: an outcome for a job nobody proposed`);
  }

  // Zero jobs executed twice: distinct outcome events, differing copies of one event, target calls, dispatches.
  for (const [jobId, ms] of executed) {
    const variants = new Set(
      ms.map((m) => `${eventIdOf(m)}|${String(dataOf(m)['status'])}|${String(dataOf(m)['attempts'])}`),
    );
    if (variants.size > 1) {
      counts['executed twice (topic)']!++;
      v(`${jobId}: ${variants.size} different job.executed events: ${[...variants].join(', ')}`);
    }
  }
  for (const [jobId, n] of input.targetCalls ?? []) {
    if (n > 1) {
      counts['executed twice (target)']!++;
      v(`${jobId}: the http target was called ${n} times`);
    }
  }
  for (const [jobId, ms] of dispatched) {
    if (distinct(ms).length > 1) {
      counts['executed twice (dispatch)']!++;
      v(`${jobId}: dispatched as ${distinct(ms).length} different events`);
    }
    counts['dispatch copies (same event id)']! += ms.length - distinct(ms).length;
  }

  // Every execution is bound: hash and snapshot of its decision, and for a gated job an APPROVED resolution of both.
  for (const [jobId, ms] of executed) {
    const e = dataOf(ms[0]!);
    const ds = distinct(decisions.get(jobId));
    if (ds.length !== 1) {
      v(`${jobId}: executed with ${ds.length} decisions`);
      continue;
    }
    const d = dataOf(ds[0]!);
    if (d['job_hash'] !== e['job_hash'])
      v(`${jobId}: executed hash ${String(e['job_hash'])} differs from the decision's ${String(d['job_hash'])}`);
    if (d['decision'] === 'DENY') v(`${jobId}: executed although denied`);
    if (d['decision'] !== 'REQUIRE_APPROVAL') continue;
    counts['gated executions']!++;
    const bound = distinct(resolutions.get(jobId)).filter((r) => {
      const rd = dataOf(r);
      return (
        rd['resolution'] === 'APPROVED' &&
        rd['job_hash'] === e['job_hash'] &&
        rd['policy_snapshot'] === d['policy_snapshot']
      );
    });
    if (bound.length !== 1) {
      counts['gated executions without a bound approval']!++;
      v(`${jobId}: gated job executed with ${bound.length} bound APPROVED resolutions`);
    }
  }

  // No accepted review lost: each is on approval.resolved (once) and in the queue's table.
  const items = new Map(
    (
      await query<{ job_id: string; state: string }>(
        input.databases.approvalQueue,
        `SELECT job_id, state FROM approval_queue.approval_items`,
      )
    ).map((r) => [r.job_id, r.state]),
  );
  for (const r of input.reviews) {
    const rs = distinct(resolutions.get(r.jobId));
    const lost =
      rs.length !== 1 || dataOf(rs[0]!)['resolution'] !== r.resolution || items.get(r.jobId) !== r.resolution;
    if (lost) {
      counts['reviews lost']!++;
      v(
        `${r.jobId}: ${r.resolution} accepted (${r.confirmedBy}), but approval.resolved has [${rs.map((m) => String(dataOf(m)['resolution'])).join(', ')}] and the queue ${items.get(r.jobId)}`,
      );
    }
    if (r.confirmedBy === 'retry' && r.reported !== r.resolution)
      v(`${r.jobId}: the queue reported ${r.reported} after our ${r.resolution}`);
  }

  // The execution record agrees with the topics: one row per executed job, none for the others.
  const executions = await query<{ job_id: string; attempts: number; kind: string; idempotent: boolean }>(
    input.databases.executionBinding,
    `SELECT job_id, attempts, kind, idempotent FROM execution_binding.executions`,
  );
  for (const x of executions) {
    if (!executed.has(x.job_id)) v(`${x.job_id}: an executions row without job.executed`);
    if (!x.idempotent && x.attempts > 1)
      v(`${x.job_id}: non-idempotent ${x.kind} execution attempted ${x.attempts} times`);
  }
  if (executions.length !== executed.size)
    v(`execution_binding.executions has ${executions.length} rows, job.executed ${executed.size} jobs`);

  // The audit chain: every event and DLQ message recorded once, links and hashes recomputed, head, stream.
  const rows = await query<AuditRow>(
    input.databases.audit,
    `SELECT seq, prev_hash, record_hash, dedupe_key, source_topic, source_event_id, event_type, job_id, tenant, recorded_at, body,
            format, kind, digest, signature, signature_reason, redaction, conflict FROM audit.audit_records ORDER BY seq`,
  );
  counts['audit records'] = rows.length;
  counts['audit conflict records'] = rows.filter((r) => r.kind === 'conflict').length;
  const keys = new Set(rows.map((r) => r.dedupe_key));
  const auditedTopics = EVENT_TOPICS.filter((t) => t !== Topics.AuditRecorded);
  for (const m of messages.filter((x) => auditedTopics.includes(x.topic as (typeof auditedTopics)[number]))) {
    if (!keys.has(`event:${m.topic}:${eventIdOf(m)}`)) {
      counts['events not in the audit chain']!++;
      v(`${m.topic} ${eventIdOf(m)} (job ${String(dataOf(m)['job_id'])}) is not in the audit chain`);
    }
  }
  for (const m of dlq.filter((x) => x.topic !== `${Topics.AuditRecorded}${DLQ_SUFFIX}`)) {
    const r = m.json as { source_topic?: string; partition?: number; offset?: string; consumer?: string } | undefined;
    const key = r?.source_topic
      ? `dlq:${r.source_topic}:${r.partition}:${r.offset}:${r.consumer}`
      : `dlq-raw:${m.topic}:${m.partition}:${m.offset}`;
    if (!keys.has(key) && !keys.has(`dlq-raw:${m.topic}:${m.partition}:${m.offset}`)) {
      counts['events not in the audit chain']!++;
      v(`${m.topic} ${m.partition}:${m.offset} is not in the audit chain`);
    }
  }
  let prev = '0'.repeat(64);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const seq = Number(r.seq);
    if (seq !== i + 1) {
      v(`audit chain: seq ${seq} at position ${i + 1}`);
      break;
    }
    if (r.prev_hash !== prev) v(`audit chain: seq ${seq} does not link to seq ${seq - 1}`);
    const hashed = {
      seq,
      prev_hash: r.prev_hash,
      source_topic: r.source_topic,
      source_event_id: r.source_event_id,
      event_type: r.event_type,
      job_id: r.job_id,
      tenant: r.tenant,
      recorded_at: r.recorded_at.toISOString(),
      body: JSON.parse(r.body) as unknown,
      // Format 2 adds what audit found; format 1 records hash without these keys at all.
      ...(Number(r.format) === 2
        ? {
            format: 2,
            kind: r.kind,
            digest: r.digest,
            signature: r.signature,
            signature_reason: r.signature_reason,
            redaction: r.redaction === null ? null : (JSON.parse(r.redaction) as unknown),
            conflict: r.conflict === null ? null : (JSON.parse(r.conflict) as unknown),
          }
        : {}),
    };
    if (sha256Hex(canonicalJson(hashed)) !== r.record_hash)
      v(`audit chain: seq ${seq} does not hash to its record_hash`);
    // Nothing here is forged: every signed event the services produced must verify with their keys.
    if (r.signature === 'invalid')
      v(`audit chain: seq ${seq} (${r.event_type}) recorded with an invalid signature: ${r.signature_reason ?? ''}`);
    prev = r.record_hash;
  }
  const [head] = await query<{ seq: string; record_hash: string }>(
    input.databases.audit,
    `SELECT seq, record_hash FROM audit.chain_head WHERE id = 1`,
  );
  if (Number(head?.seq) !== rows.length || head?.record_hash !== prev)
    v(`audit chain: head ${head?.seq} does not match the last record ${rows.length}`);
  const streamed = new Map<number, string>();
  for (const m of on(Topics.AuditRecorded)) streamed.set(Number(dataOf(m)['seq']), String(dataOf(m)['record_hash']));
  const notStreamed = rows.filter((r) => streamed.get(Number(r.seq)) !== r.record_hash).length;
  counts['audit records not on audit.recorded'] = notStreamed;
  if (notStreamed) v(`${notStreamed} audit records are not on audit.recorded (or differ there)`);
  if (input.audit) {
    const res = await fetch(`${input.audit.url}/api/v1/audit/verify`, {
      headers: { authorization: `Bearer ${input.audit.token}` },
    });
    const body = (await res.json()) as { ok?: boolean; checked?: number };
    if (res.status !== 200 || body.ok !== true || body.checked !== rows.length)
      v(`audit verify answered ${res.status} ${JSON.stringify(body)}`);
    counts['audit verify ok'] = body.ok === true ? 1 : 0;
  }

  return { counts, perTier, violations };
}

/** The report as two plain tables (counts, then outcomes per tier). */
export function formatReport(report: InvariantReport, extra: Record<string, string | number> = {}): string {
  const rows: [string, string][] = [
    ...Object.entries(extra).map(([k, x]) => [k, String(x)] as [string, string]),
    ...Object.entries(report.counts).map(([k, x]) => [k, String(x)] as [string, string]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    '',
    '== fault suite ==',
    ...rows.map(([k, x]) => `${k.padEnd(w)}  ${x}`),
    '',
    '== outcomes per tier ==',
  ];
  for (const [tier, byLabel] of Object.entries(report.perTier)) {
    const total = Object.values(byLabel).reduce((a, b) => a + b, 0);
    lines.push(
      `${tier.padEnd(14)} ${String(total).padStart(6)}  ${Object.entries(byLabel)
        .map(([l, n]) => `${l}=${n}`)
        .join('  ')}`,
    );
  }
  lines.push(`violations: ${report.violations.length}`);
  return lines.join('\n');
}
