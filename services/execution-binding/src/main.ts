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
    // Each fact is its own transaction that locks its job's row and dedupes on event_id, so the facts
    // of a partition can be recorded together: their commits then share the database's WAL flushes.
    batchConsumer: { concurrency: env.EXECUTION_BINDING_CONSUME_CONCURRENCY },
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
