import { decodeJwt } from 'jose';
import { mintApproverToken } from './token.command';

const SECRET = 'cli-secret-0123456789abcdef-0123456789';

describe('countersign token', () => {
  const saved = process.env['APPROVER_JWT_SECRET'];
  beforeAll(() => {
    process.env['APPROVER_JWT_SECRET'] = SECRET;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env['APPROVER_JWT_SECRET'];
    else process.env['APPROVER_JWT_SECRET'] = saved;
  });

  it('writes the all-tenants wildcard out by default (a token without the claim covers no tenant), and always an exp', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const claims = decodeJwt(await mintApproverToken({ sub: 'bob', roles: 'service-owner', ttl: '1h' }, now));
    expect(claims).toMatchObject({
      sub: 'bob',
      roles: ['service-owner'],
      tenants: ['*'],
      exp: now.getTime() / 1000 + 3600,
    });
  });

  it('keeps the tenants it is given', async () => {
    const claims = decodeJwt(await mintApproverToken({ sub: 'bob', roles: 'r', tenants: 'acme, globex', ttl: '8h' }));
    expect(claims['tenants']).toEqual(['acme', 'globex']);
  });
});
