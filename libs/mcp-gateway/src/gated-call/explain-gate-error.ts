import {
  BlockedError,
  DeniedError,
  ExpiredError,
  GrantVerificationError,
  InvalidProposalError,
  NotReleasedError,
  RejectedError,
  TimeoutError,
} from '@countersign/agent-sdk';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { durationText } from './duration-text';
import { CallCancelledError, UpstreamCallError } from './gated-call.errors';

export interface CallDescription {
  jobId: string;
  server: string;
  tool: string;
  topic: string;
  waitMs: number;
}

/** Result metadata keys: clients and tests read the job id and outcome code without parsing the text. */
export const META_JOB_ID = 'countersign/job_id';
export const META_CODE = 'countersign/code';

const BLOCK_HINTS: Partial<Record<string, string>> = {
  DUPLICATE:
    'Another, different proposal was made under the same job id, so neither is executed. Call the tool again: a new call is a new request.',
  HASH_MISMATCH: 'The approval does not match exactly what was proposed, so it was not honoured.',
  SNAPSHOT_MISMATCH: 'The approval was given under another policy version than the one that gated the call.',
  BAD_SIGNATURE: 'A decision or approval for this call was not signed by a trusted Countersign service.',
  NO_EXECUTOR: 'Countersign has no executor for this kind of action: tell the user.',
  CONSTRAINT_VIOLATION: 'The call would break a constraint the policy put on it.',
  INCOMPLETE: 'The gate never received everything it needs to decide (a service may be down): tell the user.',
};

/**
 * What the model reads when the gate did not let a call through: what happened, why (the policy's
 * or the reviewer's own words), that the tool did NOT run, and what to do instead of retrying blindly.
 */
export function explainGateError(e: unknown, c: CallDescription): { code: string; text: string } {
  const what = `${c.server}/${c.tool}`;
  const job = `(Countersign job ${c.jobId}, action ${c.topic})`;
  if (e instanceof DeniedError) {
    return {
      code: 'DENIED',
      text: `Denied by policy: ${what} was NOT run. Reason: ${e.reasonText ?? e.detail} ${job}. The same call will be denied again; take another approach or ask the user.`,
    };
  }
  if (e instanceof RejectedError) {
    return {
      code: 'REJECTED',
      text: `Rejected by a human reviewer: ${what} was NOT run. Reviewer's reason: "${e.reason ?? 'none given'}" ${job}. Do not retry it unchanged: address the reason, or ask the user.`,
    };
  }
  if (e instanceof ExpiredError) {
    return {
      code: 'EXPIRED',
      text: `Nobody approved this call before its approval deadline: ${what} was NOT run ${job}. Ask the user to arrange a reviewer before calling it again.`,
    };
  }
  if (e instanceof BlockedError) {
    const hint = BLOCK_HINTS[e.reasonCode] ?? '';
    return {
      code: e.reasonCode,
      text: `Blocked by Countersign (${e.reasonCode}): ${what} was NOT run. ${e.reasonText ?? e.detail}. ${hint} ${job}`.trim(),
    };
  }
  if (e instanceof TimeoutError) {
    return {
      code: 'TIMEOUT',
      text: `No decision within ${durationText(c.waitMs)}: ${what} was NOT run, and this call will not run it even if it is approved later ${job}. Ask the user whether to try again; a new call is a new approval request.`,
    };
  }
  if (e instanceof GrantVerificationError) {
    return {
      code: e.code,
      text: `The release of this call did not verify (${e.message}): ${what} was NOT run ${job}. This is a configuration or security problem, not a policy decision: tell the user.`,
    };
  }
  if (e instanceof NotReleasedError) {
    return {
      code: e.code,
      text: `Countersign executed this job with one of its own executors instead of releasing it to the MCP gateway, so the gateway did not call ${what} ${job}. Its executors must route ${c.topic} to a release executor: tell the user.`,
    };
  }
  if (e instanceof InvalidProposalError) {
    return {
      code: e.code,
      text: `This call could not be submitted for approval (${e.message}): ${what} was NOT run ${job}.`,
    };
  }
  if (e instanceof CallCancelledError) return { code: e.code, text: `Cancelled: ${what} was NOT run ${job}.` };
  if (e instanceof UpstreamCallError) {
    return {
      code: e.code,
      text: `The call was approved and sent, but ${e.message}. It may or may not have taken effect ${job}; check before calling it again.`,
    };
  }
  return {
    code: 'GATE_UNAVAILABLE',
    text: `Countersign could not be asked (${e instanceof Error ? e.message : String(e)}): ${what} was NOT run ${job}. Tell the user.`,
  };
}

export function toolError(code: string, text: string, jobId: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }], _meta: { [META_JOB_ID]: jobId, [META_CODE]: code } };
}
