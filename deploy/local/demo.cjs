#!/usr/bin/env node
// `make demo`: a small agent fleet walks the four risk tiers through the running stack, two demo
// reviewers approve over the REST API, and every job's path from proposal to outcome is printed.
const { createHmac, randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { join } = require('node:path');
const { SignJWT } = require('jose');
const { Countersign } = require('@countersign/agent-sdk');

const ROOT = join(__dirname, '..', '..');
const KEYS = join(ROOT, '.run', 'keys');
const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const QUEUE = 'http://localhost:8081';
const EXEC = 'http://localhost:8083';
const AUDIT = 'http://localhost:8084';
const TENANT = 'globex';
const read = (f) => readFileSync(join(KEYS, f), 'utf8');
const jwtSecret = new TextEncoder().encode(read('approver-jwt.secret'));
const executorSecret = read('executor-http.secret');
const started = Date.now();
const t = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(8);
const say = (who, msg) => process.stdout.write(`${t()}  ${who.padEnd(12)} ${msg}\n`);

const token = (sub, roles) =>
  new SignJWT({ roles, tenants: [TENANT] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(jwtSecret);

async function api(method, url, sub, roles, body) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${await token(sub, roles)}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A reviewer: waits until the job is in their queue, reads its summary, and decides. */
async function reviewer(sub, roles, jobId, action, reason) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const { body } = await api('GET', `${QUEUE}/api/v1/approvals?limit=200`, sub, roles);
    const item = body && body.items && body.items.find((i) => i.job.id === jobId);
    if (item) {
      say(
        sub,
        `sees "${item.decision_summary.title}" (${item.policy_rule_id}: ${item.policy_reason}); ${item.approvals.length}/${item.approvals_required} approvals`,
      );
      const r = await api('POST', `${QUEUE}/api/v1/approvals/${jobId}/${action}`, sub, roles, { reason });
      if (r.status !== 200)
        throw new Error(`${sub} could not ${action} ${jobId}: ${r.status} ${JSON.stringify(r.body)}`);
      say(sub, `${action === 'approve' ? 'approves' : 'rejects'}: "${reason}"`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`${jobId} never reached ${sub}'s queue`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The system the http executor calls for approved production config changes. */
function configService() {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      // The receiver's check from docs/execution-binding.md: HMAC over "<t>.<job_id>.<body>", t within 5 minutes.
      const jobId = String(req.headers['idempotency-key'] ?? '');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['countersign-signature'] ?? ''));
      const fresh = m && Math.abs(Math.floor(Date.now() / 1000) - Number(m[1])) <= 300;
      const expected = m && createHmac('sha256', executorSecret).update(`${m[1]}.${jobId}.${body}`).digest('hex');
      const ok = Boolean(fresh && expected === m[2]);
      say('config-svc', `${ok ? 'verified' : 'REFUSED (bad signature)'} call for ${req.headers['idempotency-key']}`);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: ok }));
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(9400, '127.0.0.1', () => resolve(server));
  });
}

async function path(jobId) {
  // The job state API is for people (operator or auditor role), not agents.
  const res = await fetch(`${EXEC}/api/v1/jobs/${jobId}/state`, {
    headers: { authorization: `Bearer ${await token('olivia', ['operator'])}` },
  });
  return res.ok ? res.json() : { state: `unknown (${res.status})` };
}

async function main() {
  const server = await configService();
  const fleet = (agentId) =>
    new Countersign({
      brokers: BROKERS,
      agentId,
      tenant: TENANT,
      executionUrl: EXEC,
      trustedExecutorKeys: read('execution-binding.pub'),
    });
  const agents = {
    read: fleet('repo-bot'),
    ticket: fleet('support-bot'),
    config: fleet('deploy-bot'),
    payment: fleet('finance-bot'),
  };
  const ids = {
    read: `demo-read-${randomUUID()}`,
    ticket: `demo-ticket-${randomUUID()}`,
    config: `demo-config-${randomUUID()}`,
    payment: `demo-pay-${randomUUID()}`,
  };
  const results = {};
  try {
    await Promise.all([
      (async () => {
        say('repo-bot', 'proposes job.repo.read (tier: read)');
        results.read = await agents.read.run(
          {
            jobId: ids.read,
            topic: 'job.repo.read',
            riskTags: [],
            payload: { repo: 'checkout-api' },
            summary: 'List open pull requests',
            requestedBy: 'dana',
          },
          () => ({ pull_requests: 3 }),
          { timeoutMs: 60000 },
        );
        say('repo-bot', `ran its read at once: ${JSON.stringify(results.read)}`);
      })(),
      (async () => {
        say('support-bot', 'proposes job.ticket.update with egress (tier: constrained)');
        results.ticket = await agents.ticket.run(
          {
            jobId: ids.ticket,
            topic: 'job.ticket.update',
            riskTags: ['egress'],
            payload: { ticket: 'SUP-123', status: 'resolved' },
            summary: 'Close ticket SUP-123',
            requestedBy: 'erik',
          },
          (grant) => ({
            updated: 'SUP-123',
            max_runtime_sec: grant.constraints.max_runtime_sec,
            allowlist: grant.constraints.network_allowlist,
          }),
          { timeoutMs: 60000 },
        );
        say('support-bot', `ran within its constraints: ${JSON.stringify(results.ticket)}`);
      })(),
      (async () => {
        say('deploy-bot', 'proposes job.config.update on prod (tier: production change)');
        await agents.config.propose({
          jobId: ids.config,
          topic: 'job.config.update',
          riskTags: ['prod', 'write'],
          payload: { service: 'checkout', flag: 'new-pricing', enabled: true },
          summary: { title: 'Enable new-pricing in production', nextEffect: 'checkout serves the new prices' },
          requestedBy: 'alice',
        });
        await reviewer('bob', ['service-owner'], ids.config, 'approve', 'Change window open, rollback plan attached');
        results.config = await agents.config.outcome(ids.config, { timeoutMs: 60000 });
        say('deploy-bot', `outcome: ${results.config.status}`);
      })(),
      (async () => {
        say('finance-bot', 'proposes job.payment.transfer (tier: payment, dual approval)');
        const run = agents.payment.run(
          {
            jobId: ids.payment,
            topic: 'job.payment.transfer',
            riskTags: ['payment'],
            payload: { amount: 1250, currency: 'EUR', to: 'ACME Supplies' },
            summary: 'Pay invoice INV-2026-118',
            requestedBy: 'frank',
          },
          () => ({ transfer: 'TX-88412', amount: 1250 }),
          { timeoutMs: 90000 },
        );
        await reviewer('carol', ['finance-approver'], ids.payment, 'approve', 'Invoice matches the purchase order');
        await reviewer('dave', ['finance-approver'], ids.payment, 'approve', 'Second approval: vendor verified');
        results.payment = await run;
        say('finance-bot', `paid after two approvals: ${JSON.stringify(results.payment)}`);
      })(),
    ]);

    process.stdout.write('\nEach job, from proposal to outcome (execution-binding /api/v1/jobs/{id}/state):\n');
    for (const [tier, id] of Object.entries(ids))
      process.stdout.write(`\n[${tier}] ${id}\n${JSON.stringify(await path(id), null, 2)}\n`);
    const auditor = await token('erin', ['auditor']);
    const verify = await fetch(`${AUDIT}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${auditor}` } });
    process.stdout.write(`\naudit chain: ${await verify.text()}\n`);
    process.stdout.write(
      [
        '',
        'The stack is still running:',
        `  reviewers' page        ${QUEUE}/   (token: npx countersign token --sub bob --roles service-owner)`,
        `  approval queue API     ${QUEUE}/api/docs`,
        '  policy decision API    http://localhost:8082/api/docs',
        `  execution binding API  ${EXEC}/api/docs`,
        `  audit API              ${AUDIT}/api/docs`,
        '  logs: make logs        stop: make down',
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(Object.values(agents).map((a) => a.close().catch(() => undefined)));
    server.close();
  }
}

main().catch((e) => {
  process.stderr.write(`demo failed: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
