import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { Transport, type KafkaOptions, type MicroserviceOptions } from '@nestjs/microservices';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { BaseEnv } from '@countersign/config';
import { kafkaConfig } from '@countersign/bus';
import { createLogger } from '@countersign/bus';
import { BatchServerKafka, type BatchConsumerOptions } from './batch-server-kafka';
import { ErrorFilter } from './error.filter';
import { openApiConfig } from './openapi';
import type { ServiceConfig } from './service-module';

export interface BootstrapOptions {
  name: string;
  module: Type<unknown> | DynamicModule;
  /** Largest accepted JSON body in bytes; larger ones get 413. Defaults to `env.MAX_BODY_BYTES`. */
  bodyLimit?: number;
  env: BaseEnv;
  title: string;
  description: string;
  /** Whether the service consumes Kafka (all four do). */
  consumes?: boolean;
  configure?: (app: INestApplication) => void;
  /** A folder of static files (a built web page) served at `/`. */
  staticDir?: string;
  /**
   * Consume with kafkajs `eachBatch`, this many messages of a partition at once (BatchServerKafka):
   * for idempotent consumers that commit in groups. Unset: one message per partition at a time.
   */
  batchConsumer?: BatchConsumerOptions;
}

/**
 * A hybrid Nest app: HTTP (with `/healthz`, `/readyz` and OpenAPI at `/api/docs`) plus a Kafka
 * consumer group. The group is the service name, so replicas share partitions. New groups start
 * from the beginning of each topic: a service deployed after events were published must still
 * see them (consumers are idempotent, so re-reading is harmless).
 */
export async function bootstrapService(opts: BootstrapOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(opts.module, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ErrorFilter());
  app.enableShutdownHooks();
  app.useBodyParser('json', { limit: opts.bodyLimit ?? opts.env.MAX_BODY_BYTES });
  if (opts.consumes !== false) {
    const logger = createLogger(opts.name, opts.env.LOG_LEVEL);
    const kafkaOptions: Required<KafkaOptions>['options'] = {
      client: kafkaConfig({ clientId: opts.env.KAFKA_CLIENT_ID ?? opts.name, brokers: opts.env.KAFKA_BROKERS, logger }),
      consumer: {
        groupId: opts.env.KAFKA_GROUP_ID ?? opts.name,
        sessionTimeout: opts.env.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatInterval: Math.min(3000, Math.floor(opts.env.KAFKA_SESSION_TIMEOUT_MS / 3)),
        // An idle fetch returns as soon as data arrives; a short wait only makes shutdown quicker.
        maxWaitTimeInMs: 1000,
        allowAutoTopicCreation: false,
      },
      postfixId: '',
      subscribe: { fromBeginning: true },
      parser: { keepBinary: true },
      run: {
        partitionsConsumedConcurrently: opts.env.KAFKA_PARTITIONS_CONCURRENCY,
        ...(opts.env.KAFKA_COMMIT_INTERVAL_MS > 0 ? { autoCommitInterval: opts.env.KAFKA_COMMIT_INTERVAL_MS } : {}),
      },
    };
    app.connectMicroservice<MicroserviceOptions>(
      opts.batchConsumer
        ? {
            strategy: new BatchServerKafka(kafkaOptions, {
              commitIntervalMs: opts.env.KAFKA_COMMIT_INTERVAL_MS,
              ...opts.batchConsumer,
            }),
          }
        : { transport: Transport.KAFKA, options: kafkaOptions },
      { inheritAppConfig: true },
    );
  }
  if (opts.staticDir) app.useStaticAssets(opts.staticDir, { index: 'index.html', fallthrough: true });
  opts.configure?.(app);
  const doc = openApiConfig(opts.title, opts.description);
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'api/docs/openapi.json',
  });
  // Migrations and connections (BusLifecycle.onModuleInit) first: a consumer started before its
  // schema exists fails valid messages with errors that the inbox rightly treats as permanent.
  await app.init();
  await app.startAllMicroservices();
  await app.listen(opts.env.PORT, opts.env.HOST);
  app.get(Logger).log(`${opts.name} listening on ${opts.env.HOST}:${opts.env.PORT}`);
  return app;
}

/** Runs a service's main, turning a configuration error into one readable line and exit code 1. */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((e: unknown) => {
    const err = e as Error & { code?: unknown };
    // Configuration and policy errors are the operator's to fix: say what, not where in our code.
    const plain = err.name === 'ConfigError' || typeof err.code === 'string';
    process.stderr.write(`${plain ? `${err.name}: ${err.message}` : (err.stack ?? String(err))}\n`);
    process.exit(1);
  });
}

export interface RunServiceOptions<C extends ServiceConfig> extends Omit<
  BootstrapOptions,
  'module' | 'env' | 'batchConsumer'
> {
  /** Reads and validates the service's config from the environment (a ConfigError stops the start). */
  load: (vars: NodeJS.ProcessEnv) => C;
  /** The service's root module for that config. */
  module: (config: C) => DynamicModule;
  /** Messages of one partition consumed at once (BatchServerKafka): every service's consumers are idempotent. */
  batchConcurrency: (config: C) => number;
  /** After the service listens: anything it has to say about its config. */
  started?: (app: INestApplication, config: C) => void;
}

/** A service's whole main: load the config, bootstrap the app, and report a failed start as runMain does. */
export function runService<C extends ServiceConfig>(opts: RunServiceOptions<C>): void {
  const { load, module, batchConcurrency, started, ...rest } = opts;
  runMain(async () => {
    const config = load(process.env);
    const app = await bootstrapService({
      ...rest,
      module: module(config),
      env: config.env,
      batchConsumer: { concurrency: batchConcurrency(config) },
    });
    started?.(app, config);
    return app;
  });
}
