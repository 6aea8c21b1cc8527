import { BusModule, type ServiceDefinition } from '@countersign/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import type { AuditConfig } from './config/audit-config';
import { AuditConfigModule } from './config/audit-config.module';
import { migrations } from './migrations';
import { AuditRecordEntity } from './records/audit-record.entity';
import { ChainHeadEntity } from './records/chain-head.entity';
import { PolicySnapshotEntity } from './records/policy-snapshot.entity';
import { RecordsModule } from './records/records.module';
import { TrailModule } from './trail/trail.module';

export const SERVICE: ServiceDefinition = {
  name: 'audit',
  schema: 'audit',
  entities: [AuditRecordEntity, ChainHeadEntity, PolicySnapshotEntity],
  migrations,
};

@Module({})
export class AppModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [BusModule.forRoot(SERVICE, config.env), AuditConfigModule.forRoot(config), RecordsModule, TrailModule],
    };
  }
}
