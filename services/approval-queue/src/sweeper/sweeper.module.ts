import { BUS_LOGGER } from '@countersign/service-kit';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApprovalsModule } from '../approvals/approvals.module';
import { QUEUE_CONFIG, type QueueConfig } from '../config/queue-config';
import { EscalationWebhook } from './escalation-webhook';
import { SlaSweeperService } from './sla-sweeper.service';
import { SweepApprovalsUseCase } from './sweep-approvals.use-case';

@Module({
  imports: [ApprovalsModule],
  providers: [
    {
      provide: EscalationWebhook,
      useFactory: ({ env }: QueueConfig, logger: Logger) =>
        new EscalationWebhook(env.ESCALATION_WEBHOOK_URL, env.ESCALATION_WEBHOOK_TIMEOUT_MS, logger),
      inject: [QUEUE_CONFIG, BUS_LOGGER],
    },
    SweepApprovalsUseCase,
    SlaSweeperService,
  ],
})
export class SweeperModule {}
