import './telemetry';
import { bootstrapService, loadEnv, runMain } from '@countersign/bus';
import { AppModule } from './app.module';
import { EnvSchema } from './config/env.schema';

runMain(async () => {
  const env = loadEnv(EnvSchema);
  await bootstrapService({
    name: 'policy-decision',
    module: AppModule.forRoot(env),
    env,
    title: 'Countersign policy decision',
    description: 'Decides every proposal against the active policy snapshot of its tenant.',
  });
});
