import { ReportError } from './errors';

export interface Report {
  grant: Record<string, unknown>;
  status: 'SUCCEEDED' | 'FAILED';
  result?: unknown;
  error?: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON-safe copy of a result; a value JSON cannot carry is reported as null rather than lost silently. */
export function jsonResult(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return null;
  }
}

/**
 * POSTs the outcome to execution-binding, the grant as its credential. Network errors and 5xx are
 * retried (the endpoint answers the same report again without recording twice); 4xx are final.
 */
export async function sendReport(
  executionUrl: string,
  jobId: string,
  report: Report,
  fetchImpl: typeof fetch = fetch,
  attempts = 5,
): Promise<void> {
  const url = `${executionUrl.replace(/\/+$/, '')}/api/v1/jobs/${encodeURIComponent(jobId)}/report`;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(250 * 2 ** (i - 1));
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.ok) return;
      last = `HTTP ${res.status} ${(await res.text().catch(() => '')).slice(0, 300)}`;
      if (res.status < 500) break;
    } catch (e) {
      last = (e as Error).message;
    }
  }
  throw new ReportError(jobId, last, report.result);
}
