import { loadEnv } from '@countersign/config';
import { EnvSchema } from './env.schema';
import { uiSignIn } from './queue-config';

const env = (vars: Record<string, string>) => loadEnv(EnvSchema, vars);

describe("the reviewers' page sign-in settings", () => {
  it('are off by default: no provider, no development form, the default claims', () => {
    expect(uiSignIn(env({}), { secret: 'x' })).toEqual({
      oidc: null,
      rolesClaim: 'roles',
      tenantsClaim: 'tenants',
      devTokenForm: false,
    });
  });

  it('carry the provider, the scopes, the resource and the claim paths the verifier uses', () => {
    const vars = {
      UI_OIDC_ISSUER: 'https://sso.acme.example/realms/acme',
      UI_OIDC_CLIENT_ID: 'countersign-reviewer',
      UI_OIDC_RESOURCE: 'https://countersign.acme.example/api',
      UI_DEV_TOKEN_FORM: 'true',
    };
    expect(uiSignIn(env(vars), { jwksUrl: 'https://x', rolesClaim: 'realm_access.roles' })).toEqual({
      oidc: {
        issuer: 'https://sso.acme.example/realms/acme',
        clientId: 'countersign-reviewer',
        scopes: 'openid profile email offline_access',
        resource: 'https://countersign.acme.example/api',
      },
      rolesClaim: 'realm_access.roles',
      tenantsClaim: 'tenants',
      devTokenForm: true,
    });
  });

  it('refuse an issuer without a client id and the reverse, scopes without openid, and a flag that is not true/false', () => {
    expect(() => uiSignIn(env({ UI_OIDC_ISSUER: 'https://sso.example' }), {})).toThrow(/set both or neither/);
    expect(() => uiSignIn(env({ UI_OIDC_CLIENT_ID: 'page' }), {})).toThrow(/set both or neither/);
    expect(() => env({ UI_OIDC_SCOPES: 'profile email' })).toThrow(/UI_OIDC_SCOPES: must include openid/);
    expect(() => env({ UI_DEV_TOKEN_FORM: 'yes' })).toThrow(/UI_DEV_TOKEN_FORM/);
  });
});
