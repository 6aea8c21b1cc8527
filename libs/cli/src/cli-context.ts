export { ExitCode } from './exit-codes';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** What every command gets: where to write, and where to leave its exit code. */
export interface CliContext {
  readonly io: CliIo;
  exitCode: number;
}

/** An error meant for the user: printed as one line, mapped to an exit code, never a stack trace. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
