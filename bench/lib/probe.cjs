'use strict';
// Loaded into every service the benches start (NODE_OPTIONS="--require <this file>"): counts what a
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
// when the service itself loads pg or kafkajs (Module._load), so the very copy it uses is counted,
// wherever its node_modules are. Idle cost: one unref'd timer.
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_PROBE_DIR;
if (dir) install(dir);

function install(dir) {
  const name = process.env.BENCH_PROBE_NAME || serviceName();
  const file = path.join(dir, `${name}-${process.pid}.json`);
  // `patched` says the service loaded the library at all (policy-decision has no database).
  const counts = {
    pg: { patched: false, roundTrips: 0, byKind: {} },
    kafka: { patched: false, requests: 0, byApi: {} },
  };
  let dirty = true;
  const patched = new WeakSet();

  function patchPg(pg) {
    const proto = pg && pg.Client && pg.Client.prototype;
    if (!proto || typeof proto.query !== 'function' || patched.has(proto)) return;
    patched.add(proto);
    counts.pg.patched = dirty = true;
    const query = proto.query;
    proto.query = function countedQuery(config) {
      counts.pg.roundTrips++;
      const text = typeof config === 'string' ? config : config && typeof config.text === 'string' ? config.text : '';
      const kind = (/^\s*([A-Za-z]+)/.exec(text)?.[1] ?? 'OTHER').toUpperCase();
      counts.pg.byKind[kind] = (counts.pg.byKind[kind] ?? 0) + 1;
      dirty = true;
      return query.apply(this, arguments);
    };
  }

  function patchKafka(Connection) {
    const proto = Connection && Connection.prototype;
    if (!proto || typeof proto.send !== 'function' || patched.has(proto)) return;
    patched.add(proto);
    counts.kafka.patched = dirty = true;
    const send = proto.send;
    proto.send = function countedSend(protocol) {
      const api = protocol?.request?.apiName ?? `apiKey ${protocol?.request?.apiKey}`;
      counts.kafka.requests++;
      counts.kafka.byApi[api] = (counts.kafka.byApi[api] ?? 0) + 1;
      dirty = true;
      return send.apply(this, arguments);
    };
  }

  const load = Module._load;
  Module._load = function probedLoad(request, parent) {
    const exports = load.apply(this, arguments);
    if (request === 'pg') patchPg(exports);
    else if (request === 'kafkajs') {
      // kafkajs does not export its Connection; it is loaded by now, so require it from beside the
      // index this service resolved (the same cached module object kafkajs itself uses).
      try {
        const root = path.dirname(Module._resolveFilename(request, parent));
        patchKafka(load.call(this, path.join(root, 'src/network/connection.js'), parent));
      } catch (e) {
        process.emitWarning(`bench probe: cannot count kafkajs requests: ${e.message}`);
      }
    }
    return exports;
  };

  function write() {
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

  let session;
  const toggleProfile = () => {
    const inspector = require('node:inspector');
    if (!session) {
      session = new inspector.Session();
      session.connect();
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 1000 }, () => session.post('Profiler.start')),
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
  for (const method of ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener']) {
    const register = process[method];
    process[method] = function probeOwnsSigusr2(event, listener) {
      if (event === 'SIGUSR2' && listener !== toggleProfile) return this;
      return register.apply(this, arguments);
    };
  }
}

function serviceName() {
  const m = /services[\\/]([^\\/]+)[\\/]/.exec(process.argv[1] ?? '');
  return m ? m[1] : path.basename(process.argv[1] ?? 'node', '.js');
}
