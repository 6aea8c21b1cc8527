import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SignJWT } from 'jose';
import { CliError, ExitCode, type CliContext } from '../cli-context';

const DEFAULT_SECRET_FILE = '.run/keys/approver-jwt.secret';
const MIN_SECRET_BYTES = 32;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

interface TokenOpts {
  sub: string;
  roles: string;
  tenants?: string;
  ttl: string;
  secretFile?: string;
}

function list(name: string, v: string): string[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new CliError(ExitCode.Usage, `${name}: give at least one value (comma-separated)`);
  const bad = items.find((i) => i.length > 128 || /\s/.test(i));
  if (bad) throw new CliError(ExitCode.Usage, `${name}: "${bad}" is not a valid value`);
  return items;
}

/** `90m`, `8h`, `7d` → seconds (at most 30 days: this is a local development token). */
export function parseTtl(v: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(v.trim());
  const seconds = m ? Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1) : 0;
  if (seconds <= 0 || seconds > 30 * 86400)
    throw new CliError(ExitCode.Usage, `--ttl ${v}: a duration like 30m, 8h or 7d, at most 30d`);
  return seconds;
}

/** The local HS256 secret: --secret-file if given, else APPROVER_JWT_SECRET, else the stack's key file. */
function secret(opts: TokenOpts): string {
  let value: string | undefined;
  let from: string;
  if (opts.secretFile === undefined && process.env['APPROVER_JWT_SECRET']) {
    value = process.env['APPROVER_JWT_SECRET'];
    from = 'APPROVER_JWT_SECRET';
  } else {
    const file = opts.secretFile ?? DEFAULT_SECRET_FILE;
    from = file;
    try {
      value = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      const hint =
        opts.secretFile === undefined
          ? ' (set APPROVER_JWT_SECRET, pass --secret-file, or run deploy/local/dev-keys.cjs)'
          : '';
      throw new CliError(
        ExitCode.Usage,
        `cannot read the approver JWT secret from ${file}: ${code ?? (e as Error).message}${hint}`,
      );
    }
  }
  const trimmed = value.trim();
  if (Buffer.byteLength(trimmed, 'utf8') < MIN_SECRET_BYTES)
    throw new CliError(ExitCode.Usage, `${from}: the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return trimmed;
}

export async function mintApproverToken(opts: TokenOpts, now = new Date()): Promise<string> {
  const sub = opts.sub.trim();
  if (!sub || sub.length > 256) throw new CliError(ExitCode.Usage, '--sub: the approver id (1 to 256 characters)');
  const roles = list('--roles', opts.roles);
  // The API reads a token without a tenants claim as "no tenant", so the all-tenants default is written out.
  const tenants = opts.tenants === undefined ? ['*'] : list('--tenants', opts.tenants);
  const ttl = parseTtl(opts.ttl);
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ roles, tenants })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(new TextEncoder().encode(secret(opts)));
}

/**
 * `countersign token --sub alice --roles service-owner[,x] [--tenants acme] [--ttl 8h] [--secret-file F]`:
 * a local approver token (HS256, the secret the stack gives approval-queue), printed alone on stdout,
 * so `export COUNTERSIGN_TOKEN=$(countersign token ...)` works. Production tokens come from the IdP.
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('token')
    .description('mint a local approver token (HS256) for the approval queue API')
    .requiredOption('--sub <id>', 'the approver (becomes resolved_by)')
    .requiredOption('--roles <roles>', 'comma-separated roles, e.g. service-owner,sre')
    .option('--tenants <tenants>', 'comma-separated tenants the token may act for (default: *, every tenant)')
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 8h, 7d', '8h')
    .option('--secret-file <file>', `HS256 secret file (default: APPROVER_JWT_SECRET, else ${DEFAULT_SECRET_FILE})`)
    .action(async (opts: TokenOpts) => {
      ctx.io.stdout(`${await mintApproverToken(opts)}\n`);
    });
}
