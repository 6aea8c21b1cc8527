import { BusModule, type ServiceDefinition } from '@countersign/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import { ApprovalActionEntity } from './approvals/approval-action.entity';
import { ApprovalItemEntity } from './approvals/approval-item.entity';
import { ApprovalsModule } from './approvals/approvals.module';
import type { QueueConfig } from './config/queue-config';
import { QueueConfigModule } from './config/queue-config.module';
import { IntakeModule } from './intake/intake.module';
import { migrations } from './migrations';
import { StatsModule } from './stats/stats.module';
import { SweeperModule } from './sweeper/sweeper.module';

export const SERVICE: ServiceDefinition = {
  name: 'approval-queue',
  schema: 'approval_queue',
  entities: [ApprovalItemEntity, ApprovalActionEntity],
  migrations,
};

@Module({})
export class AppModule {
  static forRoot(config: QueueConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot(SERVICE, config.env),
        QueueConfigModule.forRoot(config),
        IntakeModule,
        ApprovalsModule,
        StatsModule,
        SweeperModule,
      ],
    };
  }
}
