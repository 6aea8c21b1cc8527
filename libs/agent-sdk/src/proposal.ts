import { randomUUID } from 'node:crypto';
import { JobProposedV1Schema, Topics, findUnsafeEventJson, type JobProposedV1 } from '@countersign/contracts';
import { InvalidProposalError, ProposalTooLargeError } from './errors';

export interface ProposeInput {
  /** The action class, e.g. `job.deploy.rollout`. */
  topic: string;
  riskTags?: string[];
  payload: Record<string, unknown>;
  /** What a reviewer sees first: a title, or a title and the effect it will have. */
  summary?: string | { title: string; nextEffect?: string };
  /** The human or service the agent acts for (they may not approve their own job). */
  requestedBy: string;
  /** Defaults to `job-<uuid>`; give your own to make a retried proposal the same job. */
  jobId?: string;
}

export interface AgentIdentity {
  agentId: string;
  tenant: string;
}

export const SDK_PRODUCER = 'agent-sdk';

/** The default `maxProposalBytes`: 1 MiB, what the services accept (`MAX_MESSAGE_BYTES`). */
export const DEFAULT_MAX_PROPOSAL_BYTES = 1024 * 1024;

/** The event as it goes on the wire; refused when it is larger than the services would accept. */
export function serializeProposal(event: JobProposedV1, maxBytes: number = DEFAULT_MAX_PROPOSAL_BYTES): string {
  const text = JSON.stringify(event);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new ProposalTooLargeError(bytes, maxBytes);
  return text;
}

/** Builds the `job.proposed` event and validates it against the contract, before anything is sent. */
export function buildProposal(
  input: ProposeInput,
  identity: AgentIdentity,
  now: Date = new Date(),
  eventId: string = randomUUID(),
): JobProposedV1 {
  const summary =
    input.summary === undefined
      ? undefined
      : typeof input.summary === 'string'
        ? { title: input.summary }
        : {
            title: input.summary.title,
            ...(input.summary.nextEffect === undefined ? {} : { next_effect: input.summary.nextEffect }),
          };
  const candidate = {
    event_id: eventId,
    type: Topics.JobProposed,
    schema_version: 1,
    occurred_at: now.toISOString(),
    producer: SDK_PRODUCER,
    data: {
      job_id: input.jobId ?? `job-${randomUUID()}`,
      tenant: identity.tenant,
      agent_id: identity.agentId,
      topic: input.topic,
      risk_tags: input.riskTags ?? [],
      payload: input.payload,
      ...(summary ? { summary } : {}),
      requested_by: input.requestedBy,
      proposed_at: now.toISOString(),
    },
  };
  const r = JobProposedV1Schema.safeParse(candidate);
  if (!r.success) {
    throw new InvalidProposalError(
      r.error.issues.map((i) => ({
        path: i.path.join('.').replace(/^data\./, '') || '(proposal)',
        message: i.message,
      })),
    );
  }
  // The gate's own rule (parseEvent in every service), so nothing is sent that the gate would refuse:
  // numbers with no exact JSON form (NaN, Infinity, beyond ±(2^53−1)), NUL, lone surrogates, nesting
  // past MAX_PAYLOAD_DEPTH. Reserved keys pass inside the payload, as at the gate: its policy denies them.
  const unsafe = findUnsafeEventJson(Topics.JobProposed, candidate);
  if (unsafe) throw new InvalidProposalError([{ path: unsafe.path.replace(/^data\./, ''), message: unsafe.message }]);
  // The payload must survive JSON unchanged, or the hash the gate computes differs from ours.
  if (!isPlainJson(input.payload)) {
    throw new InvalidProposalError([
      { path: 'payload', message: 'must be plain JSON (no undefined, functions, dates or class instances)' },
    ]);
  }
  // zod copies a record key by key and drops a top-level "__proto__": send the payload as given.
  return { ...r.data, data: { ...r.data.data, payload: input.payload } };
}

/** Only what JSON carries unchanged: null, booleans, numbers, strings, arrays and plain objects. Iterative. */
function isPlainJson(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
      continue;
    if (Array.isArray(value)) {
      // A sparse array's holes would be written as null.
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return false;
        stack.push(value[i]);
      }
      continue;
    }
    if (typeof value !== 'object') return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const v of Object.values(value)) stack.push(v);
  }
  return true;
}
