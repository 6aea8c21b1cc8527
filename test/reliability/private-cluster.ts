import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { ROOT, freePort } from '../support/stack';
import { waitUntil } from '@countersign/testkit';

const exec = promisify(execFile);
const PG_BIN = process.env['CHAOS_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

async function twoFreePorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

async function run(
  what: string,
  file: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
  timeout = 180_000,
): Promise<string> {
  try {
    const { stdout } = await exec(file, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${what} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/**
 * A broker only this run uses (deploy/local/kafka.sh with its own ports and a fresh state dir),
 * so stopping it never touches the shared test broker or a running stack.
 */
export class PrivateKafka {
  brokers = '';
  private env: NodeJS.ProcessEnv = {};
  private dir = '';

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'cs-chaos-kafka-'));
    const [port, controller] = await twoFreePorts();
    this.brokers = `127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      KAFKA_STATE_DIR: join(this.dir, 'state'),
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_SECURE: '0',
      KAFKA_HEAP_OPTS: process.env['CHAOS_KAFKA_HEAP_OPTS'] ?? '-Xms256m -Xmx512m',
    };
    await this.up();
    await run('create-topics', process.execPath, [join(ROOT, 'deploy/local/create-topics.cjs')], {
      ...process.env,
      KAFKA_BROKERS: this.brokers,
    });
  }

  async createTopic(topic: string, partitions = 6): Promise<void> {
    const admin = this.client('chaos-admin').admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      });
      // waitForLeaders can fail on a new broker ("does not host this topic-partition"): poll instead.
      await waitUntil(
        async () => {
          const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
          const ps = meta?.topics[0]?.partitions ?? [];
          return ps.length === partitions && ps.every((p) => p.leader >= 0);
        },
        { what: `leaders for every partition of ${topic}`, timeout: 60_000, every: 250 },
      );
    } finally {
      await admin.disconnect();
    }
  }

  client(clientId: string): Kafka {
    return new Kafka({ clientId, brokers: [this.brokers], logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  }

  up(): Promise<string> {
    return run('private broker start', join(ROOT, 'deploy/local/kafka.sh'), ['start'], this.env);
  }

  down(): Promise<string> {
    return run('private broker stop', join(ROOT, 'deploy/local/kafka.sh'), ['stop'], this.env);
  }

  async destroy(): Promise<void> {
    if (!this.dir) return;
    await this.down().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A PostgreSQL 15 cluster only this run uses (initdb + pg_ctl into a temp dir, trust auth, a free
 * port), so it can be stopped in immediate mode (a crash) without touching the system server.
 * As root, the binaries run as `postgres`, which must own the data directory.
 */
export class PrivatePostgres {
  port = 0;
  private dir = '';
  private readonly asRoot = process.getuid?.() === 0;

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'cs-chaos-pg-'));
    mkdirSync(join(this.dir, 'data'));
    if (this.asRoot) {
      const { stdout } = await exec('id', ['-u', 'postgres']);
      const { stdout: gid } = await exec('id', ['-g', 'postgres']);
      for (const p of [this.dir, join(this.dir, 'data')]) chownSync(p, Number(stdout.trim()), Number(gid.trim()));
    }
    this.port = await freePort();
    await this.pg('initdb', ['-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await this.up();
  }

  up(): Promise<string> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c max_connections=200 -c fsync=off -c full_page_writes=off`;
    return this.pg('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'postgres.log'),
      '-o',
      opts,
      '-w',
      '-t',
      '120',
      'start',
    ]);
  }

  /** Immediate mode: every backend is killed at once and the next start runs crash recovery. */
  down(mode: 'immediate' | 'fast' = 'immediate'): Promise<string> {
    return this.pg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '120', 'stop']);
  }

  async createDatabase(name: string): Promise<string> {
    const c = new Client({ connectionString: this.adminUrl });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  async destroy(): Promise<void> {
    if (!this.dir) return;
    await this.down('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pg(tool: string, args: string[]): Promise<string> {
    const bin = join(PG_BIN, tool);
    return this.asRoot ? run(tool, 'runuser', ['-u', 'postgres', '--', bin, ...args]) : run(tool, bin, args);
  }
}
