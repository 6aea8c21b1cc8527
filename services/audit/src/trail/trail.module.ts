import { Module } from '@nestjs/common';
import { AuditorGuard } from '../auth/auditor.guard';
import { RecordsModule } from '../records/records.module';
import { AuditController } from './audit.controller';
import { ExportRecordsQuery } from './export-records.query';
import { JobsController } from './jobs.controller';
import { ListRecordsQuery } from './list-records.query';
import { PolicySnapshotsController } from './policy-snapshots.controller';
import { VerifyChainQuery } from './verify-chain.query';

/** Query and verify the trail over HTTP (auditor tokens only). */
@Module({
  imports: [RecordsModule],
  controllers: [AuditController, JobsController, PolicySnapshotsController],
  providers: [ListRecordsQuery, VerifyChainQuery, ExportRecordsQuery, AuditorGuard],
})
export class TrailModule {}
