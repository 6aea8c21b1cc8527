import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { ALL_TOPICS } from '@countersign/contracts';
import { expandAcls, markdownTable, type AclBinding } from '../../deploy/local/secure/acl-matrix.cjs';

/**
 * The deployment artefacts, checked against the code without running them (no Docker engine or
 * cluster here): the Dockerfile, the compose file and the Kubernetes manifests. Every variable a
 * manifest sets must be one the service reads (its config schema, or a key it loads by name); every
 * required one must be set; ports, probes, secrets and files must line up; the Strimzi topics and
 * users must be exactly the topics and the ACL matrix of the local secure broker.
 */
const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const SERVICES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'] as const;
type Service = (typeof SERVICES)[number];
const PARTITIONS = 6;

interface Variable {
  name: string;
  required: boolean;
  /** A key: required inline (`NAME`) or as a file (`NAME_FILE`). */
  requiredOrFile?: boolean;
  default?: unknown;
}
interface Collected {
  services: Record<Service, Variable[]>;
  secrets: Record<Service, { name: string; file: boolean; required: boolean }[]>;
  telemetry: { name: string }[];
}

/** Variables where one of several must be set (checked by the service at boot, outside the schema). */
const ONE_OF: Partial<Record<Service, string[][]>> = {
  'approval-queue': [['APPROVER_JWT_SECRET', 'APPROVER_JWT_SECRET_FILE', 'APPROVER_JWKS_URL']],
  audit: [['APPROVER_JWT_SECRET', 'APPROVER_JWT_SECRET_FILE', 'APPROVER_JWKS_URL']],
  'execution-binding': [['APPROVER_JWT_SECRET', 'APPROVER_JWT_SECRET_FILE', 'APPROVER_JWKS_URL']],
  'policy-decision': [['APPROVER_JWT_SECRET', 'APPROVER_JWT_SECRET_FILE', 'APPROVER_JWKS_URL']],
};

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

let config: Collected;

/** What a service reads: its schema, its keys (NAME or NAME_FILE), the tracing variables, extra names (executor secrets). */
function readable(service: Service, extra: string[] = []): Set<string> {
  const names = new Set<string>(config.services[service].map((v) => v.name));
  for (const s of config.secrets[service]) {
    if (s.name.startsWith('<')) continue;
    names.add(s.name);
    if (s.file) names.add(`${s.name}_FILE`);
  }
  for (const t of config.telemetry) names.add(t.name);
  for (const e of extra) names.add(e);
  return names;
}

/** Problems with a set of variables for a service: unknown names, missing required ones, half-configured SASL. */
function envProblems(service: Service, env: Record<string, string>, extra: string[] = []): string[] {
  const problems: string[] = [];
  const known = readable(service, extra);
  for (const name of Object.keys(env))
    if (!known.has(name)) problems.push(`${service}: sets ${name}, which the service does not read`);
  for (const v of config.services[service])
    if (v.required && !(v.name in env) && !(v.requiredOrFile && `${v.name}_FILE` in env))
      problems.push(`${service}: required ${v.name}${v.requiredOrFile ? '(_FILE)' : ''} not set`);
  for (const s of config.secrets[service]) {
    if (s.required && !(s.name in env) && !(`${s.name}_FILE` in env))
      problems.push(`${service}: required ${s.name}(_FILE) not set`);
  }
  for (const group of ONE_OF[service] ?? []) {
    if (!group.some((n) => n in env)) problems.push(`${service}: one of ${group.join(', ')} must be set`);
  }
  if (env['KAFKA_SASL_MECHANISM']) {
    if (env['KAFKA_SASL_USERNAME'] !== service)
      problems.push(`${service}: KAFKA_SASL_USERNAME must be its own principal, got ${env['KAFKA_SASL_USERNAME']}`);
    if (!env['KAFKA_SASL_PASSWORD'] && !env['KAFKA_SASL_PASSWORD_FILE'])
      problems.push(`${service}: SASL without a password`);
  }
  if (env['KAFKA_GROUP_ID'] && !env['KAFKA_GROUP_ID'].startsWith(service))
    problems.push(`${service}: consumer group outside its ACL prefix`);
  return problems;
}

const defaultPort = (service: Service) => Number(config.services[service].find((v) => v.name === 'PORT')!.default);

/** The `secret_env` names of the http executors in an executors YAML. */
function executorSecrets(yamlText: string): string[] {
  return arr(obj(parse(yamlText))['executors']).flatMap((e) =>
    obj(e)['secret_env'] ? [str(obj(e)['secret_env'])] : [],
  );
}

const canonicalAcl = (a: AclBinding) => `${a.principal} ${a.resource} ${a.pattern} ${a.name} ${a.operation}`;

beforeAll(async () => {
  const { stdout } = await run(process.execPath, [join(ROOT, 'scripts', 'config-docs.cjs'), '--json'], {
    cwd: ROOT,
    timeout: 60000,
  });
  config = JSON.parse(stdout) as Collected;
});

describe('Dockerfile (deploy/Dockerfile, one for every service)', () => {
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');

  /** The stages of the file by name, the build argument SERVICE expanded as `--build-arg SERVICE=<service>` would. */
  function stages(service: Service): Map<string, string> {
    const text = dockerfile.replace(/\$\{SERVICE\}/g, service);
    const byName = new Map<string, string>();
    for (const part of text.split(/\n(?=FROM )/).slice(1)) byName.set(/^FROM \S+ AS ([\w-]+)/.exec(part)![1]!, part);
    return byName;
  }

  it.each(SERVICES)(
    '%s: node:24, npm ci, tsc -b, production deps, non-root, its port, a /healthz HEALTHCHECK',
    (service) => {
      const byName = stages(service);
      const build = byName.get('build')!;
      // The image of a service: the shared runtime stage, then the target named after the service.
      const target = byName.get(service)!;
      expect(target).toMatch(/^FROM runtime AS /);
      const runtime = `${byName.get('runtime')!}\n${target}`;
      const lines = runtime
        .replace(/\\\n/g, ' ')
        .split('\n')
        .map((l) => l.trim());
      const port = defaultPort(service);
      expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[\w.-]*$/m);
      expect(build).toMatch(/^FROM \$\{NODE_IMAGE\} AS build/);
      expect(byName.get('runtime')).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime/);
      expect(build).toMatch(/RUN .*npm ci\b/);
      expect(build).toContain(`RUN npx tsc -b services/${service}`);
      expect(build).toMatch(/npm prune --omit=dev/);
      expect(runtime).toMatch(/^USER (node|[1-9]\d*)$/m);
      expect(runtime).toContain(`EXPOSE ${port}`);
      expect(runtime).toMatch(new RegExp(`^ENV .*\\bPORT=${port}\\b`, 'm'));
      // The health check fetches the port the image sets (HEALTHCHECK does not expand build arguments).
      const healthcheck = lines.find((l) => l.startsWith('HEALTHCHECK'));
      expect(healthcheck).toMatch(/fetch\(.*\/healthz/);
      expect(healthcheck).toContain('process.env.PORT');
      const cmd = JSON.parse(lines.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
      expect(cmd[0]).toBe('node');
      // The entry point is a link to the service's main (CMD does not expand build arguments either).
      const entry = cmd[cmd.length - 1]!;
      expect(runtime).toContain(`RUN ln -s services/${service}/dist/src/main.js ${entry}`);
      expect(runtime).toContain(`./services/${service}/dist`);
      // Every ENV the image sets is a variable the service reads.
      const env: Record<string, string> = {};
      for (const l of lines.filter((x) => x.startsWith('ENV '))) {
        for (const m of l.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1]!] = m[2]!;
      }
      expect(Object.keys(env).filter((n) => !readable(service).has(n))).toEqual([]);
    },
  );

  it('keeps local state, secrets and build output out of the build context', () => {
    for (const entry of ['**/node_modules', '**/dist', '.run', 'deploy/local/.kafka', '.git'])
      expect(dockerignore).toContain(entry);
  });
});

describe('docker compose (deploy/compose/docker-compose.yml)', () => {
  const file = join(ROOT, 'deploy', 'compose', 'docker-compose.yml');
  const compose = obj(parse(readFileSync(file, 'utf8')));
  const services = obj(compose['services']);
  const secrets = obj(compose['secrets']);

  it('runs Kafka from the official apache/kafka 4.x image in KRaft mode, PostgreSQL, topic init and the four services', () => {
    expect(Object.keys(services).sort()).toEqual(['kafka', 'kafka-init', 'postgres', ...SERVICES].sort());
    const kafka = obj(services['kafka']);
    expect(str(kafka['image'])).toMatch(/^apache\/kafka:4\.\d+\.\d+$/);
    expect(str(obj(kafka['environment'])['KAFKA_PROCESS_ROLES'])).toBe('broker,controller');
    expect(str(obj(services['postgres'])['image'])).toMatch(/^postgres:\d+/);
  });

  it('creates every topic (DLQs included) with 6 partitions before any service starts', () => {
    const init = obj(services['kafka-init']);
    const topics = str(obj(init['environment'])['TOPICS']).split(/\s+/).filter(Boolean);
    expect(topics.sort()).toEqual([...ALL_TOPICS].sort());
    expect(arr(init['command']).join('\n')).toContain(`--partitions ${PARTITIONS}`);
    for (const service of SERVICES)
      expect(obj(obj(obj(services[service])['depends_on'])['kafka-init'])['condition']).toBe(
        'service_completed_successfully',
      );
  });

  it.each(SERVICES)(
    '%s: its Dockerfile, port, variables (each read by the service, the required ones set) and secret files',
    (service) => {
      const svc = obj(services[service]);
      const build = obj(svc['build']);
      expect(existsSync(join(dirname(file), str(build['context']), str(build['dockerfile'])))).toBe(true);
      expect(str(build['dockerfile'])).toBe('deploy/Dockerfile');
      expect(str(build['target'])).toBe(service);
      expect(str(obj(build['args'])['SERVICE'])).toBe(service);
      const env = Object.fromEntries(Object.entries(obj(svc['environment'])).map(([k, v]) => [k, str(v)]));
      const executors =
        service === 'execution-binding'
          ? executorSecrets(readFileSync(join(ROOT, 'deploy/local/executors.yaml'), 'utf8'))
          : [];
      expect(envProblems(service, env, executors)).toEqual([]);
      expect(Number(env['PORT'])).toBe(defaultPort(service));
      expect(arr(svc['ports'])).toContain(`${defaultPort(service)}:${defaultPort(service)}`);
      // Kafka: the broker's internal listener.
      const advertised = str(obj(obj(services['kafka'])['environment'])['KAFKA_ADVERTISED_LISTENERS']);
      expect(advertised).toContain(`://${env['KAFKA_BROKERS']}`);
      // Keys only as files: each secret's *_FILE is a compose secret granted to this service and defined with a file.
      const granted = arr(svc['secrets']).map(str);
      const known = readable(service);
      const secretFiles = Object.entries(env).filter(
        ([n]) => n.endsWith('_FILE') && known.has(n.slice(0, -'_FILE'.length)),
      );
      expect(secretFiles.length).toBeGreaterThan(0);
      for (const [name, value] of secretFiles) {
        const secret = value.replace(/^\/run\/secrets\//, '');
        expect({ name, granted: granted.includes(secret), defined: Boolean(obj(secrets[secret])['file']) }).toEqual({
          name,
          granted: true,
          defined: true,
        });
      }
      for (const name of Object.keys(env)) expect(name).not.toMatch(/(SIGNING_KEY|_KEY|SECRET|PASSWORD)$/);
      if (env['DATABASE_URL']) expect(new URL(env['DATABASE_URL']).host).toBe('postgres:5432');
    },
  );
});

describe('Kubernetes (deploy/k8s)', () => {
  const base = join(ROOT, 'deploy', 'k8s', 'base');
  const overlay = join(ROOT, 'deploy', 'k8s', 'overlays', 'production');
  const docsIn = (dir: string, files: string[]) =>
    files.flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
        .map((d) => obj(d.toJS()))
        .filter((d) => d['kind']),
    );
  const kustomization = obj(parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')));
  const manifests = docsIn(base, arr(kustomization['resources']).map(str));
  const byKind = (kind: string) => manifests.filter((m) => m['kind'] === kind);
  const named = (kind: string, name: string) => byKind(kind).find((m) => obj(m['metadata'])['name'] === name);
  const overlayKustomization = obj(parse(readFileSync(join(overlay, 'kustomization.yaml'), 'utf8')));
  const generated = (field: string) => arr(overlayKustomization[field]).map((g) => str(obj(g)['name']));
  const kafkaUsers = byKind('KafkaUser').map((u) => str(obj(u['metadata'])['name']));
  const STRIMZI_CA = 'countersign-cluster-ca-cert';

  it('includes every base file and nothing the kustomization does not list', () => {
    const files = readdirSync(base).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(arr(kustomization['resources']).map(str).sort()).toEqual(files.sort());
  });

  it.each(SERVICES)(
    '%s: Deployment with /readyz readiness, /healthz liveness, resources, its port, a Service, a PDB and an HPA of at most 6',
    (service) => {
      const deployment = named('Deployment', service);
      expect(deployment).toBeDefined();
      const spec = obj(obj(obj(deployment!['spec'])['template'])['spec']);
      const [container] = arr(spec['containers']).map(obj);
      const port = defaultPort(service);
      expect(arr(container!['ports']).map(obj)).toEqual([{ name: 'http', containerPort: port }]);
      expect(obj(obj(container!['readinessProbe'])['httpGet'])).toEqual({ path: '/readyz', port: 'http' });
      expect(obj(obj(container!['livenessProbe'])['httpGet'])).toEqual({ path: '/healthz', port: 'http' });
      const resources = obj(container!['resources']);
      for (const k of ['requests', 'limits']) expect(Object.keys(obj(resources[k])).sort()).toEqual(['cpu', 'memory']);
      expect(obj(spec['securityContext'])['runAsNonRoot']).toBe(true);
      expect(str(container!['image'])).toBe(`countersign/${service}:latest`);

      const labels = obj(obj(obj(deployment!['spec'])['selector'])['matchLabels']);
      const svc = named('Service', service)!;
      expect(obj(svc['spec'])['selector']).toEqual(labels);
      expect(arr(obj(svc['spec'])['ports']).map(obj)).toEqual([{ name: 'http', port, targetPort: 'http' }]);
      const pdb = named('PodDisruptionBudget', service)!;
      expect(obj(obj(pdb['spec'])['selector'])['matchLabels']).toEqual(labels);
      expect(obj(pdb['spec'])['minAvailable']).toBe(1);
      const hpa = obj(named('HorizontalPodAutoscaler', service)!['spec']);
      expect(obj(hpa['scaleTargetRef'])).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service });
      expect(Number(hpa['maxReplicas'])).toBeLessThanOrEqual(PARTITIONS);
      expect(Number(hpa['minReplicas'])).toBeLessThanOrEqual(Number(hpa['maxReplicas']));
      expect(Number(obj(deployment!['spec'])['replicas'])).toBeLessThanOrEqual(PARTITIONS);
      for (const r of arr(overlayKustomization['replicas']).map(obj))
        expect(Number(r['count'])).toBeLessThanOrEqual(PARTITIONS);
    },
  );

  it.each(SERVICES)(
    '%s: every variable is read by the service, the required ones are set, files are mounted, references resolve',
    (service) => {
      const deployment = named('Deployment', service)!;
      const spec = obj(obj(obj(deployment['spec'])['template'])['spec']);
      const container = obj(arr(spec['containers'])[0]);
      const volumes = new Map(arr(spec['volumes']).map((v) => [str(obj(v)['name']), obj(v)]));
      const configMaps = new Set([
        ...byKind('ConfigMap').map((c) => str(obj(c['metadata'])['name'])),
        ...generated('configMapGenerator'),
      ]);
      const secretNames = new Set([...generated('secretGenerator'), ...kafkaUsers, STRIMZI_CA]);

      const env: Record<string, string> = {};
      for (const from of arr(container['envFrom']).map(obj)) {
        const ref = str(obj(from['configMapRef'])['name']);
        expect(configMaps.has(ref)).toBe(true);
        Object.assign(env, obj(named('ConfigMap', ref)?.['data']));
      }
      for (const e of arr(container['env']).map(obj)) {
        const secretRef = obj(obj(e['valueFrom'])['secretKeyRef']);
        if (secretRef['name'])
          expect({ ref: secretRef['name'], known: secretNames.has(str(secretRef['name'])) }).toEqual({
            ref: secretRef['name'],
            known: true,
          });
        env[str(e['name'])] =
          e['value'] !== undefined ? str(e['value']) : `<secret ${str(secretRef['name'])}/${str(secretRef['key'])}>`;
      }
      let executors: string[] = [];
      if (env['EXECUTORS_FILE']) {
        const cm = named('ConfigMap', 'countersign-executors')!;
        executors = executorSecrets(str(obj(cm['data'])[posix.basename(env['EXECUTORS_FILE'])]));
        expect(executors.length).toBeGreaterThan(0);
        for (const s of executors) expect(env[s]).toBeDefined();
      }
      expect(envProblems(service, env, executors)).toEqual([]);
      expect(Number(env['PORT'])).toBe(defaultPort(service));
      if (config.services[service].some((v) => v.name === 'DATABASE_URL') && service !== 'policy-decision')
        expect(env['DATABASE_URL']).toMatch(/^<secret /);

      // Each file a variable names lies in a volume mounted into the container, and the volume provides it.
      const mounts = arr(container['volumeMounts']).map(obj);
      for (const [name, path] of Object.entries(env).filter(([n]) => n.endsWith('_FILE'))) {
        const mount = mounts.find((m) => path.startsWith(`${str(m['mountPath'])}/`));
        expect({ name, mounted: Boolean(mount) }).toEqual({ name, mounted: true });
        const volume = volumes.get(str(mount!['name']))!;
        const source = obj(volume['secret'] ?? volume['configMap']);
        const ref = str(source['secretName'] ?? source['name']);
        expect({ name, ref, known: volume['secret'] ? secretNames.has(ref) : configMaps.has(ref) }).toEqual({
          name,
          ref,
          known: true,
        });
        const items = arr(source['items']).map((i) => str(obj(i)['path']));
        if (items.length) expect(items).toContain(posix.relative(str(mount!['mountPath']), path));
      }
      // Kafka: its own KafkaUser (whose Secret holds the password) over TLS with the Strimzi cluster CA.
      expect(env['KAFKA_SASL_MECHANISM']).toBe('scram-sha-512');
      expect(kafkaUsers).toContain(env['KAFKA_SASL_USERNAME']);
      const userVolume = [...volumes.values()].find((v) => obj(v['secret'])['secretName'] === service);
      expect(userVolume).toBeDefined();
      expect(env['KAFKA_SSL']).toBe('true');
    },
  );

  it('has a Strimzi KafkaTopic for every topic, DLQs included, with 6 partitions', () => {
    const topics = byKind('KafkaTopic').map((t) => ({
      name: str(obj(t['spec'])['topicName']),
      partitions: obj(t['spec'])['partitions'],
    }));
    expect(topics.map((t) => t.name).sort()).toEqual([...ALL_TOPICS].sort());
    for (const t of topics) expect(t.partitions).toBe(PARTITIONS);
    for (const t of byKind('KafkaTopic'))
      expect(obj(obj(t['metadata'])['labels'])['strimzi.io/cluster']).toBe('countersign');
  });

  it('has a Strimzi SCRAM-SHA-512 KafkaUser per principal with exactly the ACLs of the local secure broker', () => {
    const expected = expandAcls().map(canonicalAcl).sort();
    const actual = byKind('KafkaUser').flatMap((u) => {
      const principal = str(obj(u['metadata'])['name']);
      const spec = obj(u['spec']);
      expect(obj(spec['authentication'])['type']).toBe('scram-sha-512');
      expect(obj(spec['authorization'])['type']).toBe('simple');
      return arr(obj(spec['authorization'])['acls']).flatMap((a) => {
        const resource = obj(obj(a)['resource']);
        const type = str(resource['type']);
        return arr(obj(a)['operations']).map((op) =>
          canonicalAcl({
            principal,
            resource: type as AclBinding['resource'],
            pattern:
              type === 'cluster' ? 'literal' : (str(resource['patternType'] ?? 'literal') as AclBinding['pattern']),
            name: type === 'cluster' ? 'kafka-cluster' : str(resource['name']),
            operation: str(op) as AclBinding['operation'],
          }),
        );
      });
    });
    expect(actual.sort()).toEqual(expected);
  });

  it('documents the same ACL matrix in docs/deployment.md', () => {
    expect(readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8')).toContain(markdownTable());
  });

  const kubectl = (() => {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (kubectl ? it : it.skip)(
    'the production overlay builds with kustomize, and every generated Secret and ConfigMap it references exists',
    () => {
      const tmp = mkdtempSync(join(tmpdir(), 'cs-k8s-'));
      try {
        cpSync(join(ROOT, 'deploy', 'k8s'), join(tmp, 'k8s'), { recursive: true });
        const dir = join(tmp, 'k8s', 'overlays', 'production');
        // Stand-ins for the git-ignored inputs of the generators.
        for (const g of [
          ...arr(overlayKustomization['secretGenerator']),
          ...arr(overlayKustomization['configMapGenerator']),
        ].map(obj)) {
          for (const f of arr(g['files']).map((x) => str(x).split('=').pop()!)) {
            mkdirSync(dirname(join(dir, f)), { recursive: true });
            writeFileSync(join(dir, f), 'placeholder\n');
          }
          for (const f of arr(g['envs']).map(str)) {
            mkdirSync(dirname(join(dir, f)), { recursive: true });
            writeFileSync(
              join(dir, f),
              `${str(g['name']).endsWith('-db') ? 'DATABASE_URL' : 'EXECUTOR_HTTP_SECRET'}=placeholder-value-0123456789\n`,
            );
          }
        }
        const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
        const built = parseAllDocuments(out).map((d) => obj(d.toJS()));
        const names = (kind: string) =>
          new Set(built.filter((d) => d['kind'] === kind).map((d) => str(obj(d['metadata'])['name'])));
        const secrets = names('Secret');
        const configMaps = names('ConfigMap');
        for (const d of built.filter((x) => x['kind'] === 'Deployment')) {
          expect(obj(d['metadata'])['namespace']).toBe('countersign');
          const spec = obj(obj(obj(d['spec'])['template'])['spec']);
          for (const v of arr(spec['volumes']).map(obj)) {
            const secret = str(obj(v['secret'])['secretName']);
            if (secret && secret !== STRIMZI_CA && !kafkaUsers.includes(secret)) expect(secrets.has(secret)).toBe(true);
            const cm = str(obj(v['configMap'])['name']);
            if (cm) expect(configMaps.has(cm)).toBe(true);
          }
          for (const c of arr(spec['containers']).map(obj)) {
            expect(str(c['image'])).toMatch(/^registry\.example\.com\/countersign\/[a-z-]+:\d+\.\d+\.\d+$/);
            for (const e of arr(c['env']).map(obj)) {
              const ref = str(obj(obj(e['valueFrom'])['secretKeyRef'])['name']);
              if (ref) expect(secrets.has(ref)).toBe(true);
            }
            for (const f of arr(c['envFrom']).map(obj))
              expect(configMaps.has(str(obj(f['configMapRef'])['name']))).toBe(true);
          }
        }
        for (const h of built.filter((x) => x['kind'] === 'HorizontalPodAutoscaler'))
          expect(Number(obj(h['spec'])['maxReplicas'])).toBeLessThanOrEqual(PARTITIONS);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});
