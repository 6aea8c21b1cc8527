import './telemetry';
import { bootstrapService, loadEnv, runMain } from '@countersign/bus';
import { AppModule } from './app.module';
import { EnvSchema } from './config/env.schema';

runMain(async () => {
  const env = loadEnv(EnvSchema);
  await bootstrapService({
    name: 'approval-queue',
    module: AppModule.forRoot(env),
    env,
    title: 'Countersign approval queue',
    description: 'The reviewers queue: pending approvals, approve and reject, stats.',
  });
});
