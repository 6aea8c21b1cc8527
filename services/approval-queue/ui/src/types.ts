import type { operations } from './api.generated';

/**
 * The approval-queue API as the page uses it, named from the generated types
 * (`api.generated.ts`, written by scripts/api-types.cjs from the service's OpenAPI document, which
 * its zod schemas generate), so the page's build never pulls in server code and never drifts.
 */

type Json<
  O extends keyof operations,
  S extends keyof operations[O]['responses'],
> = operations[O]['responses'][S] extends {
  content: { 'application/json': infer T };
}
  ? T
  : never;

export type ApprovalPage = Json<'ApprovalsController_listApprovals', 200>;
export type ApprovalItem = ApprovalPage['items'][number];
export type ItemState = ApprovalItem['job']['state'];
export type Resolution = NonNullable<ApprovalItem['resolution']>;
export type ActionView = ApprovalItem['approvals'][number];
export type HistoryView = ApprovalItem['history'][number];
export type DecisionSummary = ApprovalItem['decision_summary'];
export type ReviewResult = Json<'ApprovalsController_approve', 200>;
export type ApprovalStats = Json<'ApprovalStatsController_get', 200>;
export type StatsGroup = ApprovalStats['overall'];
export type ApiErrorBody = Json<'ApprovalsController_approve', 409>;
export type UiConfig = Json<'UiConfigController_get', 200>;
