import { EventProducer, buildEvent, deterministicEventId } from '@countersign/bus';
import { BUS_LOGGER, ReadinessService } from '@countersign/service-kit';
import { Topics } from '@countersign/contracts';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '@countersign/clock';
import { POLICY_CONFIG, type PolicyConfig } from '../config/policy-config';
import { PolicyStore, type ActiveSnapshot } from './policy-store';

/**
 * Announces every snapshot that takes effect on `policy.activated` (at start and on each reload),
 * so the audit trail holds the exact text behind every decision. The event id is derived from the
 * snapshot id: announcing the same snapshot again after a restart is the same event.
 */
@Injectable()
export class PolicyActivationService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private reloading = Promise.resolve();

  constructor(
    private readonly store: PolicyStore,
    private readonly producer: EventProducer,
    private readonly readiness: ReadinessService,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
    @Inject(POLICY_CONFIG) private readonly config: Pick<PolicyConfig, 'reloadMs'>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    readiness.register('policy', () => ({
      ok: true,
      detail: {
        source: store.source,
        active: store.active().map((s) => ({ scope: s.scope, snapshot_id: s.snapshot_id })),
        ...(store.lastError ? { last_reload_error: store.lastError } : {}),
      },
    }));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.announce(this.store.active(), new Map());
    this.timer = setInterval(() => {
      this.reloading = this.reloading
        .then(() => this.reload())
        .catch((e: unknown) => this.logger.error({ err: e }, 'policy reload failed'));
    }, this.config.reloadMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.reloading;
  }

  async reload(): Promise<void> {
    const r = this.store.reload();
    if ('error' in r) {
      this.logger.error({ error: r.error }, 'policy change rejected; the previous snapshot stays active');
      return;
    }
    if (!r.changed) return;
    this.logger.info({ activated: r.activated.map((s) => s.snapshot_id) }, 'policy reloaded');
    await this.announce(r.activated, r.previous);
  }

  private async announce(snapshots: ActiveSnapshot[], previous: Map<string, string>): Promise<void> {
    for (const s of snapshots) {
      const event = buildEvent(
        Topics.PolicyActivated,
        {
          snapshot_id: s.snapshot_id,
          scope: s.scope,
          document: s.document,
          previous_snapshot_id: previous.get(s.scope) ?? null,
          activated_at: this.clock.now().toISOString(),
        },
        { producer: 'policy-decision', eventId: deterministicEventId(Topics.PolicyActivated, s.snapshot_id) },
      );
      await this.producer.send(Topics.PolicyActivated, s.snapshot_id, event);
    }
  }
}
