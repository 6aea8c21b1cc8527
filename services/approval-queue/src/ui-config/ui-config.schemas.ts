import { z } from 'zod';

export const UiConfigSchema = z.object({
  oidc: z
    .object({
      issuer: z.string().meta({ description: 'issuer URL; the page reads its discovery document' }),
      client_id: z.string().meta({ description: "the page's public client id (authorization code + PKCE)" }),
      scopes: z.string().meta({ description: 'space-separated scopes the page asks for' }),
      resource: z
        .string()
        .nullable()
        .meta({ description: 'resource indicator (RFC 8707) for the API access token, or null' }),
    })
    .nullable()
    .meta({ description: 'the OpenID provider reviewers sign in with; null when none is configured' }),
  roles_claim: z.string().meta({ description: 'claim name or dotted path of the roles in an access token' }),
  tenants_claim: z.string().meta({ description: 'claim name or dotted path of the tenants in an access token' }),
  dev_token_form: z
    .boolean()
    .meta({ description: 'development mode: the page also takes a pasted token or a #token= link' }),
});
export type UiConfig = z.infer<typeof UiConfigSchema>;
