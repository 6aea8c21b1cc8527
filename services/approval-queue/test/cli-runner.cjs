#!/usr/bin/env node
// Runs the built `token` and `approvals` CLI commands the way libs/cli's runCli does, until they are
// wired into libs/cli/src/index.ts (their owner's file). Used by cli.integration-spec.ts.
const { join } = require('node:path');
const { Command, CommanderError } = require('commander');

const dist = join(__dirname, '../../../libs/cli/dist');
const { CliError } = require(join(dist, 'cli-context.js'));
const ctx = { io: { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }, exitCode: 0 };
const program = new Command('countersign').exitOverride().configureOutput({
  writeOut: ctx.io.stdout,
  writeErr: ctx.io.stderr,
  outputError: (s, write) => write(`countersign: ${s.replace(/^error: /, '')}`),
});
require(join(dist, 'commands/token.command.js')).register(program, ctx);
require(join(dist, 'commands/approvals.command.js')).register(program, ctx);

program.parseAsync(process.argv.slice(2), { from: 'user' }).then(
  () => (process.exitCode = ctx.exitCode),
  (e) => {
    if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
    else if (e instanceof CliError) {
      process.stderr.write(`countersign: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`countersign: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
