import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * docs/configuration.md is generated from the services' config schemas alone (scripts/config-docs.cjs,
 * reading the built dist). These checks keep it from drifting: the committed file is exactly what
 * the generator writes now, every variable has a description in its schema, and every key a service
 * reads (loadSigner, loadTrustedKeys, readSecret) is declared in its schema, so it is documented.
 */
const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'config-docs.cjs');
const SERVICES = ['policy-decision', 'approval-queue', 'execution-binding', 'audit'] as const;

interface Variable {
  name: string;
  required: boolean;
  description: string;
}
interface Collected {
  common: Variable[];
  services: Record<string, (Variable & { shared: boolean })[]>;
  secrets: Record<string, { name: string; file: boolean; required: boolean }[]>;
}

const node = (args: string[]) => run(process.execPath, args, { cwd: ROOT, timeout: 60000 });

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry) && !/\.spec\.ts$/.test(entry) ? [path] : [];
  });
}

/** Keys and secrets a service reads by name (loadSigner, loadTrustedKeys, readSecret), found in its source. */
function secretsReadBy(service: string): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'services', service, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/loadSigner\([^,()]+,\s*'([A-Z_]+)'\)/g)) names.add(`${m[1]}_SIGNING_KEY`);
    for (const m of text.matchAll(/loadTrustedKeys\([^,()]+,\s*'([A-Z_]+)'\)/g)) names.add(`TRUST_${m[1]}_KEY`);
    for (const m of text.matchAll(/readSecret\([^;]*?,\s*'([A-Z_]+)'\)/g)) names.add(m[1]!);
  }
  return names;
}

describe('configuration reference (docs/configuration.md)', () => {
  let collected: Collected;

  beforeAll(async () => {
    collected = JSON.parse((await node([SCRIPT, '--json'])).stdout) as Collected;
  });

  it('is exactly what `node scripts/config-docs.cjs` generates from the schemas now', async () => {
    const result = await node([SCRIPT, '--check']).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }),
    );
    expect(result).toEqual({ code: 0, out: 'docs/configuration.md is up to date\n' });
  });

  it('documents every variable of every service schema, with a description', () => {
    for (const service of SERVICES) {
      const vars = collected.services[service];
      expect(vars?.length).toBeGreaterThan(collected.common.length);
      for (const v of vars!)
        expect({ service, name: v.name, description: v.description.length > 10 }).toEqual({
          service,
          name: v.name,
          description: true,
        });
    }
    expect(collected.common.map((v) => v.name)).toEqual(
      expect.arrayContaining([
        'KAFKA_SASL_MECHANISM',
        'KAFKA_SASL_USERNAME',
        'KAFKA_SASL_PASSWORD',
        'KAFKA_SASL_PASSWORD_FILE',
        'KAFKA_SSL',
        'KAFKA_SSL_CA_FILE',
      ]),
    );
  });

  it('refuses to generate when a variable has no description', async () => {
    const probe = `const d = require(${JSON.stringify(SCRIPT)}); const { z } = require('zod'); const c = require('@countersign/config'); const base = c.BaseEnvSchema.extend({ KAFKA_SSL_CA_FILE: z.string().optional() }); try { d.render({ base, services: {}, telemetry: c.TelemetryEnvSchema }); console.log('generated'); } catch (e) { console.log(e.message); }`;
    const { stdout } = await node(['-e', probe]);
    expect(stdout).toMatch(/no description for KAFKA_SSL_CA_FILE/);
  });

  it('declares every key and secret each service reads in its schema, so none is listed by hand', () => {
    for (const service of SERVICES) {
      const schemaNames = new Set(collected.services[service]!.map((v) => v.name));
      const read = [...secretsReadBy(service)];
      expect(read.length).toBeGreaterThan(0);
      const undeclared = read.filter((n) => !schemaNames.has(n) || !schemaNames.has(`${n}_FILE`)).sort();
      expect({ service, undeclared }).toEqual({ service, undeclared: [] });
      const listedByHand = collected.secrets[service]!.filter((s) => !s.name.startsWith('<')).map((s) => s.name);
      expect({ service, listedByHand }).toEqual({ service, listedByHand: [] });
    }
  });
});
