import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Topics } from '@countersign/contracts';
import { bearer, freePort, waitUntil } from '@countersign/testkit';
import { proposal } from '../support/fixtures';
import { KafkaProbe, publishRaw } from '../support/kafka-probe';
import {
  ROOT,
  createTestStack,
  makeTestKeys,
  startService,
  type ServiceHandle,
  type TestStack,
} from '../support/stack';
import { stopSpecStack } from '../support/teardown';
import { launchBrowser, screenshot, servesPage } from './reviewer-ui.support';
import { startSsoProvider, type SsoProvider } from './reviewer-sso.support';

type Proposal = ReturnType<typeof proposal>;

const RESOURCE = 'https://countersign.test/api';
/** Short, so the page renews it during the spec (at 3/4 of its lifetime). */
const ACCESS_TOKEN_TTL = 16;

interface StoredTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
}

/**
 * Reviewers sign in with OpenID Connect, in Debian's Chromium, against a real OpenID provider
 * (oidc-provider, OpenID-certified) that puts roles and tenants where Keycloak does
 * (`realm_access.roles`, and `countersign.tenants`): authorization code + PKCE, the queue filtered
 * by those claims, an approval recorded under the provider's subject, renewal with the refresh
 * token, sign-out at the provider, and the development paste form only with UI_DEV_TOKEN_FORM.
 */
describe('reviewer sign-in with OpenID Connect', () => {
  const services = new Map<string, ServiceHandle>();
  const probe = new KafkaProbe();
  const run = Date.now().toString(36);
  let idp: SsoProvider;
  let stack: TestStack;
  let browser: BrowserContext;
  let baseUrl: string;

  const north = `sso-north-${run}`;
  const south = `sso-south-${run}`;
  const change = proposal({
    job_id: `job-${run}-sso-change`,
    tenant: north,
    agent_id: 'deploy-bot',
    topic: 'job.config.update',
    risk_tags: ['prod', 'write'],
    requested_by: 'alice@sso.test',
    summary: { title: 'Raise the search timeout to 5 s' },
    payload: { service: 'search-api', key: 'timeout_s', from: 3, to: 5 },
  });
  const refund = proposal({
    job_id: `job-${run}-sso-refund`,
    tenant: north,
    agent_id: 'support-agent',
    topic: 'job.payment.refund',
    risk_tags: ['payment'],
    requested_by: 'support@sso.test',
    summary: { title: 'Refund order 5521' },
    payload: { order: '5521', amount: { value: 4200, currency: 'EUR' } },
  });
  const elsewhere = proposal({
    job_id: `job-${run}-sso-elsewhere`,
    tenant: south,
    agent_id: 'deploy-bot',
    topic: 'job.config.update',
    risk_tags: ['prod', 'write'],
    requested_by: 'sam@sso.test',
    summary: { title: 'Lower the cache TTL in the south tenant' },
    payload: { service: 'cache', key: 'ttl_s', from: 60, to: 30 },
  });

  const queueUrl = () => services.get('approval-queue')!.url;
  const card = (page: Page, p: Proposal) => page.locator(`li.card[data-job="${p.data.job_id}"]`);
  const stored = (page: Page) =>
    page.evaluate(() => {
      const raw = sessionStorage.getItem('countersign.reviewer.oidc.tokens');
      return raw ? (JSON.parse(raw) as StoredTokens) : null;
    });
  const listApprovals = (token: string, base = queueUrl()) =>
    fetch(`${base}/api/v1/approvals?include_resolved=true&limit=200`, { headers: bearer(token) });

  /** Drives the provider's own login form in the browser, from the page's sign-in button. */
  async function signIn(page: Page, login: string): Promise<void> {
    // Each test signs in afresh: no provider session left from the one before.
    await browser.clearCookies();
    await page.goto(`${baseUrl}/`);
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password: the provider dev login takes it');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.locator('#who').waitFor();
  }

  beforeAll(async () => {
    const queuePort = await freePort();
    const [port, otherPort] = [await freePort(), await freePort()];
    baseUrl = `http://127.0.0.1:${queuePort}`;
    idp = await startSsoProvider({
      port,
      otherPort,
      pageUrl: `${baseUrl}/`,
      resource: RESOURCE,
      accessTokenTTL: ACCESS_TOKEN_TTL,
      accounts: { bob: { name: 'Bob Baker', roles: ['service-owner'], tenants: [north] } },
      robot: {
        clientId: 'ops-robot',
        secret: 'ops-robot-secret-0123456789abcdef',
        roles: ['service-owner', 'finance-approver', 'auditor'],
        tenants: ['*'],
      },
    });
    const sso = {
      APPROVER_JWT_SECRET: '',
      APPROVER_JWKS_URL: `${idp.issuer}/jwks`,
      APPROVER_JWT_ISSUER: idp.issuer,
      APPROVER_JWT_AUDIENCE: RESOURCE,
      APPROVER_ROLES_CLAIM: 'realm_access.roles',
      APPROVER_TENANTS_CLAIM: 'countersign.tenants',
      POLICY_DIR: join(ROOT, 'policies'),
    };
    const ui = { UI_OIDC_ISSUER: idp.issuer, UI_OIDC_CLIENT_ID: 'countersign-reviewer', UI_OIDC_RESOURCE: RESOURCE };
    stack = await createTestStack('reviewer_sso', makeTestKeys());
    await probe.start([Topics.ApprovalResolved]);
    const started = await Promise.all([
      startService('policy-decision', { ...stack, env: sso }),
      startService('approval-queue', { ...stack, port: queuePort, env: { ...sso, ...ui } }),
      startService('audit', { ...stack, env: sso }),
    ]);
    for (const s of started) services.set(s.name, s);
    if (!(await servesPage(baseUrl)))
      throw new Error('approval-queue does not serve the reviewer page: run make build');

    for (const p of [change, refund, elsewhere]) await publishRaw(Topics.JobProposed, p.data.job_id, JSON.stringify(p));
    await waitUntil(
      async () => {
        const body = (await (await listApprovals(await idp.robotToken())).json()) as {
          items?: { job: { id: string }; proposal_received: boolean }[];
        };
        return [change, refund, elsewhere].every((p) =>
          body.items?.some((i) => i.job.id === p.data.job_id && i.proposal_received),
        );
      },
      { what: 'the three proposals listed', timeout: 60000, every: 250 },
    );
    browser = await launchBrowser();
  }, 240000);

  afterAll(async () => {
    await browser?.close();
    await stopSpecStack(services.values(), probe);
    await idp?.stop();
  });

  it('offers the provider sign-in, and no paste form or token links without the development flag', async () => {
    const config = (await (await fetch(`${baseUrl}/api/v1/ui-config`)).json()) as Record<string, unknown>;
    expect(config).toEqual({
      oidc: { issuer: idp.issuer, client_id: 'countersign-reviewer', scopes: expect.any(String), resource: RESOURCE },
      roles_claim: 'realm_access.roles',
      tenants_claim: 'countersign.tenants',
      dev_token_form: false,
    });
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/#token=${encodeURIComponent(await idp.robotToken())}`);
    await page.locator('#signin-error', { hasText: 'only accepted in development mode' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).waitFor();
    expect(page.url()).not.toContain('token=');
    expect(await page.locator('#token').count()).toBe(0);
    expect(await page.locator('#who').isVisible()).toBe(false);
    await screenshot(page, 'sso-sign-in', 'sso-sign-in');
    await page.close();
  });

  it('signs in at the provider and shows only what the mapped roles and tenants may see; an approval is recorded under the provider subject', async () => {
    const page = await browser.newPage();
    await signIn(page, 'bob');
    expect(await page.locator('#who').innerText()).toMatch(
      new RegExp(`Bob Baker[\\s\\S]*Roles: service-owner[\\s\\S]*Tenants: ${north}`),
    );
    // The code and state are gone from the address; the tokens are in this tab's sessionStorage only.
    expect(page.url()).not.toMatch(/[?&](code|state)=/);
    const tokens = await stored(page);
    expect(tokens?.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(tokens?.refreshToken).toBeTruthy();
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await card(page, change).waitFor();
    expect(await card(page, refund).count()).toBe(0); // finance-approver only
    expect(await card(page, elsewhere).count()).toBe(0); // another tenant

    await card(page, change).getByRole('link').click();
    await page.locator('#detail-title', { hasText: 'Raise the search timeout to 5 s' }).waitFor();
    await page.getByLabel('Reason').fill('Agreed with the search team');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#detail').getByText('Approved. That was the last approval needed').waitFor();
    const resolved = await probe.waitForJob(Topics.ApprovalResolved, change.data.job_id);
    expect(resolved.json?.['data']).toMatchObject({ resolution: 'APPROVED', resolved_by: 'bob' });

    // The same access token authenticates at audit too (bob is no auditor: refused for the role, not the token).
    const audit = services.get('audit')!.url;
    expect((await fetch(`${audit}/api/v1/audit?limit=1`, { headers: bearer(tokens!.accessToken) })).status).toBe(403);
    expect((await fetch(`${audit}/api/v1/audit?limit=1`, { headers: bearer(await idp.robotToken()) })).status).toBe(
      200,
    );
    await page.close();
  });

  it('renews the access token with the refresh token before it expires, and the new one keeps working', async () => {
    const page = await browser.newPage();
    await signIn(page, 'bob');
    const first = (await stored(page))!;
    await page.waitForFunction(() => document.body.dataset['tokenRefreshed'] !== undefined, undefined, {
      timeout: ACCESS_TOKEN_TTL * 1000,
    });
    const renewed = (await stored(page))!;
    expect(renewed.accessToken).not.toBe(first.accessToken);
    expect((await listApprovals(renewed.accessToken)).status).toBe(200);
    // Past the first token's expiry the page is still signed in and its next poll still succeeds.
    await waitUntil(async () => (await listApprovals(first.accessToken)).status === 401, {
      what: 'the first access token expired',
      timeout: ACCESS_TOKEN_TTL * 2000,
    });
    // The queue polls every few seconds with whatever token the page holds now.
    await page.waitForResponse((r) => r.url().includes('/api/v1/approvals?') && r.status() === 200);
    expect(await page.locator('#who').isVisible()).toBe(true);
    await page.close();
  });

  it('signs out at the provider: the tab forgets the tokens, the refresh token and a replayed sign-in are refused', async () => {
    const page = await browser.newPage();
    let callback = '';
    page.on('request', (r) => {
      if (r.isNavigationRequest() && r.url().startsWith(`${baseUrl}/?`) && r.url().includes('code='))
        callback = r.url();
    });
    await signIn(page, 'bob');
    const tokens = (await stored(page))!;
    expect(callback).toContain('state=');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === idp.issuer);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).waitFor();
    expect(await stored(page)).toBeNull();
    expect(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('countersign.')))).toEqual(
      [],
    );
    expect(await idp.refreshWorks(tokens.refreshToken!)).toBe(false);

    // The provider's answer from before cannot sign anyone in again: its state belongs to no sign-in of this tab.
    await page.goto(callback);
    await page.locator('#signin-error', { hasText: 'state mismatch' }).waitFor();
    expect(await page.locator('#who').isVisible()).toBe(false);
    expect((await fetch(`${queueUrl()}/api/v1/approvals`)).status).toBe(401);
    await page.close();
  });

  it('refuses a token from another issuer, even one signed with the same key', async () => {
    const foreign = await idp.robotToken(idp.otherIssuer);
    const urls = [`${queueUrl()}/api/v1/approvals`, `${services.get('audit')!.url}/api/v1/audit?limit=1`];
    for (const url of urls) {
      const res = await fetch(url, { headers: bearer(foreign) });
      expect({ url, status: res.status }).toEqual({ url, status: 401 });
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/"iss"/);
    }
    // The same client from the trusted issuer is let in.
    const trusted = await idp.robotToken();
    for (const url of urls) expect((await fetch(url, { headers: bearer(trusted) })).status).toBe(200);
  });

  it('offers the paste form beside the provider sign-in only with UI_DEV_TOKEN_FORM', async () => {
    const dev = await startService('approval-queue', {
      ...stack,
      env: {
        APPROVER_JWT_SECRET: '',
        APPROVER_JWKS_URL: `${idp.issuer}/jwks`,
        APPROVER_JWT_ISSUER: idp.issuer,
        APPROVER_JWT_AUDIENCE: RESOURCE,
        APPROVER_ROLES_CLAIM: 'realm_access.roles',
        APPROVER_TENANTS_CLAIM: 'countersign.tenants',
        UI_OIDC_ISSUER: idp.issuer,
        UI_OIDC_CLIENT_ID: 'countersign-reviewer',
        UI_DEV_TOKEN_FORM: 'true',
      },
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${dev.url}/`);
      await page.getByLabel('Bearer token').waitFor();
      expect(await page.getByRole('button', { name: 'Sign in with your identity provider' }).count()).toBe(1);
      await page.getByLabel('Bearer token').fill(await idp.robotToken());
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#who', { hasText: 'ops-robot' }).waitFor();
      await page.close();
    } finally {
      await dev.stop();
    }
  });
});
