import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { approverAuthFromEnv, TokenAuthEnvShape } from './approver-auth';

const Schema = z.object(TokenAuthEnvShape);
const env = (vars: Record<string, string>) => Schema.parse(vars);
const SECRET = 'x'.repeat(32);
const JWKS = 'https://idp.example/jwks.json';

describe('approverAuthFromEnv (every service that takes tokens)', () => {
  it('takes the secret inline or from a file', () => {
    expect(approverAuthFromEnv(env({ APPROVER_JWT_SECRET: SECRET }))).toEqual({ secret: SECRET });
    const file = join(mkdtempSync(join(tmpdir(), 'auth-')), 'secret');
    writeFileSync(file, `${SECRET}\n`);
    expect(approverAuthFromEnv(env({ APPROVER_JWT_SECRET_FILE: file }))).toEqual({ secret: SECRET });
  });

  it('takes a JWKS URL only with issuer and audience', () => {
    expect(
      approverAuthFromEnv(env({ APPROVER_JWKS_URL: JWKS, APPROVER_JWT_ISSUER: 'idp', APPROVER_JWT_AUDIENCE: 'cs' })),
    ).toEqual({
      jwksUrl: JWKS,
      issuer: 'idp',
      audience: 'cs',
    });
    expect(() => approverAuthFromEnv(env({ APPROVER_JWKS_URL: JWKS }))).toThrow(
      /APPROVER_JWT_ISSUER and APPROVER_JWT_AUDIENCE: required/,
    );
    expect(() => approverAuthFromEnv(env({ APPROVER_JWKS_URL: JWKS, APPROVER_JWT_ISSUER: 'idp' }))).toThrow(
      /required with APPROVER_JWKS_URL/,
    );
  });

  it('takes the roles and tenants claims as names or dotted paths, refusing malformed paths', () => {
    expect(
      approverAuthFromEnv(
        env({
          APPROVER_JWT_SECRET: SECRET,
          APPROVER_ROLES_CLAIM: ' realm_access.roles ',
          APPROVER_TENANTS_CLAIM: 'https://cs.example/tenants',
        }),
      ),
    ).toEqual({ secret: SECRET, rolesClaim: 'realm_access.roles', tenantsClaim: 'https://cs.example/tenants' });
    expect(approverAuthFromEnv(env({ APPROVER_JWT_SECRET: SECRET, APPROVER_ROLES_CLAIM: '' }))).toEqual({
      secret: SECRET,
    });
    for (const bad of ['.roles', 'realm_access.', 'realm_access..roles', 'realm access']) {
      expect(() => env({ APPROVER_JWT_SECRET: SECRET, APPROVER_ROLES_CLAIM: bad })).toThrow(/dotted path/);
    }
  });

  it('refuses neither, both (secret or secret file with JWKS), and a short secret', () => {
    expect(() => approverAuthFromEnv(env({}))).toThrow(
      /APPROVER_JWT_SECRET \(or APPROVER_JWT_SECRET_FILE\) or APPROVER_JWKS_URL: required/,
    );
    expect(() =>
      approverAuthFromEnv(
        env({
          APPROVER_JWT_SECRET: SECRET,
          APPROVER_JWKS_URL: JWKS,
          APPROVER_JWT_ISSUER: 'i',
          APPROVER_JWT_AUDIENCE: 'a',
        }),
      ),
    ).toThrow(/set exactly one/);
    const file = join(mkdtempSync(join(tmpdir(), 'auth-')), 'secret');
    writeFileSync(file, SECRET);
    expect(() => approverAuthFromEnv(env({ APPROVER_JWT_SECRET_FILE: file, APPROVER_JWKS_URL: JWKS }))).toThrow(
      /set exactly one/,
    );
    expect(() => approverAuthFromEnv(env({ APPROVER_JWT_SECRET: 'short' }))).toThrow(/at least 32 bytes/);
  });

  it('treats blank values as unset and refuses a JWKS value that is not a URL', () => {
    expect(approverAuthFromEnv(env({ APPROVER_JWT_SECRET: SECRET, APPROVER_JWKS_URL: '  ' }))).toEqual({
      secret: SECRET,
    });
    expect(() => env({ APPROVER_JWKS_URL: 'not a url' })).toThrow();
  });
});
