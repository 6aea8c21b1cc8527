// Loaded into every service the benches start (NODE_OPTIONS="--import <this file>"): counts what a
// service asks of PostgreSQL and Kafka, and takes a CPU profile on demand, without touching the
// service's code.
//
//   - PostgreSQL: every call to pg's Client.prototype.query is one round trip (pools hand out these
//     clients too), counted in total and by the statement's first word (BEGIN, SELECT, ...).
//   - Kafka: every request kafkajs sends (Connection.prototype.send), by API name (Produce, Fetch, ...).
//   - SIGUSR2 starts a sampling CPU profile (inspector Session, ~1 ms interval); the next SIGUSR2
//     stops it and writes <name>-<pid>.cpuprofile. SIGUSR1 is Node's own inspector signal: not used.
//     Nest's enableShutdownHooks() (libs/bus) listens to SIGUSR2 as well and would shut the service
//     down on the first toggle, so the probe keeps SIGUSR2 to itself: other listeners for it are not
//     registered. The benches stop services with SIGTERM, which is left alone.
//
// The counters go to $BENCH_PROBE_DIR/<name>-<pid>.json every 500 ms (only when they changed) and
// at exit, where <name> is $BENCH_PROBE_NAME or the service's folder name. The patches are made
// when the service itself loads pg or kafkajs (Module._load: the services are CommonJS), so the very
// copy it uses is counted, wherever its node_modules are. Idle cost: one unref'd timer.
import fs from 'node:fs';
import inspector from 'node:inspector';
import Module from 'node:module';
import path from 'node:path';

/** What the probe writes: the same shape bench/e2e reads back. */
export interface ProbeCounts {
  pg: { patched: boolean; roundTrips: number; byKind: Record<string, number> };
  kafka: { patched: boolean; requests: number; byApi: Record<string, number> };
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;
/** The CommonJS loader's internals the probe hooks (not in @types/node). */
interface Loader {
  _load(this: unknown, request: string, parent: unknown, isMain?: boolean): unknown;
  _resolveFilename(request: string, parent: unknown): string;
}
type Listen = (this: NodeJS.Process, event: string | symbol, listener: (...args: unknown[]) => void) => NodeJS.Process;

const dir = process.env.BENCH_PROBE_DIR;
if (dir) install(dir);

function install(dir: string): void {
  const name = process.env.BENCH_PROBE_NAME || serviceName();
  const file = path.join(dir, `${name}-${process.pid}.json`);
  // `patched` says the service loaded the library at all (policy-decision has no database).
  const counts: ProbeCounts = {
    pg: { patched: false, roundTrips: 0, byKind: {} },
    kafka: { patched: false, requests: 0, byApi: {} },
  };
  let dirty = true;
  const patched = new WeakSet<object>();

  function patchPg(pg: unknown): void {
    const proto = (pg as { Client?: { prototype?: { query?: unknown } } } | undefined)?.Client?.prototype;
    if (!proto || typeof proto.query !== 'function' || patched.has(proto)) return;
    patched.add(proto);
    counts.pg.patched = dirty = true;
    const query = proto.query as Fn;
    proto.query = function countedQuery(this: unknown, ...args: unknown[]) {
      counts.pg.roundTrips++;
      const config = args[0] as string | { text?: unknown } | undefined;
      const text = typeof config === 'string' ? config : typeof config?.text === 'string' ? config.text : '';
      const kind = (/^\s*([A-Za-z]+)/.exec(text)?.[1] ?? 'OTHER').toUpperCase();
      counts.pg.byKind[kind] = (counts.pg.byKind[kind] ?? 0) + 1;
      dirty = true;
      return query.apply(this, args);
    };
  }

  function patchKafka(Connection: unknown): void {
    const proto = (Connection as { prototype?: { send?: unknown } } | undefined)?.prototype;
    if (!proto || typeof proto.send !== 'function' || patched.has(proto)) return;
    patched.add(proto);
    counts.kafka.patched = dirty = true;
    const send = proto.send as Fn;
    proto.send = function countedSend(this: unknown, ...args: unknown[]) {
      const protocol = args[0] as { request?: { apiName?: string; apiKey?: number } } | undefined;
      const api = protocol?.request?.apiName ?? `apiKey ${protocol?.request?.apiKey}`;
      counts.kafka.requests++;
      counts.kafka.byApi[api] = (counts.kafka.byApi[api] ?? 0) + 1;
      dirty = true;
      return send.apply(this, args);
    };
  }

  const loader = Module as unknown as Loader;
  const load = loader._load;
  loader._load = function probedLoad(this: unknown, request: string, parent: unknown, isMain?: boolean) {
    const exports = load.call(this, request, parent, isMain);
    if (request === 'pg') patchPg(exports);
    else if (request === 'kafkajs') {
      // kafkajs does not export its Connection; it is loaded by now, so require it from beside the
      // index this service resolved (the same cached module object kafkajs itself uses).
      try {
        const root = path.dirname(loader._resolveFilename(request, parent));
        patchKafka(load.call(this, path.join(root, 'src/network/connection.js'), parent));
      } catch (e) {
        process.emitWarning(`bench probe: cannot count kafkajs requests: ${(e as Error).message}`);
      }
    }
    return exports;
  };

  function write(): void {
    if (!dirty) return;
    dirty = false;
    const tmp = `${file}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify({ name, pid: process.pid, at: Date.now(), ...counts }));
      fs.renameSync(tmp, file);
    } catch {
      // the bench removed its directory: nothing to report to
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  write();
  setInterval(write, 500).unref();
  process.on('exit', () => {
    dirty = true;
    write();
  });

  let session: inspector.Session | undefined;
  const toggleProfile = (): void => {
    if (!session) {
      const s = new inspector.Session();
      session = s;
      s.connect();
      s.post('Profiler.enable', () =>
        s.post('Profiler.setSamplingInterval', { interval: 1000 }, () => s.post('Profiler.start')),
      );
      return;
    }
    const s = session;
    session = undefined;
    s.post('Profiler.stop', (err, res) => {
      s.disconnect();
      if (err) return process.emitWarning(`bench probe: no CPU profile: ${err.message}`);
      // Written aside, then renamed: the bench waits for the file and must never read half of it.
      const out = path.join(dir, `${name}-${process.pid}.cpuprofile`);
      fs.writeFile(
        `${out}.tmp`,
        JSON.stringify(res.profile),
        (e) => e || fs.rename(`${out}.tmp`, out, () => undefined),
      );
    });
  };
  process.on('SIGUSR2', toggleProfile);
  const methods = ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener'] as const;
  for (const method of methods) {
    const register = process[method] as Listen;
    (process as unknown as Record<string, Listen>)[method] = function probeOwnsSigusr2(event, listener) {
      if (event === 'SIGUSR2' && listener !== toggleProfile) return this;
      return register.call(this, event, listener);
    };
  }
}

function serviceName(): string {
  const m = /services[\\/]([^\\/]+)[\\/]/.exec(process.argv[1] ?? '');
  return m?.[1] ?? path.basename(process.argv[1] ?? 'node', '.js');
}
