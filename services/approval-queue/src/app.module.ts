import { serviceModule, type ServiceDefinition } from '@countersign/service-kit';
import type { DynamicModule } from '@nestjs/common';
import { ApprovalActionEntity } from './approvals/approval-action.entity';
import { ApprovalItemEntity } from './approvals/approval-item.entity';
import { ApprovalsModule } from './approvals/approvals.module';
import { QUEUE_CONFIG, type QueueConfig } from './config/queue-config';
import { IntakeModule } from './intake/intake.module';
import { migrations } from './migrations';
import { StatsModule } from './stats/stats.module';
import { SweeperModule } from './sweeper/sweeper.module';
import { UiConfigModule } from './ui-config/ui-config.module';

export const SERVICE: ServiceDefinition = {
  name: 'approval-queue',
  schema: 'approval_queue',
  entities: [ApprovalItemEntity, ApprovalActionEntity],
  migrations,
};

/** The root module: the kit's bus and config wiring, then this service's features. */
export function appModule(config: QueueConfig): DynamicModule {
  return serviceModule({
    service: SERVICE,
    config,
    configToken: QUEUE_CONFIG,
    features: [IntakeModule, ApprovalsModule, StatsModule, SweeperModule, UiConfigModule],
  });
}
