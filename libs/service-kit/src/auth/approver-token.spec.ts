import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { webcrypto } from 'node:crypto';
import { CodedError, httpStatusOf } from '@countersign/contracts';
import { claimAt, TokenVerifier } from './approver-token';

const SECRET = 'test-secret-0123456789abcdef-0123456789';
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

async function hs(
  claims: Record<string, unknown>,
  opts: { exp?: number | null; iss?: string; aud?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setIssuedAt();
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now() + 600);
  if (opts.iss) jwt.setIssuer(opts.iss);
  if (opts.aud) jwt.setAudience(opts.aud);
  return `Bearer ${await jwt.sign(key)}`;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number | null; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CodedError);
    const c = e as CodedError;
    return { code: c.code, status: httpStatusOf(c.code), message: c.message };
  }
  throw new Error('expected a refusal');
}

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier({ secret: SECRET });

  it('refuses a token without exp, with a reason that says so', async () => {
    expect(await refusal(verifier.verify(await hs({ roles: ['operator'], tenants: ['*'] }, { exp: null })))).toEqual({
      code: 'UNAUTHENTICATED',
      status: 401,
      message: 'token lacks the required "exp" claim',
    });
  });

  it('refuses an expired token and one signed with another secret', async () => {
    expect((await refusal(verifier.verify(await hs({ roles: ['x'] }, { exp: now() - 60 })))).message).toBe(
      'token expired',
    );
    const foreign = await new SignJWT({ roles: ['x'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-0123456789abcdef-012345'));
    expect((await refusal(verifier.verify(`Bearer ${foreign}`))).message).toBe('invalid token');
  });

  it('reads no tenants claim as no tenant, "*" as every tenant, a list as itself', async () => {
    expect((await verifier.verify(await hs({ roles: ['a'] }))).tenants).toEqual([]);
    expect((await verifier.verify(await hs({ roles: ['a'], tenants: ['*'] }))).tenants).toBeUndefined();
    expect((await verifier.verify(await hs({ roles: ['a'], tenants: ['acme', '*'] }))).tenants).toBeUndefined();
    expect((await verifier.verify(await hs({ roles: ['a'], tenants: ['acme'] }))).tenants).toEqual(['acme']);
    expect((await refusal(verifier.verify(await hs({ roles: ['a'], tenants: '*' })))).status).toBe(401);
  });

  it('checks iss and aud when configured', async () => {
    const strict = new TokenVerifier({ secret: SECRET, issuer: 'idp', audience: 'countersign' });
    expect((await strict.verify(await hs({ roles: ['a'] }, { iss: 'idp', aud: 'countersign' }))).sub).toBe('bob');
    expect((await refusal(strict.verify(await hs({ roles: ['a'] }, { aud: 'countersign' })))).message).toBe(
      'token lacks the required "iss" claim',
    );
    expect(
      (await refusal(strict.verify(await hs({ roles: ['a'] }, { iss: 'other', aud: 'countersign' })))).message,
    ).toBe('token "iss" claim does not match this deployment');
    expect((await refusal(strict.verify(await hs({ roles: ['a'] }, { iss: 'idp', aud: 'another-app' })))).message).toBe(
      'token "aud" claim does not match this deployment',
    );
  });

  it('reads roles and tenants from the configured claim names or dotted paths (Keycloak, Okta)', async () => {
    const keycloak = new TokenVerifier({
      secret: SECRET,
      rolesClaim: 'realm_access.roles',
      tenantsClaim: 'countersign.tenants',
    });
    const actor = await keycloak.verify(
      await hs({ realm_access: { roles: ['service-owner'] }, countersign: { tenants: ['acme'] }, roles: ['operator'] }),
    );
    // The top-level `roles` is not this deployment's claim: it grants nothing.
    expect(actor).toEqual({ sub: 'bob', roles: ['service-owner'], tenants: ['acme'] });
    expect((await keycloak.verify(await hs({ realm_access: { roles: [] } }))).tenants).toEqual([]);
    const noRoles = await refusal(keycloak.verify(await hs({ roles: ['operator'], tenants: ['*'] })));
    expect(noRoles).toMatchObject({
      status: 401,
      message: 'token lacks valid sub/realm_access.roles/countersign.tenants claims',
    });

    const okta = new TokenVerifier({ secret: SECRET, rolesClaim: 'groups' });
    expect((await okta.verify(await hs({ groups: ['finance-approver'], tenants: ['*'] }))).roles).toEqual([
      'finance-approver',
    ]);
    // Still a list: a lone string is refused, as for the default claims.
    expect((await refusal(okta.verify(await hs({ groups: 'finance-approver' })))).status).toBe(401);
  });

  it('finds a claim by exact name first, then by dotted path, never through arrays', () => {
    const payload = { 'https://cs.example/roles': ['a'], realm_access: { roles: ['b'] }, list: [{ x: 1 }] };
    expect(claimAt(payload, 'https://cs.example/roles')).toEqual(['a']);
    expect(claimAt(payload, 'realm_access.roles')).toEqual(['b']);
    expect(claimAt(payload, 'realm_access.missing')).toBeUndefined();
    expect(claimAt(payload, 'list.0.x')).toBeUndefined();
    expect(claimAt(payload, 'realm_access.roles.length')).toBeUndefined();
    expect(claimAt(payload, 'constructor')).toBeUndefined();
  });

  it('will not build a JWKS verifier without issuer and audience', () => {
    expect(() => new TokenVerifier({ jwksUrl: 'https://idp.example/jwks.json' })).toThrow(/issuer and an audience/);
    expect(() => new TokenVerifier({ jwksUrl: 'https://idp.example/jwks.json', issuer: 'idp' })).toThrow(
      /issuer and an audience/,
    );
  });

  describe('with JWKS', () => {
    let server: Server;
    let url: string;
    let privateKey: webcrypto.CryptoKey;

    beforeAll(async () => {
      const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      privateKey = pair.privateKey as webcrypto.CryptoKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
      server = createServer((_, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });
    afterAll(() => new Promise((r) => server.close(r)));

    const signed = (o: { iss?: string; aud?: string }) => {
      const jwt = new SignJWT({ roles: ['operator'], tenants: ['*'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
        .setSubject('ops')
        .setExpirationTime('5m');
      if (o.iss) jwt.setIssuer(o.iss);
      if (o.aud) jwt.setAudience(o.aud);
      return jwt.sign(privateKey).then((t) => `Bearer ${t}`);
    };

    it('accepts the right iss and aud, refuses a token for another audience or without them', async () => {
      const v = new TokenVerifier({ jwksUrl: url, issuer: 'https://idp', audience: 'countersign' });
      expect((await v.verify(await signed({ iss: 'https://idp', aud: 'countersign' }))).sub).toBe('ops');
      expect((await refusal(v.verify(await signed({ iss: 'https://idp', aud: 'grafana' })))).message).toMatch(/"aud"/);
      expect((await refusal(v.verify(await signed({ aud: 'countersign' })))).message).toMatch(/"iss"/);
      expect((await refusal(v.verify(await signed({ iss: 'https://idp' })))).message).toMatch(/"aud"/);
    });
  });
});
