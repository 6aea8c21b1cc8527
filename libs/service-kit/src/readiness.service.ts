import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { BUS_KAFKA } from './bus.tokens';

export type CheckResult = { ok: true; detail?: unknown } | { ok: false; error: string; detail?: unknown };
export type ReadinessCheck = () => Promise<CheckResult> | CheckResult;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what} did not answer within ${ms} ms`)), ms)),
  ]);
}

/** `/readyz`: every dependency the service needs, each named, so a 503 says what is down. */
@Injectable()
export class ReadinessService implements OnApplicationShutdown {
  private readonly checks = new Map<string, ReadinessCheck>();
  private admin: Admin | undefined;

  constructor(
    @Inject(BUS_KAFKA) private readonly kafka: Kafka,
    @Optional() private readonly dataSource?: DataSource,
  ) {
    this.register('kafka', () => this.checkKafka());
    if (dataSource) this.register('postgres', () => this.checkPostgres());
  }

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          return [name, await check()];
        } catch (e) {
          return [name, { ok: false, error: (e as Error).message }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ok), checks };
  }

  private async checkKafka(): Promise<CheckResult> {
    try {
      if (!this.admin) {
        const admin = this.kafka.admin();
        await withTimeout(admin.connect(), 3000, 'kafka');
        this.admin = admin;
      }
      const cluster = await withTimeout(this.admin.describeCluster(), 3000, 'kafka');
      return { ok: true, detail: { brokers: cluster.brokers.length } };
    } catch (e) {
      const admin = this.admin;
      this.admin = undefined;
      await admin?.disconnect().catch(() => undefined);
      return { ok: false, error: `kafka unreachable: ${(e as Error).message}` };
    }
  }

  private async checkPostgres(): Promise<CheckResult> {
    try {
      if (!this.dataSource?.isInitialized) return { ok: false, error: 'postgres not connected' };
      await withTimeout(this.dataSource.query('SELECT 1'), 3000, 'postgres');
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `postgres unreachable: ${(e as Error).message}` };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
