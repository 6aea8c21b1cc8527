import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

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
    ...opts.extra,
  };
}

export function createKafka(opts: KafkaClientOptions): Kafka {
  return new Kafka(kafkaConfig(opts));
}
