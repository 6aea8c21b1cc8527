// A real OpenID provider (oidc-provider, OpenID-certified) for the reviewer sign-in browser spec, in a
// process of its own: oidc-provider is an ES module, which Jest's CommonJS runtime cannot load.
// Given one JSON argument, it serves two issuers that sign with the same key: `port` (the one the
// deployment trusts) and `otherPort` (another issuer, to prove `iss` is checked, not only the
// signature). Prints one JSON line when both listen.
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const { port, otherPort, pageUrl, resource, accessTokenTTL, jwk, accounts, robot } = JSON.parse(process.argv[2]);

/** An account's roles and tenants where a Keycloak realm puts them, not at the default claims. */
function accessClaims(who) {
  return who ? { realm_access: { roles: who.roles }, countersign: { tenants: who.tenants } } : undefined;
}

function provider(issuer) {
  return new Provider(issuer, {
    clients: [
      {
        client_id: 'countersign-reviewer',
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        redirect_uris: [pageUrl],
        post_logout_redirect_uris: [pageUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: robot.clientId,
        client_secret: robot.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [jwk] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: ['reviewer-sso-spec-cookie-key-0123456789'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'approvals'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, name: accounts[id]?.name ?? id, email: `${id}@sso.test` }),
    }),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: 'approvals',
            audience: resource,
            accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) =>
      token.kind === 'ClientCredentials' ? accessClaims(robot) : accessClaims(accounts[token.accountId]),
    // As Keycloak and Okta do for a browser client: a refresh token without asking for offline access.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // The reviewer consented when the organisation registered the page: no consent screen.
    loadExistingGrant: async (ctx) => {
      const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile email offline_access');
      grant.addResourceScope(resource, 'approvals');
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    ttl: { AccessToken: accessTokenTTL, ClientCredentials: accessTokenTTL, RefreshToken: 3600, IdToken: 3600 },
  });
}

function listen(p) {
  const server = createServer(provider(`http://127.0.0.1:${p}`).callback());
  return new Promise((resolve) => server.listen(p, '127.0.0.1', resolve));
}

await Promise.all([listen(port), listen(otherPort)]);
process.stdout.write(`${JSON.stringify({ ready: true, issuer: `http://127.0.0.1:${port}` })}\n`);
