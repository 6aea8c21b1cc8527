import type { ApiErrorBody, ApprovalItem, ApprovalPage, ApprovalStats, ReviewResult } from './types';

/** An answer other than 2xx, with the API's error code (or a code of our own for the network). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface QueueFilters {
  tenant?: string | undefined;
  topic?: string | undefined;
  risk_tag?: string | undefined;
}

/** The approval-queue REST API, relative to the page so it also works behind a path prefix. */
export class ApprovalApi {
  constructor(
    private readonly token: () => string | null,
    private readonly onUnauthenticated: (e: ApiError) => void,
  ) {}

  async list(
    opts: QueueFilters & { includeResolved?: boolean; limit?: number; cursor?: string | null },
  ): Promise<ApprovalPage> {
    const q = new URLSearchParams({
      include_resolved: String(opts.includeResolved ?? false),
      limit: String(opts.limit ?? 100),
    });
    for (const key of ['tenant', 'topic', 'risk_tag'] as const) {
      const v = opts[key]?.trim();
      if (v) q.set(key, v);
    }
    if (opts.cursor) q.set('cursor', opts.cursor);
    return this.request<ApprovalPage>('GET', `api/v1/approvals?${q.toString()}`);
  }

  /** Every page, up to `max` items (history and stats use it). */
  async listAll(opts: QueueFilters & { includeResolved?: boolean }, max = 1000): Promise<ApprovalItem[]> {
    const items: ApprovalItem[] = [];
    let cursor: string | null = null;
    do {
      const page: ApprovalPage = await this.list({ ...opts, limit: 200, cursor });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < max);
    return items;
  }

  review(
    jobId: string,
    action: 'approve' | 'reject',
    body: { reason: string | null; note: string | null },
  ): Promise<ReviewResult> {
    return this.request<ReviewResult>('POST', `api/v1/approvals/${encodeURIComponent(jobId)}/${action}`, body);
  }

  stats(window = '7d'): Promise<ApprovalStats> {
    return this.request<ApprovalStats>('GET', `api/v1/approvals/stats?window=${encodeURIComponent(window)}`);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const token = this.token();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, document.baseURI), {
        method,
        headers,
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'the approval queue could not be reached');
    }
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    const err = (json as ApiErrorBody | undefined)?.error;
    const { code, message, ...details } = err ?? {
      code: `HTTP_${res.status}`,
      message: res.statusText || 'unexpected answer',
    };
    const e = new ApiError(res.status, String(code), String(message), details);
    if (res.status === 401) this.onUnauthenticated(e);
    throw e;
  }
}
