import './telemetry';
import { bootstrapService, runMain } from '@countersign/service-kit';
import { AppModule } from './app.module';
import { loadAuditConfig } from './config/audit-config';

runMain(async () => {
  const config = loadAuditConfig(process.env);
  const { env } = config;
  await bootstrapService({
    name: 'audit',
    module: AppModule.forRoot(config),
    env,
    title: 'Countersign audit',
    description: 'The tamper-evident, hash-chained audit trail.',
    // Whole batches of each partition at once, so the group commit gets many records per transaction.
    batchConsumer: { concurrency: env.AUDIT_APPEND_BATCH_MAX },
  });
});
