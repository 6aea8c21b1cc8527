import type { JobStateReader } from '../gated-call/call-gated-tool.use-case';

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

/** Where a job stands, from execution-binding's `GET /api/v1/jobs/{id}/state` (no payload there, no auth). */
export function httpJobStateReader(executionUrl: string, fetchImpl: typeof fetch = fetch): JobStateReader {
  const base = executionUrl.replace(/\/+$/, '');
  return async (jobId) => {
    const res = await fetchImpl(`${base}/api/v1/jobs/${encodeURIComponent(jobId)}/state`, {
      signal: AbortSignal.timeout(2000),
    });
    if (res.status === 404) return 'not seen by the gate yet';
    if (!res.ok) return null;
    const body = (await res.json()) as { state?: string; decision?: string | null };
    const state = body.state ? (STATES[body.state] ?? body.state) : null;
    return state && body.decision ? `${state}, decision ${body.decision}` : state;
  };
}
