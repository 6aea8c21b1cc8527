import './telemetry';
import { bootstrapService, loadEnv, runMain } from '@countersign/bus';
import { AppModule } from './app.module';
import { EnvSchema } from './config/env.schema';

runMain(async () => {
  const env = loadEnv(EnvSchema);
  await bootstrapService({
    name: 'audit',
    module: AppModule.forRoot(env),
    env,
    title: 'Countersign audit',
    description: 'The tamper-evident, hash-chained audit trail.',
    // Whole batches of each partition at once, so the group commit gets many records per transaction.
    batchConsumer: { concurrency: env.AUDIT_APPEND_BATCH_MAX },
  });
});
