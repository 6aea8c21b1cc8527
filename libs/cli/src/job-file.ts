import { readFileSync } from 'node:fs';
import { IdSchema, JobProposedDataSchema, TimestampSchema } from '@countersign/contracts';
import type { PolicyJob } from '@countersign/policy';
import type { z } from 'zod';
import { CliError, ExitCode } from './cli-context';

/** A job file: the `job.proposed` data; `requested_by` and `proposed_at` may be left out. */
export const JobFileSchema = JobProposedDataSchema.extend({
  requested_by: IdSchema.optional(),
  proposed_at: TimestampSchema.optional(),
}).strict();
export type JobFile = z.infer<typeof JobFileSchema>;

export function readTextFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new CliError(ExitCode.Usage, `${file}: cannot read ${what}: ${why}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `;
  const input = (issue as { input?: unknown }).input;
  if (issue.code === 'invalid_type' && input === undefined) return `${where}required (expected ${issue.expected})`;
  if (issue.code === 'unrecognized_keys')
    return `${where}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  return `${where}${issue.message}`;
}

/** Reads and validates a job file; every problem is reported on one line. */
export function readJobFile(file: string): JobFile & PolicyJob {
  const text = readTextFile(file, 'job file');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CliError(ExitCode.Usage, `${file}: invalid JSON: ${(e as Error).message}`);
  }
  const parsed = JobFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    throw new CliError(ExitCode.Usage, `${file}: invalid job: ${parsed.error.issues.map(describeIssue).join('; ')}`);
  }
  return parsed.data;
}
