import { jobHash } from '@countersign/crypto';
import type { Command } from 'commander';
import { CliError, type CliContext, ExitCode } from '../cli-context';
import { readJobFile } from '../job-file';

/** `countersign hash --job FILE`: the job hash the executor will compare approvals against. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('hash')
    .description('print the job hash (SHA-256 of the RFC 8785 canonical job identity, requester and payload)')
    .requiredOption('--job <file>', 'job JSON file (job.proposed data)')
    .action((opts: { job: string }) => {
      const job = readJobFile(opts.job);
      const requestedBy = job.requested_by;
      // The hash covers who asked: without the requester there is no hash an approval could match.
      if (requestedBy === undefined) {
        throw new CliError(ExitCode.Usage, `${opts.job}: invalid job: requested_by: required (the job hash covers it)`);
      }
      ctx.io.stdout(`${jobHash({ ...job, requested_by: requestedBy })}\n`);
    });
}
