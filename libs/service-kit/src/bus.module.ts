import {
  Global,
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { BaseEnv } from '@countersign/config';
import { createDataSource, runMigrationsLocked } from '@countersign/bus';
import { OutboxRelay } from '@countersign/bus';
import { createKafka } from '@countersign/bus';
import { EventProducer } from '@countersign/bus';
import { KafkaInbox } from '@countersign/bus';
import { createLogger } from '@countersign/bus';
import { BUS_ENV, BUS_KAFKA, BUS_LOGGER, BUS_SERVICE } from './bus.tokens';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';
import type { ServiceDefinition } from './service-definition';

/** Lifecycle of the shared infrastructure: connect at start, drain and close after the consumer stopped. */
class BusLifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  stopping = false;

  constructor(
    @Inject(BUS_SERVICE) private readonly def: ServiceDefinition,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
    private readonly producer: EventProducer,
    private readonly readiness: ReadinessService,
    private readonly dataSource?: DataSource,
    private readonly relay?: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.dataSource && this.def.schema) {
      await this.dataSource.initialize();
      await runMigrationsLocked(this.dataSource, this.def.schema, this.logger);
    }
    await this.producer.connect();
    if (this.relay) {
      const relay = this.relay;
      await relay.start();
      this.readiness.register('outbox', () => {
        const h = relay.healthy;
        return h.ok ? { ok: true } : { ok: false, error: `outbox relay failing: ${h.error}` };
      });
    }
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.producer.disconnect().catch(() => undefined);
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
    this.logger.info('stopped');
  }
}

function redactFieldsOf(env: BaseEnv): { redactFields?: readonly string[] } {
  const fields = (env as BaseEnv & { REDACT_FIELDS?: unknown }).REDACT_FIELDS;
  return Array.isArray(fields) && fields.every((f) => typeof f === 'string') ? { redactFields: fields } : {};
}

@Global()
@Module({})
export class BusModule {
  static forRoot(def: ServiceDefinition, env: BaseEnv): DynamicModule {
    const logger = createLogger(def.name, env.LOG_LEVEL);
    const kafka = createKafka({ clientId: env.KAFKA_CLIENT_ID ?? def.name, brokers: env.KAFKA_BROKERS, logger });
    const providers: Provider[] = [
      { provide: BUS_SERVICE, useValue: def },
      { provide: BUS_ENV, useValue: env },
      { provide: BUS_LOGGER, useValue: logger },
      { provide: BUS_KAFKA, useValue: kafka },
      { provide: EventProducer, useFactory: (k: Kafka) => new EventProducer(k), inject: [BUS_KAFKA] },
      ReadinessService,
    ];
    if (def.schema) {
      const schema = def.schema;
      providers.push(
        {
          provide: DataSource,
          useFactory: () =>
            createDataSource({
              url: env.DATABASE_URL,
              schema,
              entities: def.entities ?? [],
              migrations: def.migrations ?? [],
              poolMax: env.DATABASE_POOL_MAX,
              applicationName: def.name,
            }),
        },
        {
          provide: OutboxRelay,
          useFactory: (ds: DataSource, producer: EventProducer) =>
            new OutboxRelay({
              dataSource: ds,
              schema,
              producer,
              logger,
              pollMs: env.OUTBOX_POLL_MS,
              graceMs: env.OUTBOX_RELAY_GRACE_MS,
            }),
          inject: [DataSource, EventProducer],
        },
      );
    }
    providers.push(
      {
        provide: BusLifecycle,
        useFactory: (p: EventProducer, r: ReadinessService, ds?: DataSource, relay?: OutboxRelay) =>
          new BusLifecycle(def, logger, p, r, ds, relay),
        inject: [
          EventProducer,
          ReadinessService,
          { token: DataSource, optional: true },
          { token: OutboxRelay, optional: true },
        ],
      },
      {
        provide: KafkaInbox,
        useFactory: (p: EventProducer, life: BusLifecycle) =>
          new KafkaInbox({
            consumer: def.name,
            producer: p,
            logger,
            isStopping: () => life.stopping,
            maxMessageBytes: env.MAX_MESSAGE_BYTES,
            dlqKeepRaw: env.DLQ_KEEP_RAW,
            // A service that redacts payloads for reviewers (REDACT_FIELDS) hides the same fields in its DLQ.
            ...redactFieldsOf(env),
          }),
        inject: [EventProducer, BusLifecycle],
      },
    );
    return {
      module: BusModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            autoLogging: { ignore: (req) => /\/(healthz|readyz)$/.test(req.url ?? '') },
            quietReqLogger: true,
          },
        }),
      ],
      controllers: [HealthController],
      providers,
      exports: [
        BUS_SERVICE,
        BUS_ENV,
        BUS_LOGGER,
        BUS_KAFKA,
        EventProducer,
        ReadinessService,
        KafkaInbox,
        ...(def.schema ? [DataSource, OutboxRelay] : []),
      ],
    };
  }
}
