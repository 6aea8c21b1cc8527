import { Module } from '@nestjs/common';
import { AuditorGuard } from '../auth/auditor.guard';
import { RecordsModule } from '../records/records.module';
import { AuditController } from './audit.controller';
import { ExportRecordsUseCase } from './export-records.use-case';
import { JobsController } from './jobs.controller';
import { ListRecordsUseCase } from './list-records.use-case';
import { PolicySnapshotsController } from './policy-snapshots.controller';
import { VerifyChainUseCase } from './verify-chain.use-case';

/** Query and verify the trail over HTTP (auditor tokens only). */
@Module({
  imports: [RecordsModule],
  controllers: [AuditController, JobsController, PolicySnapshotsController],
  providers: [ListRecordsUseCase, VerifyChainUseCase, ExportRecordsUseCase, AuditorGuard],
})
export class TrailModule {}
