import './telemetry';
import { BUS_LOGGER, runService } from '@countersign/service-kit';
import type { Logger } from 'pino';
import { appModule } from './app.module';
import { loadBindingConfig } from './config/binding-config';

runService({
  name: 'execution-binding',
  load: loadBindingConfig,
  module: appModule,
  title: 'Countersign execution binding',
  description: 'Executes a job only when its approval is bound to the exact request and policy snapshot.',
  // Each fact is its own transaction that locks its job's row and dedupes on event_id, so the facts
  // of a partition can be recorded together: their commits then share the database's WAL flushes.
  batchConcurrency: ({ env }) => env.EXECUTION_BINDING_CONSUME_CONCURRENCY,
  started: (app, { executors }) => {
    if (!executors.generatedSecrets.length) return;
    app
      .get<Logger>(BUS_LOGGER)
      .warn(
        { secrets: executors.generatedSecrets },
        'HMAC secrets not set: random ones are used, so receivers cannot verify these calls',
      );
  },
});
