import { jobHash } from '@countersign/crypto';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { readJobFile } from '../job-file';

/** `countersign hash --job FILE`: the job hash the executor will compare approvals against. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('hash')
    .description('print the job hash (SHA-256 of the RFC 8785 canonical job identity and payload)')
    .requiredOption('--job <file>', 'job JSON file (job.proposed data)')
    .action((opts: { job: string }) => {
      ctx.io.stdout(`${jobHash(readJobFile(opts.job))}\n`);
    });
}
