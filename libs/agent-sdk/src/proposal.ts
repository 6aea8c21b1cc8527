import { randomUUID } from 'node:crypto';
import { JobProposedV1Schema, Topics, findUnsafeJson, type JobProposedV1 } from '@countersign/contracts';
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
  // The payload must survive JSON unchanged, or the hash the gate computes differs from ours.
  if (!isPlainJson(input.payload)) {
    throw new InvalidProposalError([
      { path: 'payload', message: 'must be plain JSON (no undefined, functions, dates or class instances)' },
    ]);
  }
  // What the services would refuse (NUL, lone surrogates, nesting past their limit) is refused here.
  const unsafe = findUnsafeJson(candidate);
  if (unsafe) throw new InvalidProposalError([{ path: unsafe.path.replace(/^data\./, ''), message: unsafe.message }]);
  return r.data;
}

/** Only what JSON carries unchanged: null, booleans, finite numbers, strings, arrays and plain objects. */
function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => isPlainJson(v, depth + 1));
}
