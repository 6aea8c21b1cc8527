/**
 * An error with a stable code. Use cases throw these; each transport maps them to its own answer
 * (an HTTP status, a `job.blocked` reason, a CLI exit code). Messages are safe to show a client.
 */
export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CodedError';
  }
}
