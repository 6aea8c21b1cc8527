import './telemetry';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runService } from '@countersign/service-kit';
import { API_DESCRIPTION, API_TITLE } from './api-document';
import { appModule } from './app.module';
import { loadQueueConfig } from './config/queue-config';

/** The reviewer page (services/approval-queue/ui, built by vite), served at `/` when it has been built. */
const UI_DIR = join(__dirname, '../../ui/dist');

runService({
  name: 'approval-queue',
  load: loadQueueConfig,
  module: appModule,
  title: API_TITLE,
  description: API_DESCRIPTION,
  // Intake takes a job's two events in either order, each once (dedupe on event_id), so a
  // partition's events can be taken in together.
  batchConcurrency: ({ env }) => env.APPROVAL_QUEUE_CONSUME_CONCURRENCY,
  ...(existsSync(join(UI_DIR, 'index.html')) ? { staticDir: UI_DIR } : {}),
});
