import {
  BaseEnvSchema,
  csvEnv,
  offSwitchEnv,
  portEnv,
  signingKeyEnv,
  TokenAuthEnvShape,
  trustedKeyEnv,
} from '@countersign/config';
import { DEFAULT_REDACT_FIELDS } from '@countersign/contracts';
import { z } from 'zod';

export const EnvSchema = BaseEnvSchema.extend({
  /** Events of one partition taken in at once (intake is idempotent and order-free per job). */
  APPROVAL_QUEUE_CONSUME_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(32)
    .describe('Events of one partition taken into the queue at once (intake is idempotent and order-free per job).'),
  /** Most events in one intake flush (one transaction); more wait for the next flush. */
  APPROVAL_QUEUE_INTAKE_BATCH_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(500)
    .describe('Most events taken into the queue in one transaction; the rest wait for the next one.'),
  PORT: portEnv(8081),
  ...TokenAuthEnvShape,
  ...signingKeyEnv('APPROVAL_QUEUE', '`approval.resolved` and `approval.escalated`'),
  ...trustedKeyEnv('POLICY_DECISION', "policy-decision's public key(s), PEM; several concatenated during a rotation."),
  /** Payload keys shown to reviewers as "[REDACTED]", matched case-insensitively at any depth, ignoring `_`/`-`. */
  REDACT_FIELDS: csvEnv(
    DEFAULT_REDACT_FIELDS,
    'Payload keys shown to reviewers as `[REDACTED]`, comma-separated, matched case-insensitively at any depth ignoring `_` and `-`. Setting it replaces the default list.',
  ),
  SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(20)
    .max(60000)
    .default(1000)
    .describe('How often the sweeper escalates approvals nearing their SLA and expires overdue ones.'),
  SWEEP_BATCH_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe('Most approvals the sweeper handles per round.'),
  ESCALATION_WEBHOOK_URL: z
    .url()
    .optional()
    .describe('Optional URL that receives a POST for each escalation (besides `approval.escalated`).'),
  ESCALATION_WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60000)
    .default(3000)
    .describe('Timeout of one escalation webhook call.'),
  UI_OIDC_ISSUER: z
    .url()
    .optional()
    .describe(
      "Issuer URL of the OpenID provider the reviewers' page signs in with (discovery at `/.well-known/openid-configuration`); needs `UI_OIDC_CLIENT_ID`. Usually the same as `APPROVER_JWT_ISSUER`.",
    ),
  UI_OIDC_CLIENT_ID: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe(
      "The reviewers' page's client id at the OpenID provider: a public client with PKCE, redirect URI the page's URL.",
    ),
  UI_OIDC_SCOPES: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope names')
    .refine((v) => v.split(' ').includes('openid'), 'must include openid')
    .default('openid profile email offline_access')
    .describe(
      'Scopes the page asks for, space-separated, `openid` included; `offline_access` gets a refresh token where the provider needs it.',
    ),
  UI_OIDC_RESOURCE: z
    .url()
    .optional()
    .describe(
      'Resource indicator (RFC 8707) the page asks access tokens for, when the provider needs one to issue a JWT for this API (oidc-provider); its `aud` must match `APPROVER_JWT_AUDIENCE`.',
    ),
  UI_DEV_TOKEN_FORM: offSwitchEnv(
    "Development only: the reviewers' page also offers the paste-a-token form and `#token=` links. Off in production, where reviewers sign in with `UI_OIDC_ISSUER`.",
  ),
});
export type Env = z.infer<typeof EnvSchema>;
