import { BUS_LOGGER, ReadinessService } from '@countersign/service-kit';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { QUEUE_CONFIG, type QueueConfig } from '../config/queue-config';
import { SweepApprovalsUseCase } from './sweep-approvals.use-case';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the sweep every SWEEP_INTERVAL_MS, one pass at a time, from start until shutdown. */
@Injectable()
export class SlaSweeperService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly sweep: SweepApprovalsUseCase,
    private readonly readiness: ReadinessService,
    @Inject(QUEUE_CONFIG) private readonly config: QueueConfig,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.readiness.register('sla-sweeper', () =>
      this.lastError ? { ok: false, error: `sla sweeper failing: ${this.lastError}` } : { ok: true },
    );
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** One full pass: every overdue item expired, every due escalation sent. */
  async pass(): Promise<{ expired: number; escalated: number }> {
    const batch = this.config.env.SWEEP_BATCH_SIZE;
    let expired = 0;
    for (let n = batch; n === batch && this.running;) {
      n = await this.sweep.expireDue(batch);
      expired += n;
    }
    let escalated = 0;
    for (let n = batch; n === batch && this.running;) {
      n = await this.sweep.escalateDue(batch);
      escalated += n;
    }
    return { expired, escalated };
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const { expired, escalated } = await this.pass();
        if (expired || escalated) this.logger.info({ expired, escalated }, 'sla sweep');
        this.lastError = undefined;
      } catch (e) {
        this.lastError = (e as Error).message;
        this.logger.warn({ err: e }, 'sla sweep failed; will retry');
      }
      await sleep(this.config.env.SWEEP_INTERVAL_MS);
    }
  }
}
