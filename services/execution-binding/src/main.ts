import './telemetry';
import { BUS_LOGGER, bootstrapService, runMain } from '@countersign/service-kit';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { loadBindingConfig } from './config/binding-config';

runMain(async () => {
  const config = loadBindingConfig(process.env);
  const { env, executors } = config;
  const app = await bootstrapService({
    name: 'execution-binding',
    module: AppModule.forRoot(config),
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
