import './telemetry';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapService, runMain } from '@countersign/service-kit';
import { API_DESCRIPTION, API_TITLE } from './api-document';
import { AppModule } from './app.module';
import { loadQueueConfig } from './config/queue-config';

/** The reviewer page (services/approval-queue/ui, built by vite), served at `/` when it has been built. */
const UI_DIR = join(__dirname, '../../ui/dist');

runMain(async () => {
  const config = loadQueueConfig(process.env);
  const { env } = config;
  await bootstrapService({
    name: 'approval-queue',
    module: AppModule.forRoot(config),
    env,
    title: API_TITLE,
    description: API_DESCRIPTION,
    // Intake takes a job's two events in either order, each once (dedupe on event_id), so a
    // partition's events can be taken in together.
    batchConsumer: { concurrency: env.APPROVAL_QUEUE_CONSUME_CONCURRENCY },
    ...(existsSync(join(UI_DIR, 'index.html')) ? { staticDir: UI_DIR } : {}),
  });
});
