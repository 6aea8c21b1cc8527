import './telemetry';
import { runService } from '@countersign/service-kit';
import { appModule } from './app.module';
import { loadAuditConfig } from './config/audit-config';

runService({
  name: 'audit',
  load: loadAuditConfig,
  module: appModule,
  title: 'Countersign audit',
  description: 'The tamper-evident, hash-chained audit trail.',
  // Whole batches of each partition at once, so the group commit gets many records per transaction.
  batchConcurrency: ({ env }) => env.AUDIT_APPEND_BATCH_MAX,
});
