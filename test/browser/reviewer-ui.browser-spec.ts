import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Topics } from '@countersign/contracts';
import { bearer, mintToken, waitUntil } from '@countersign/testkit';
import { slaState } from '../../services/approval-queue/ui/src/format';
import { proposal } from '../support/fixtures';
import { KafkaProbe, publishRaw } from '../support/kafka-probe';
import {
  ROOT,
  createTestStack,
  makeTestKeys,
  startServices,
  type ServiceHandle,
  type TestKeys,
} from '../support/stack';
import { stopSpecStack } from '../support/teardown';
import {
  launchBrowser,
  screenshot,
  servesPage,
  startDevServer,
  startExecutorTarget,
  UI_DIST,
} from './reviewer-ui.support';

type Proposal = ReturnType<typeof proposal>;

/**
 * The reviewers' web page, in Debian's Chromium, against the four real services on the real broker
 * and Postgres: sign in, the live queue, an item opened, approve (the job executes), reject (a
 * reason is required), a refused self-approval in plain words, history and stats, a phone screen.
 */
describe('reviewer web page', () => {
  const services = new Map<string, ServiceHandle>();
  const probe = new KafkaProbe();
  const run = Date.now().toString(36);
  let keys: TestKeys;
  let target: Awaited<ReturnType<typeof startExecutorTarget>>;
  let dev: Awaited<ReturnType<typeof startDevServer>> | undefined;
  let browser: BrowserContext;
  let baseUrl: string;
  const tokens: Record<'bob' | 'carol' | 'dave' | 'seer', string> = { bob: '', carol: '', dave: '', seer: '' };

  const id = (name: string) => `job-${run}-${name}`;
  const change = proposal({
    job_id: id('checkout-retries'),
    tenant: 'northwind',
    agent_id: 'deploy-bot',
    topic: 'job.config.update',
    risk_tags: ['prod', 'write'],
    requested_by: 'alice@northwind.test',
    summary: {
      title: 'Raise the checkout retry limit from 3 to 5',
      next_effect: 'checkout-api reloads its config within a minute',
    },
    payload: {
      service: 'checkout-api',
      key: 'payments.retry_limit',
      from: 3,
      to: 5,
      credentials: { api_key: 'sk_live_51Hxyz' },
      ticket: 'OPS-2231',
    },
  });
  const rollout = proposal({
    job_id: id('search-rollout'),
    tenant: 'northwind',
    agent_id: 'release-agent',
    topic: 'job.deploy.rollout',
    risk_tags: ['prod', 'write'],
    requested_by: 'maria@northwind.test',
    summary: { title: 'Roll out search-api v2.14.0 to 100 %' },
    payload: { service: 'search-api', version: '2.14.0', strategy: 'canary', steps: [10, 50, 100] },
  });
  const migration = proposal({
    job_id: id('orders-migration'),
    tenant: 'contoso',
    agent_id: 'db-agent',
    topic: 'job.db.migrate',
    risk_tags: ['prod', 'write'],
    requested_by: 'sam@contoso.test',
    summary: { title: 'Add an index on orders(customer_id)' },
    payload: { database: 'orders', migration: '2024_11_add_customer_idx', online: true },
  });
  const refund = proposal({
    job_id: id('refund'),
    tenant: 'northwind',
    agent_id: 'support-agent',
    topic: 'job.payment.refund',
    risk_tags: ['payment'],
    requested_by: 'support@northwind.test',
    summary: { title: 'Refund EUR 1,240.00 on order 88412', next_effect: 'the card is credited within 5 working days' },
    payload: {
      order: '88412',
      amount: { value: 124000, currency: 'EUR' },
      card_number: '4242424242424242',
      customer: 'c_1093',
    },
  });
  const ownChange = proposal({
    job_id: id('own-change'),
    tenant: 'northwind',
    agent_id: 'deploy-bot',
    topic: 'job.config.update',
    risk_tags: ['prod', 'write'],
    requested_by: 'dave@northwind.test',
    summary: { title: 'Lower the session timeout to 15 minutes' },
    payload: { service: 'auth', key: 'session.timeout_min', from: 30, to: 15 },
  });
  const titleOf = (p: Proposal) => p.data.summary!.title;

  async function publish(...ps: Proposal[]) {
    for (const p of ps) await publishRaw(Topics.JobProposed, p.data.job_id, JSON.stringify(p));
  }

  /** Until every job is listed for the seer with its proposal attached (the page shows nothing half-arrived). */
  async function waitListed(...ps: Proposal[]) {
    await waitUntil(
      async () => {
        const res = await fetch(
          `${services.get('approval-queue')!.url}/api/v1/approvals?include_resolved=true&limit=200`,
          { headers: bearer(tokens.seer) },
        );
        const body = (await res.json()) as { items: { job: { id: string }; proposal_received: boolean }[] };
        return ps.every((p) => body.items?.some((i) => i.job.id === p.data.job_id && i.proposal_received));
      },
      { what: `all of ${ps.map((p) => p.data.job_id).join(', ')} listed`, timeout: 60000, every: 250 },
    );
  }

  /**
   * Opens the page with the token in the fragment (as a link from chat or e-mail would: `#token=`, or
   * `#/queue/<id>?token=` at a route); a fragment never reaches the server or its logs.
   */
  async function signedInPage(token: string, route = ''): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/${route ? `${route}?` : '#'}token=${encodeURIComponent(token)}`);
    await page.locator('#who').waitFor();
    return page;
  }

  const card = (page: Page, p: Proposal) => page.locator(`li.card[data-job="${p.data.job_id}"]`);

  async function openItem(page: Page, p: Proposal) {
    await card(page, p).getByRole('link').click();
    await page.locator('#detail-title', { hasText: titleOf(p) }).waitFor();
  }

  beforeAll(async () => {
    keys = makeTestKeys();
    target = await startExecutorTarget();
    const dir = mkdtempSync(join(tmpdir(), 'cs-ui-'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    // Tenants of this spec's own (Acme's policy under another name): other specs share the broker,
    // and reviewers here see only these tenants, so their proposals never crowd this queue.
    const acme = readFileSync(join(ROOT, 'policies', 'tenants', 'acme.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'policies', 'tenants', 'northwind.yaml'),
      acme.replace(/acme/g, 'northwind').replace(/Acme/g, 'Northwind'),
    );
    const executors = join(dir, 'executors.yaml');
    writeFileSync(
      executors,
      [
        'executors:',
        '  - name: config-service',
        '    kind: http',
        '    match: ["job.config.**"]',
        `    url: ${target.url}`,
        '    secret_env: EXECUTOR_HTTP_SECRET',
        '    idempotent: true',
        '    timeout_sec: 10',
        '  - name: agent',
        '    kind: release',
        '    match: ["**"]',
        '    grant_ttl_sec: 300',
      ].join('\n'),
    );
    const stack = await createTestStack('reviewer_ui', keys);
    await probe.start([Topics.ApprovalResolved, Topics.JobExecuted, Topics.JobBlocked]);
    const env = {
      POLICY_DIR: join(dir, 'policies'),
      EXECUTORS_FILE: executors,
      EXECUTOR_HTTP_SECRET: 'browser-test-executor-secret-0123456789',
      // This spec signs in with pasted tokens and #token= links: the development form.
      UI_DEV_TOKEN_FORM: 'true',
    };
    const started = await startServices(stack, env);
    for (const s of started) services.set(s.name, s);

    const queue = services.get('approval-queue')!;
    if (await servesPage(queue.url)) {
      baseUrl = queue.url;
    } else if (process.env['REVIEWER_UI_DEV_SERVER'] === '1') {
      dev = await startDevServer(queue.url);
      baseUrl = dev.url;
    } else {
      throw new Error(
        `approval-queue does not serve the reviewer page at ${queue.url}/: build it (npx vite build --config services/approval-queue/ui/vite.config.ts) ` +
          `and serve ${UI_DIST} through bootstrapService's staticDir`,
      );
    }

    const mint = (claims: { sub: string; roles: string[]; tenants: string[] }) => mintToken(keys.jwtSecret, claims);
    Object.assign(tokens, {
      bob: mint({ sub: 'bob@northwind.test', roles: ['service-owner'], tenants: ['northwind', 'contoso'] }),
      carol: mint({ sub: 'carol@northwind.test', roles: ['finance-approver'], tenants: ['northwind'] }),
      dave: mint({ sub: 'dave@northwind.test', roles: ['service-owner'], tenants: ['northwind'] }),
      seer: mint({
        sub: 'seer',
        roles: ['service-owner', 'finance-approver', 'northwind-release-manager'],
        tenants: ['northwind', 'contoso'],
      }),
    } satisfies typeof tokens);
    await publish(change, rollout, migration, refund, ownChange);
    await waitListed(change, rollout, migration, refund, ownChange);
    browser = await launchBrowser();
  }, 240000);

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
    await stopSpecStack(services.values(), probe);
    await target?.close();
  });

  it('colours a countdown red under 10 % of its SLA and when overdue', () => {
    const start = '2030-01-01T00:00:00.000Z';
    const due = '2030-01-01T00:30:00.000Z';
    expect(slaState(due, start, Date.parse('2030-01-01T00:10:00Z'))).toEqual({
      text: '20m 00s left',
      urgent: false,
      overdue: false,
    });
    expect(slaState(due, start, Date.parse('2030-01-01T00:27:30Z'))).toEqual({
      text: '2m 30s left',
      urgent: true,
      overdue: false,
    });
    expect(slaState(due, start, Date.parse('2030-01-01T00:31:05Z'))).toEqual({
      text: 'overdue by 1m 05s',
      urgent: true,
      overdue: true,
    });
  });

  it('a reviewer signs in from a link, sees the production change and approves it; the job executes', async () => {
    const page = await signedInPage(tokens.bob);
    // The token is taken once: gone from the address bar, kept for this tab only.
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(tokens.bob);
    expect(await page.locator('#who').innerText()).toMatch(
      /bob@northwind\.test[\s\S]*Roles: service-owner[\s\S]*Tenants: northwind, contoso/,
    );

    // Routed by role and tenant: bob sees the production writes, not the refund (finance only).
    await card(page, change).waitFor();
    await card(page, migration).waitFor();
    await card(page, rollout).waitFor();
    expect(await card(page, refund).count()).toBe(0);
    const text = await card(page, change).innerText();
    expect(text).toContain('Production writes require human approval');
    expect(text).toMatch(/\d+m \d\ds left/);
    expect(text).toContain('0 of 1 approval');
    expect(text).toContain('deploy-bot for alice@northwind.test');
    expect(text).toContain('prod-write-gate');
    expect(await card(page, rollout).innerText()).toContain('0 of 2 approvals');

    await openItem(page, change);
    const detail = page.locator('#detail');
    expect(await detail.locator('mark.j-redacted').first().innerText()).toBe('"[REDACTED]"');
    expect(await detail.innerText()).toContain('credentials.api_key');
    expect(await detail.innerText()).not.toContain('sk_live_51Hxyz');
    expect(await detail.innerText()).toContain('"payments.retry_limit"');
    expect(await detail.innerText()).toMatch(/cfg:(system|tenant:northwind):policy#sha256:[0-9a-f]{64}/);
    await screenshot(page, 'queue-item-open', 'queue');
    await page.getByRole('button', { name: 'Copy the job hash' }).click();
    await page.getByRole('button', { name: 'Copy the job hash' }).filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^[0-9a-f]{64}$/);

    await page.getByLabel('Reason').fill('Retry limit agreed in OPS-2231; error budget is fine');
    await page.getByLabel('Note').fill('Watch the checkout error rate for 30 minutes');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#detail').getByText('Approved. That was the last approval needed').waitFor();
    await screenshot(page, 'approved', 'approved');

    const executed = await probe.waitForJob(Topics.JobExecuted, change.data.job_id, 60000);
    expect((executed.json?.['data'] as { status: string }).status).toBe('SUCCEEDED');
    expect(target.calls.filter((c) => c.jobId === change.data.job_id)).toHaveLength(1);
    const resolved = await probe.waitForJob(Topics.ApprovalResolved, change.data.job_id);
    expect(resolved.json?.['data']).toMatchObject({ resolution: 'APPROVED', resolved_by: 'bob@northwind.test' });
    // Gone from the queue at the next poll.
    await card(page, change).waitFor({ state: 'detached', timeout: 10000 });
    await page.close();
  });

  it('filters by tenant, topic and risk tag', async () => {
    const page = await signedInPage(tokens.bob);
    await card(page, rollout).waitFor();
    await page.getByLabel('Tenant', { exact: true }).fill('contoso');
    await page.getByLabel('Tenant', { exact: true }).press('Enter');
    await card(page, rollout).waitFor({ state: 'detached' });
    await card(page, migration).waitFor();
    await page.getByLabel('Tenant', { exact: true }).fill('');
    await page.getByLabel('Topic', { exact: true }).fill('job.deploy.rollout');
    await page.getByLabel('Topic', { exact: true }).press('Enter');
    await card(page, migration).waitFor({ state: 'detached' });
    await card(page, rollout).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await card(page, migration).waitFor();
    await page.getByLabel('Risk tag', { exact: true }).fill('payment');
    await page.getByLabel('Risk tag', { exact: true }).press('Enter');
    await page.getByText('Nothing matches these filters.').waitFor();
    await page.close();
  });

  it('shows new proposals without a reload and announces them', async () => {
    const page = await signedInPage(tokens.bob);
    await card(page, rollout).waitFor();
    const late = proposal({
      job_id: id('late'),
      tenant: 'northwind',
      agent_id: 'deploy-bot',
      topic: 'job.config.update',
      risk_tags: ['prod', 'write'],
      requested_by: 'alice@northwind.test',
      summary: { title: 'Turn on the new invoice PDF renderer' },
      payload: { service: 'billing', key: 'invoice.renderer', to: 'v2' },
    });
    await publish(late);
    await card(page, late).waitFor({ timeout: 30000 });
    // Other proposals may land in the same poll, so the announcement may count them instead.
    await page.locator('#live', { hasText: /New in the queue|new items in the queue/ }).waitFor({ timeout: 10000 });
    await page.close();
  });

  it('a second reviewer must give a reason to reject a payment, then rejects it', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Bearer token').waitFor();
    expect(await page.locator('#nav').isVisible()).toBe(false);
    await screenshot(page, 'sign-in', 'sign-in');
    await page.getByLabel('Bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error', { hasText: 'That is not a bearer token' }).waitFor();
    await page.getByLabel('Bearer token').fill(tokens.carol);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who', { hasText: 'carol@northwind.test' }).waitFor();
    await card(page, refund).waitFor();
    expect(await card(page, refund).innerText()).toContain('0 of 2 approvals');
    expect(await card(page, change).count()).toBe(0);
    await openItem(page, refund);
    expect(await page.locator('#detail').innerText()).toContain('card_number');

    await page.getByRole('button', { name: 'Reject' }).click();
    await page.locator('#reason-error', { hasText: 'Give a reason to reject' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reason');
    expect(await page.getByLabel('Reason').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'reject-needs-reason', 'reject-reason');
    expect(probe.forJob(Topics.ApprovalResolved, refund.data.job_id)).toHaveLength(0);

    await page.getByLabel('Reason').fill('Refund exceeds the order total');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.locator('#detail').getByText('Rejected. Nothing runs').waitFor();
    const resolved = await probe.waitForJob(Topics.ApprovalResolved, refund.data.job_id);
    expect(resolved.json?.['data']).toMatchObject({
      resolution: 'REJECTED',
      resolved_by: 'carol@northwind.test',
      resolved_comment: 'Refund exceeds the order total',
    });
    const blocked = await probe.waitForJob(Topics.JobBlocked, refund.data.job_id, 60000);
    expect((blocked.json?.['data'] as { reason_code: string }).reason_code).toBe('REJECTED');
    await page.close();
  });

  it('refuses a self-approval in plain words', async () => {
    const page = await signedInPage(tokens.dave, `#/queue/${encodeURIComponent(ownChange.data.job_id)}`);
    await page.locator('#detail-title', { hasText: titleOf(ownChange) }).waitFor();
    await page.locator('#detail').getByText('You are the requester of this action.').waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    const alert = page
      .getByRole('alert')
      .filter({ hasText: 'You requested this action, so someone else must approve it.' });
    await alert.waitFor();
    expect(await alert.innerText()).toContain('SELF_APPROVAL');
    await screenshot(page, 'self-approval-refused', 'self-approval');
    expect(probe.forJob(Topics.ApprovalResolved, ownChange.data.job_id)).toHaveLength(0);
    await page.close();
  });

  it('lists resolved items with who, why and how long, and draws the stats', async () => {
    const page = await signedInPage(tokens.bob);
    await page.getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'Resolved items' }).waitFor();
    const row = page.locator('table.resolved-table tr', { hasText: titleOf(change) });
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toMatch(/approved/i);
    expect(text).toContain('bob@northwind.test');
    expect(text).toContain('Retry limit agreed in OPS-2231');
    expect(text).toMatch(/\d+(s|m \d\ds)/);
    // Rejection reasons come from the stats endpoint (bob's tenants include northwind).
    await page.locator('figure svg[role="img"]').nth(1).waitFor();
    expect(await page.locator('figure', { hasText: 'Top rejection reasons' }).innerText()).toContain(
      'refund exceeds the order total',
    );
    expect(
      await page.locator('figure', { hasText: 'Median time to decision per day' }).locator('rect.bar').count(),
    ).toBeGreaterThan(0);
    await screenshot(page, 'history', 'history', true);
    await page.close();
  });

  it('refuses a token in the query string (it reaches servers and logs) and strips it from the address', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/?token=${encodeURIComponent(tokens.bob)}`);
    await page.locator('#token-error', { hasText: 'is not accepted' }).waitFor();
    expect(page.url()).not.toContain('token=');
    expect(await page.locator('#who').isVisible()).toBe(false);
    expect(await page.evaluate(() => Object.values(sessionStorage))).not.toContain(tokens.bob);
    await page.close();
  });

  it('works by keyboard and on a 375 px screen', async () => {
    // A token in the fragment never reaches the server (or its access log); it is taken the same way.
    const page = await browser.newPage();
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${baseUrl}/#token=${encodeURIComponent(tokens.bob)}`);
    await page.locator('#who', { hasText: 'bob@northwind.test' }).waitFor();
    expect(page.url()).not.toContain(tokens.bob);
    await card(page, rollout).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'mobile-queue', 'mobile-queue');

    // The first Tab reaches the skip link; every form control has a label.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
    const unlabelled = await page.evaluate(
      () =>
        [...document.querySelectorAll('input, textarea, select')].filter(
          (el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'),
        ).length,
    );
    expect(unlabelled).toBe(0);

    await card(page, rollout).getByRole('link').focus();
    await page.keyboard.press('Enter');
    await page.locator('#detail-title', { hasText: titleOf(rollout) }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-title');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'mobile-item', 'mobile-item', true);
    await page.getByRole('link', { name: '← Back to the queue' }).click();
    await card(page, rollout).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Bearer token').waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
    await page.close();
  });
});
