import { metrics, type Counter, type Histogram } from '@opentelemetry/api';
import type { Resolution } from './core/approval-state';

/**
 * OpenTelemetry instruments for resolutions; exported as the OTEL_* variables say (none by default).
 * Called by the adapters after a commit, never from inside a use case's rules.
 */
export class ApprovalMetrics {
  private readonly timeToDecision: Histogram;
  private readonly resolutions: Counter;

  constructor() {
    const meter = metrics.getMeter('approval-queue');
    this.timeToDecision = meter.createHistogram('approval.time_to_decision', {
      description: 'Time from an approval becoming pending to its resolution',
      unit: 's',
    });
    this.resolutions = meter.createCounter('approval.resolutions', {
      description: 'Approvals resolved, by resolution',
    });
  }

  resolved(r: {
    resolution: Resolution;
    policyRuleId: string | null;
    pendingSince: Date | null;
    resolvedAt: Date;
  }): void {
    const attributes = { resolution: r.resolution, policy_rule_id: r.policyRuleId ?? 'unknown' };
    this.resolutions.add(1, attributes);
    if (r.pendingSince)
      this.timeToDecision.record(Math.max(0, (r.resolvedAt.getTime() - r.pendingSince.getTime()) / 1000), attributes);
  }
}
