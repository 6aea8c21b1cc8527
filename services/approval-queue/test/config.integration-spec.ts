import { keyEnv, makeTestKeys, startService } from '../../../test/support/stack';
import { createRunDatabase, dropDatabase } from './approval-queue.fixtures';

/** The service refuses to start half-configured, and says which variable is wrong, in one line. */
describe('approval-queue configuration', () => {
  const keys = makeTestKeys();
  let db: string;

  beforeAll(async () => {
    db = await createRunDatabase('approval_queue_config');
  });

  afterAll(() => dropDatabase(db));

  it.each([
    [
      'no way to verify approver tokens',
      { APPROVER_JWT_SECRET: '' },
      /APPROVER_JWT_SECRET \(or APPROVER_JWT_SECRET_FILE\) or APPROVER_JWKS_URL: required/,
    ],
    ['both a secret and a JWKS URL', { APPROVER_JWKS_URL: 'https://idp.example/jwks.json' }, /set exactly one/],
    ['a short secret', { APPROVER_JWT_SECRET: 'too-short' }, /at least 32 bytes/],
    [
      'an unreadable secret file',
      { APPROVER_JWT_SECRET: '', APPROVER_JWT_SECRET_FILE: '/nonexistent/secret' },
      /APPROVER_JWT_SECRET_FILE: cannot read/,
    ],
    [
      'no signing key',
      { APPROVAL_QUEUE_SIGNING_KEY_FILE: '' },
      /APPROVAL_QUEUE_SIGNING_KEY \(or APPROVAL_QUEUE_SIGNING_KEY_FILE\): required/,
    ],
    ['no trusted policy-decision key', { TRUST_POLICY_DECISION_KEY_FILE: '' }, /TRUST_POLICY_DECISION_KEY .*required/],
    ['a bad sweep interval', { SWEEP_INTERVAL_MS: '0' }, /SWEEP_INTERVAL_MS/],
    [
      'an OpenID issuer without a client id',
      { UI_OIDC_ISSUER: 'https://idp.example/realms/acme' },
      /UI_OIDC_ISSUER and UI_OIDC_CLIENT_ID: set both or neither/,
    ],
    ['a malformed roles claim path', { APPROVER_ROLES_CLAIM: 'realm_access..roles' }, /APPROVER_ROLES_CLAIM/],
  ])('refuses to start with %s', async (_what, env, message) => {
    const outcome = await startService('approval-queue', { databaseUrl: db, env: { ...keyEnv(keys), ...env } }).then(
      async (started) => {
        await started.stop();
        return 'it started';
      },
      (e: Error) => e.message,
    );
    expect(outcome).toMatch(message);
  });
});
