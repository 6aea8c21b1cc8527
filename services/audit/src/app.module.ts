import { serviceModule, type ServiceDefinition } from '@countersign/service-kit';
import type { DynamicModule } from '@nestjs/common';
import { AUDIT_CONFIG, type AuditConfig } from './config/audit-config';
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

/** The root module: the kit's bus and config wiring, then this service's features. */
export function appModule(config: AuditConfig): DynamicModule {
  return serviceModule({ service: SERVICE, config, configToken: AUDIT_CONFIG, features: [RecordsModule, TrailModule] });
}
