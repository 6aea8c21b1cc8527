import type { JobStateReader } from '../gated-call/call-gated-tool.use-case';

/** The environment variable holding the bearer token (operator or auditor role) the reader presents. */
export const JOB_STATE_TOKEN_ENV = 'COUNTERSIGN_JOB_STATE_TOKEN';

const STATES: Record<string, string> = {
  pending: 'being decided',
  proposed: 'being decided',
  decided: 'being decided',
  awaiting_approval: 'awaiting human approval',
  released: 'released',
  executing: 'executing',
  executed: 'executed',
  blocked: 'blocked',
};

/**
 * Where a job stands, from execution-binding's `GET /api/v1/jobs/{id}/state`, which needs a bearer
 * token with the operator or auditor role. Without a token the progress messages simply omit the state.
 */
export function httpJobStateReader(
  executionUrl: string,
  opts: { token?: string | undefined } = {},
  fetchImpl: typeof fetch = fetch,
): JobStateReader | undefined {
  const token = opts.token?.trim();
  if (!token) return undefined;
  const base = executionUrl.replace(/\/+$/, '');
  return async (jobId) => {
    const res = await fetchImpl(`${base}/api/v1/jobs/${encodeURIComponent(jobId)}/state`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(2000),
    });
    if (res.status === 404) return 'not seen by the gate yet';
    if (!res.ok) return null;
    const body = (await res.json()) as { state?: string; decision?: string | null };
    const state = body.state ? (STATES[body.state] ?? body.state) : null;
    return state && body.decision ? `${state}, decision ${body.decision}` : state;
  };
}
