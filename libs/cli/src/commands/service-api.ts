import { CliError, ExitCode } from '../cli-context';

/** The `--url` of a service, refused (usage, exit 2) unless it is an http(s) URL. */
export function baseUrl(raw: string): URL {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u;
  } catch {
    throw new CliError(ExitCode.Usage, `--url ${raw}: not an http(s) URL`);
  }
}

/** The bearer token in COUNTERSIGN_TOKEN; unset, a usage error saying what to set (`hint`). */
export function bearerToken(hint: string): string {
  const t = process.env['COUNTERSIGN_TOKEN']?.trim();
  if (!t) throw new CliError(ExitCode.Usage, `set COUNTERSIGN_TOKEN to ${hint}`);
  return t;
}
