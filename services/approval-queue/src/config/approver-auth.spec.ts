import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approverAuthOptions } from './approver-auth';
import { EnvSchema } from './env.schema';

const env = (vars: Record<string, string>) => EnvSchema.parse(vars);
const SECRET = 'x'.repeat(32);

describe('approverAuthOptions', () => {
  it('takes the secret inline or from a file (trailing newline ignored)', () => {
    expect(approverAuthOptions(env({ APPROVER_JWT_SECRET: SECRET }))).toEqual({ secret: SECRET });
    const file = join(mkdtempSync(join(tmpdir(), 'aq-')), 'secret');
    writeFileSync(file, `${SECRET}\n`);
    expect(approverAuthOptions(env({ APPROVER_JWT_SECRET_FILE: file }))).toEqual({ secret: SECRET });
  });

  it('takes a JWKS URL with issuer and audience', () => {
    expect(
      approverAuthOptions(
        env({
          APPROVER_JWKS_URL: 'https://idp.example/jwks.json',
          APPROVER_JWT_ISSUER: 'idp',
          APPROVER_JWT_AUDIENCE: 'countersign',
        }),
      ),
    ).toEqual({ jwksUrl: 'https://idp.example/jwks.json', issuer: 'idp', audience: 'countersign' });
  });

  it('fails fast with neither, with both, or with a short secret', () => {
    expect(() => approverAuthOptions(env({}))).toThrow(/APPROVER_JWT_SECRET.*required/s);
    expect(() =>
      approverAuthOptions(env({ APPROVER_JWT_SECRET: SECRET, APPROVER_JWKS_URL: 'https://idp.example/jwks' })),
    ).toThrow(/exactly one/);
    expect(() => approverAuthOptions(env({ APPROVER_JWT_SECRET: 'short' }))).toThrow(/at least 32 bytes/);
  });
});
