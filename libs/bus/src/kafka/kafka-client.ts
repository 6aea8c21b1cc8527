import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaSecurityFromEnv, type KafkaSecuritySettings } from '@countersign/config';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  extra?: Partial<KafkaConfig>;
  /** SASL/TLS; when omitted, read from the process environment (`KAFKA_SASL_*`, `KAFKA_SSL*`). */
  security?: KafkaSecuritySettings;
}

function securityConfig(security: KafkaSecuritySettings): Pick<KafkaConfig, 'sasl' | 'ssl'> {
  const out: Pick<KafkaConfig, 'sasl' | 'ssl'> = {};
  if (security.ssl) out.ssl = security.ssl.ca ? { ca: [security.ssl.ca] } : true;
  // kafkajs types SASL as one union member per mechanism; ours is the same shape with the mechanism widened.
  if (security.sasl) out.sasl = { ...security.sasl } as SASLOptions;
  return out;
}

export function kafkaConfig(opts: KafkaClientOptions): KafkaConfig {
  const log = opts.logger.child({ component: 'kafkajs' });
  return {
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[levels[level] ?? 'info'](rest, message);
      },
    ...securityConfig(opts.security ?? kafkaSecurityFromEnv(process.env)),
    ...opts.extra,
  };
}

export function createKafka(opts: KafkaClientOptions): Kafka {
  return new Kafka(kafkaConfig(opts));
}
