import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SCHEMA } from '../approvals/approvals.repository';

const ITEMS = `"${SCHEMA}".approval_items`;

export interface GroupRow {
  scope: 'overall' | 'rule' | 'tier';
  key: string | null;
  approved: number;
  rejected: number;
  expired: number;
  median: number | null;
  p90: number | null;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Aggregates over resolved items; time to decision counts human decisions only (EXPIRED is a breach, not a decision). */
@Injectable()
export class StatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async groups(from: Date, to: Date, tenants: readonly string[] | undefined): Promise<GroupRow[]> {
    const rows = (await this.dataSource.query(
      `SELECT GROUPING(policy_rule_id) AS g_rule, GROUPING(tier) AS g_tier, policy_rule_id, tier,
              count(*) FILTER (WHERE state = 'APPROVED') AS approved,
              count(*) FILTER (WHERE state = 'REJECTED') AS rejected,
              count(*) FILTER (WHERE state = 'EXPIRED') AS expired,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ttd) FILTER (WHERE state <> 'EXPIRED') AS median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY ttd) FILTER (WHERE state <> 'EXPIRED') AS p90
         FROM (SELECT state, coalesce(policy_rule_id, 'unknown') AS policy_rule_id,
                      coalesce((SELECT string_agg(t, '+' ORDER BY t) FROM unnest(risk_tags) t), 'untagged') AS tier,
                      extract(epoch FROM resolved_at - pending_since)::float8 AS ttd
                 FROM ${ITEMS}
                WHERE resolved_at >= $1 AND resolved_at <= $2 AND state IN ('APPROVED', 'REJECTED', 'EXPIRED')
                  AND ($3::text[] IS NULL OR tenant = ANY($3::text[]))) r
        GROUP BY GROUPING SETS ((), (policy_rule_id), (tier))`,
      [from, to, tenants ?? null],
    )) as Row[];
    return rows.map((r) => ({
      scope: Number(r['g_rule']) === 0 ? 'rule' : Number(r['g_tier']) === 0 ? 'tier' : 'overall',
      key: (Number(r['g_rule']) === 0 ? r['policy_rule_id'] : Number(r['g_tier']) === 0 ? r['tier'] : null) as
        string | null,
      approved: Number(r['approved']),
      rejected: Number(r['rejected']),
      expired: Number(r['expired']),
      median: num(r['median']),
      p90: num(r['p90']),
    }));
  }

  async topRejectionReasons(
    from: Date,
    to: Date,
    tenants: readonly string[] | undefined,
    limit: number,
  ): Promise<{ reason: string; count: number }[]> {
    const rows = (await this.dataSource.query(
      `SELECT lower(btrim(coalesce(resolved_comment, ''))) AS reason, count(*) AS n
         FROM ${ITEMS}
        WHERE state = 'REJECTED' AND resolved_at >= $1 AND resolved_at <= $2 AND ($3::text[] IS NULL OR tenant = ANY($3::text[]))
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $4`,
      [from, to, tenants ?? null, limit],
    )) as Row[];
    return rows.map((r) => ({ reason: r['reason'] as string, count: Number(r['n']) }));
  }

  async pending(now: Date, tenants: readonly string[] | undefined): Promise<{ count: number; overdue: number }> {
    const rows = (await this.dataSource.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE due_at <= $1) AS overdue
         FROM ${ITEMS} WHERE state = 'PENDING' AND ($2::text[] IS NULL OR tenant = ANY($2::text[]))`,
      [now, tenants ?? null],
    )) as Row[];
    return { count: Number(rows[0]?.['n'] ?? 0), overdue: Number(rows[0]?.['overdue'] ?? 0) };
  }
}
