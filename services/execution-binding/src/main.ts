import './telemetry';
import { bootstrapService, loadEnv, runMain } from '@countersign/bus';
import { AppModule } from './app.module';
import { EnvSchema } from './config/env.schema';

runMain(async () => {
  const env = loadEnv(EnvSchema);
  await bootstrapService({
    name: 'execution-binding',
    module: AppModule.forRoot(env),
    env,
    title: 'Countersign execution binding',
    description: 'Executes a job only when its approval is bound to the exact request and policy snapshot.',
  });
});
