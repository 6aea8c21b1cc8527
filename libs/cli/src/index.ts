import { Command, CommanderError } from 'commander';
import { CliError, type CliContext, type CliIo, ExitCode, processIo } from './cli-context';
import { register as registerApprovals } from './commands/approvals.command';
import { register as registerAudit } from './commands/audit.command';
import { register as registerHash } from './commands/hash.command';
import { register as registerPolicy } from './commands/policy.command';
import { register as registerToken } from './commands/token.command';

export * from './cli-context';
export { API_ERROR_EXITS, BLOCK_REASON_EXITS, exitCodeForApiError, exitCodeForBlock } from './exit-codes';
export { readJobFile, JobFileSchema, type JobFile } from './job-file';

export const CLI_VERSION = '0.1.0';

/**
 * Each command lives in `commands/<name>.command.ts` and exports `register(program, ctx)`.
 * To add one (token, approvals, audit, ...), write its file and add it to this list.
 */
const COMMANDS: readonly ((program: Command, ctx: CliContext) => void)[] = [
  registerPolicy,
  registerHash,
  registerToken,
  registerApprovals,
  registerAudit,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('countersign')
    .description('Countersign: pre-execution approval gates for AI agents')
    .version(CLI_VERSION)
    // Set before subcommands are added, which inherit them: errors come back to runCli
    // instead of exiting the process, and all output goes through ctx.io.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
      outputError: (s, write) => write(`countersign: ${s.replace(/^error: /, '')}`),
    });
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** Runs the CLI on user arguments (no `node script` prefix) and returns the exit code. */
export async function runCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: ExitCode.Ok };
  try {
    await buildProgram(ctx).parseAsync([...args], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its one-line error.
      return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (e instanceof CliError) {
      io.stderr(`countersign: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr(`countersign: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    return ExitCode.Findings;
  }
}
