import './telemetry';
import { resolve } from 'node:path';
import { BUS_LOGGER, bootstrapService, loadEnv, runMain } from '@countersign/bus';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { loadBindingKeys } from './config/binding-keys';
import { EnvSchema } from './config/env.schema';
import { loadExecutorsConfig } from './config/executors.config';

runMain(async () => {
  const env = loadEnv(EnvSchema);
  const keys = loadBindingKeys(process.env);
  const executors = loadExecutorsConfig(resolve(env.EXECUTORS_FILE), process.env, env.NODE_ENV);
  const app = await bootstrapService({
    name: 'execution-binding',
    module: AppModule.forRoot({ env, keys, executors }),
    env,
    title: 'Countersign execution binding',
    description: 'Executes a job only when its approval is bound to the exact request and policy snapshot.',
  });
  if (executors.generatedSecrets.length) {
    app
      .get<Logger>(BUS_LOGGER)
      .warn(
        { secrets: executors.generatedSecrets },
        'HMAC secrets not set: random ones are used, so receivers cannot verify these calls',
      );
  }
  return app;
});
