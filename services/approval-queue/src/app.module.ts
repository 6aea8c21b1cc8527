import { BusModule, type ServiceDefinition } from '@countersign/bus';
import { Module, type DynamicModule } from '@nestjs/common';
import { ApprovalActionEntity } from './approvals/approval-action.entity';
import { ApprovalItemEntity } from './approvals/approval-item.entity';
import { ApprovalsModule } from './approvals/approvals.module';
import type { Env } from './config/env.schema';
import { IntakeModule } from './intake/intake.module';
import { migrations } from './migrations';
import { QueueCoreModule } from './queue-core.module';
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
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot(SERVICE, env),
        QueueCoreModule.forRoot(env),
        IntakeModule,
        ApprovalsModule,
        StatsModule,
        SweeperModule,
      ],
    };
  }
}
