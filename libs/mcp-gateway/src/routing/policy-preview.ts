import {
  compilePolicySet,
  decideWithoutHash,
  formatDuration,
  loadPolicyDir,
  type CompiledPolicySet,
  type PolicyDecisionValue,
} from '@countersign/policy';
import type { ToolRoute } from './tool-route';

/** What the policy would decide for every call of a tool (policy looks at topic, tags, agent, tenant: never arguments). */
export interface PolicyPreview {
  decision: PolicyDecisionValue;
  ruleId: string;
  reason: string;
  /** The approval SLA of a REQUIRE_APPROVAL decision. */
  slaMs: number | null;
}

export type PolicyPreviewer = (route: ToolRoute) => PolicyPreview;

/**
 * A local reading of the policy, for conveniences only (waits sized to the SLA, hidden or annotated
 * tools): policy-decision still decides every call, with whatever policy is active there.
 */
export function policyPreviewer(
  policy: CompiledPolicySet,
  identity: { tenant: string; agentId: string },
): PolicyPreviewer {
  return (route) => {
    const d = decideWithoutHash(
      {
        job_id: 'preview',
        tenant: identity.tenant,
        agent_id: identity.agentId,
        topic: route.topic,
        risk_tags: route.riskTags,
        payload: {},
      },
      policy,
    );
    return {
      decision: d.decision,
      ruleId: d.policy_rule_id,
      reason: d.policy_reason,
      slaMs: d.approval ? d.approval.sla_seconds * 1000 : null,
    };
  };
}

export function loadPolicyPreviewer(dir: string, identity: { tenant: string; agentId: string }): PolicyPreviewer {
  return policyPreviewer(compilePolicySet(loadPolicyDir(dir)), identity);
}

/** The expiry of an approval reaches the gateway a little after the SLA (queue sweep, binding, Kafka). */
export const SLA_GRACE_MS = 2 * 60_000;

/**
 * How long a call waits for its outcome: the rule's own timeout, else the previewed SLA plus grace
 * (so the gate's EXPIRED, not the gateway's impatience, ends an unanswered approval), else the default.
 */
export function waitFor(route: ToolRoute, preview: PolicyPreview | undefined, defaultMs: number): number {
  if (route.timeoutMs !== undefined) return route.timeoutMs;
  if (preview?.slaMs) return preview.slaMs + SLA_GRACE_MS;
  return defaultMs;
}

/** One sentence for the tool's description, so the model knows before calling what the gate will do. */
export function describePreview(preview: PolicyPreview): string | null {
  switch (preview.decision) {
    case 'REQUIRE_APPROVAL':
      return `Countersign: each call waits for human approval (${preview.reason}; up to ${formatDuration(
        Math.max(1, Math.round((preview.slaMs ?? 0) / 1000)),
      )}).`;
    case 'DENY':
      return `Countersign: policy denies calls of this tool (${preview.reason}).`;
    case 'ALLOW':
    case 'ALLOW_WITH_CONSTRAINTS':
      return null;
  }
}
