import { Inject, Injectable } from '@nestjs/common';
import type { Reviewer } from '../approvals/core/approval-state';
import { CLOCK, type Clock } from '@countersign/clock';
import type { ApprovalStats, StatsGroup } from './approval-stats.schemas';
import { parseWindow } from './core/stats-window';
import { StatsRepository, type GroupRow } from './stats.repository';

const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

function group(r: GroupRow | undefined): StatsGroup {
  return {
    resolutions: { APPROVED: r?.approved ?? 0, REJECTED: r?.rejected ?? 0, EXPIRED: r?.expired ?? 0 },
    time_to_decision_seconds: { median: round(r?.median ?? null), p90: round(r?.p90 ?? null) },
    sla_breaches: r?.expired ?? 0,
  };
}

/** Queue health over a window: how fast people decide, how often they say no and why, what breaches its SLA. */
@Injectable()
export class GetApprovalStatsUseCase {
  constructor(
    private readonly repo: StatsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(reviewer: Reviewer, window: string): Promise<ApprovalStats> {
    const to = this.clock.now();
    const from = new Date(to.getTime() - (parseWindow(window) ?? 7 * 86400) * 1000);
    const [groups, reasons, pending] = await Promise.all([
      this.repo.groups(from, to, reviewer.tenants),
      this.repo.topRejectionReasons(from, to, reviewer.tenants, 10),
      this.repo.pending(to, reviewer.tenants),
    ]);
    return {
      window,
      from: from.toISOString(),
      to: to.toISOString(),
      overall: group(groups.find((g) => g.scope === 'overall')),
      pending,
      top_rejection_reasons: reasons,
      by_rule: groups
        .filter((g) => g.scope === 'rule')
        .map((g) => ({ policy_rule_id: g.key ?? 'unknown', ...group(g) })),
      by_tier: groups.filter((g) => g.scope === 'tier').map((g) => ({ tier: g.key ?? 'untagged', ...group(g) })),
    };
  }
}
