import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DecisionMadeDataSchema } from '@countersign/contracts';
import {
  compilePolicySet,
  decide,
  lintPolicy,
  loadPolicyDir,
  loadPolicyFile,
  type LintInput,
  policyDirFiles,
  PolicyError,
} from '@countersign/policy';
import { type Command, Option } from 'commander';
import { CliError, type CliContext, ExitCode } from '../cli-context';
import { readJobFile, readTextFile } from '../job-file';

/** What `policy eval` prints: `decision.made` data minus what the service adds when it emits. */
const EvalOutputSchema = DecisionMadeDataSchema.omit({ job_id: true, tenant: true, decided_at: true });

function policyInputError(e: unknown): never {
  if (e instanceof PolicyError) throw new CliError(ExitCode.Usage, e.message);
  throw e;
}

function evalAction(ctx: CliContext, opts: { policy?: string; policyDir?: string; job: string }): void {
  if ((opts.policy === undefined) === (opts.policyDir === undefined)) {
    throw new CliError(ExitCode.Usage, 'policy eval: pass exactly one of --policy FILE or --policy-dir DIR');
  }
  const job = readJobFile(opts.job);
  let decision;
  try {
    const set = opts.policy !== undefined ? loadPolicyFile(opts.policy) : loadPolicyDir(opts.policyDir!);
    // As the service's dry run: without a requester the job_hash covers an empty one (no proposal's).
    decision = decide({ ...job, requested_by: job.requested_by ?? '' }, compilePolicySet(set, { topicCacheSize: 0 }));
  } catch (e) {
    policyInputError(e);
  }
  // Same check the service's producer makes before it sends: a CLI answer is a valid event body.
  const checked = EvalOutputSchema.safeParse(decision);
  if (!checked.success)
    throw new CliError(
      ExitCode.Findings,
      `decision does not fit decision.made: ${checked.error.issues[0]?.message ?? ''}`,
    );
  ctx.io.stdout(`${JSON.stringify(decision, null, 2)}\n`);
}

/** Topics of the golden cases, used to find globs that no case exercises. */
function caseTopics(dir: string): { topics: string[]; problems: string[] } {
  const topics: string[] = [];
  const problems: string[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = join(dir, name);
    try {
      const topic = (JSON.parse(readTextFile(file, 'case')) as { job?: { topic?: unknown } }).job?.topic;
      if (typeof topic === 'string') topics.push(topic);
      else problems.push(`${file}: no job.topic, case ignored`);
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}, case ignored`);
    }
  }
  return { topics, problems };
}

function lintInput(target: string): Omit<LintInput, 'knownTopics'> {
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    throw new CliError(ExitCode.Usage, `${target}: no such file or directory`);
  }
  if (!isDir) return { system: { source: target, text: readTextFile(target, 'policy file') } };
  let files;
  try {
    files = policyDirFiles(target);
  } catch (e) {
    policyInputError(e);
  }
  if (!existsSync(files.system)) {
    throw new CliError(
      ExitCode.Usage,
      `${target}: not a policy directory (expected system.yaml and optional tenants/<tenant>.yaml)`,
    );
  }
  return {
    system: { source: files.system, text: readTextFile(files.system, 'system policy') },
    tenants: files.tenants.map(([tenant, file]) => ({
      tenant,
      source: file,
      text: readTextFile(file, 'tenant policy'),
    })),
  };
}

function lintAction(ctx: CliContext, target: string, opts: { cases?: string }): void {
  const input = lintInput(target);
  const casesDir = opts.cases ?? join(statSync(target).isDirectory() ? target : dirname(target), 'cases');
  if (opts.cases !== undefined && !existsSync(opts.cases))
    throw new CliError(ExitCode.Usage, `${opts.cases}: no such directory`);
  const cases = existsSync(casesDir) ? caseTopics(casesDir) : { topics: [], problems: [] };
  const report = lintPolicy({ ...input, knownTopics: cases.topics });
  const out: string[] = [];
  for (const e of report.errors) out.push(`error: ${e.message} [${e.code}]`);
  for (const w of report.warnings) out.push(`warning: ${w.message} [${w.code}]`);
  for (const p of cases.problems) out.push(`warning: ${p}`);
  const warnings = report.warnings.length + cases.problems.length;
  out.push(
    `${target}: ${report.errors.length} error${report.errors.length === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  ctx.io.stdout(`${out.join('\n')}\n`);
  ctx.exitCode = report.errors.length > 0 ? ExitCode.Findings : ExitCode.Ok;
}

/** `countersign policy eval|lint`. */
export function register(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('evaluate and check approval policies');

  policy
    .command('eval')
    .description('decide one job against a policy and print the decision as JSON')
    .addOption(new Option('--policy <file>', 'a single policy file (the system policy)').conflicts('policyDir'))
    .addOption(new Option('--policy-dir <dir>', 'a policy directory: system.yaml and tenants/<tenant>.yaml'))
    .requiredOption('--job <file>', 'job JSON file (job.proposed data)')
    .action((opts: { policy?: string; policyDir?: string; job: string }) => evalAction(ctx, opts));

  policy
    .command('lint')
    .description('check a policy file or directory: errors exit 1, warnings are printed')
    .argument('<path>', 'policy file or policy directory')
    .option('--cases <dir>', 'golden cases whose topics every glob should match (default: <dir>/cases)')
    .action((target: string, opts: { cases?: string }) => lintAction(ctx, target, opts));
}
