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
  });
});
