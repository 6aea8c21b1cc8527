import { z } from 'zod';
import { parseWindow } from './core/stats-window';

export const StatsQuerySchema = z.object({
  window: z
    .string()
    .default('7d')
    .refine((w) => parseWindow(w) !== null, 'a duration like 90m, 24h or 7d, at most 366d')
    .meta({ description: 'how far back to look, e.g. 24h or 7d' }),
});

const Group = z.object({
  resolutions: z.object({ APPROVED: z.number().int(), REJECTED: z.number().int(), EXPIRED: z.number().int() }),
  time_to_decision_seconds: z.object({ median: z.number().nullable(), p90: z.number().nullable() }),
  sla_breaches: z.number().int(),
});
export type StatsGroup = z.infer<typeof Group>;

export const ApprovalStatsSchema = z.object({
  window: z.string(),
  from: z.string(),
  to: z.string(),
  overall: Group,
  pending: z.object({ count: z.number().int(), overdue: z.number().int() }),
  top_rejection_reasons: z.array(z.object({ reason: z.string(), count: z.number().int() })),
  by_rule: z.array(Group.extend({ policy_rule_id: z.string() })),
  by_tier: z.array(
    Group.extend({ tier: z.string().meta({ description: 'the sorted risk tags joined by "+", or "untagged"' }) }),
  ),
});
export type ApprovalStats = z.infer<typeof ApprovalStatsSchema>;
