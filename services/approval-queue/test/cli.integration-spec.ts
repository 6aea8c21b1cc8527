import { spawn } from 'node:child_process';
import { mintToken, waitUntil } from '@countersign/testkit';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { proposal } from '../../../test/support/fixtures';
import { closePublisher } from '../../../test/support/kafka-probe';
import { ROOT, type ServiceHandle, type TestKeys } from '../../../test/support/stack';
import {
  Api,
  createRunDatabase,
  dropDatabase,
  policyKey,
  publishDecision,
  publishProposal,
  requirement,
  signedDecision,
  makeTestKeys,
  startQueue,
} from './approval-queue.fixtures';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI commands in a child process (needs `npx tsc -b libs/cli`). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, 'cli-runner.cjs'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function oneCleanLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^countersign: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** `countersign token` and `countersign approvals` against a real approval-queue process. */
describe('countersign token / approvals', () => {
  let svc: ServiceHandle;
  let keys: TestKeys;
  let db: string;
  const run = randomUUID().slice(0, 8);

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'libs/cli/dist/commands/approvals.command.js')))
      throw new Error('build the CLI first: npx tsc -b libs/cli');
    keys = makeTestKeys();
    db = await createRunDatabase('approval_queue_cli');
    svc = await startQueue(keys, db);
  }, 120000);

  afterAll(async () => {
    await svc?.stop();
    await closePublisher();
    await dropDatabase(db);
  });

  it('mints a token the queue accepts, and refuses to mint without a usable secret', async () => {
    const minted = await cli(
      ['token', '--sub', `cli-${run}`, '--roles', 'service-owner,sre', '--tenants', 'acme', '--ttl', '1h'],
      {
        APPROVER_JWT_SECRET: keys.jwtSecret,
      },
    );
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    const jwt = minted.stdout.trim();
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: `cli-${run}`, roles: ['service-owner', 'sre'], tenants: ['acme'] });
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(3600);
    expect((await new Api(svc.url).list(jwt)).status).toBe(200);

    const noSecret = await cli(['token', '--sub', 'x', '--roles', 'r', '--secret-file', '/nonexistent/secret']);
    expect(noSecret.code).toBe(2);
    oneCleanLine(noSecret.stderr);
    expect(noSecret.stderr).toContain('cannot read the approver JWT secret');
    const badTtl = await cli(['token', '--sub', 'x', '--roles', 'r', '--ttl', 'forever'], {
      APPROVER_JWT_SECRET: keys.jwtSecret,
    });
    expect(badTtl.code).toBe(2);
    oneCleanLine(badTtl.stderr);
  });

  it('lists, approves and rejects through the API, with one-line errors', async () => {
    const p = proposal({ job_id: `job-${run}-cli`, summary: { title: 'CLI change' } });
    const q = proposal({ job_id: `job-${run}-cli2` });
    await publishProposal(p);
    await publishProposal(q);
    await publishDecision(
      signedDecision(policyKey(keys), p, {
        policy_rule_id: `rule-${run}`,
        approval: requirement({ approvals_required: 2 }),
      }),
    );
    await publishDecision(signedDecision(policyKey(keys), q, { policy_rule_id: `rule-${run}` }));
    const env = { COUNTERSIGN_TOKEN: mintToken(keys.jwtSecret, { sub: `bob-${run}`, roles: ['service-owner'] }) };
    const url = ['--url', svc.url];
    await waitUntil(
      async () => {
        const r = await new Api(svc.url).list(env.COUNTERSIGN_TOKEN, { rule_id: `rule-${run}` });
        return r.body.items?.filter((i) => i.proposal_received).length === 2;
      },
      { what: 'items listed' },
    );

    const list = await cli(['approvals', 'list', '--rule', `rule-${run}`, ...url], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`job-${run}-cli\\s+PENDING\\s+0/2`));
    expect(list.stdout).toContain('CLI change');

    const approve = await cli(['approvals', 'approve', p.data.job_id, '--reason', 'looks right', ...url], env);
    expect(approve).toMatchObject({
      code: 0,
      stdout: `approved ${p.data.job_id} as service-owner: pending, 1 of 2 approvals\n`,
    });
    const again = await cli(['approvals', 'approve', p.data.job_id, ...url], env);
    expect(again.code).toBe(1);
    oneCleanLine(again.stderr);
    expect(again.stderr).toContain('409 ALREADY_DECIDED_BY_ACTOR');

    const reject = await cli(['approvals', 'reject', q.data.job_id, '--reason', 'not today', ...url], env);
    expect(reject).toMatchObject({
      code: 0,
      stdout: `rejected ${q.data.job_id} as service-owner: resolved REJECTED\n`,
    });
    const late = await cli(['approvals', 'approve', q.data.job_id, ...url], env);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`409 ALREADY_RESOLVED: already resolved: REJECTED (REJECTED by bob-${run})`);

    const decisions = await cli(['approvals', 'decisions', q.data.job_id, ...url], env);
    expect(decisions.stdout).toContain(`bob-${run} (service-owner) reject: not today`);

    const noReason = await cli(['approvals', 'reject', q.data.job_id, ...url], env);
    expect(noReason.code).toBe(2);
    oneCleanLine(noReason.stderr);
    const noToken = await cli(['approvals', 'list', ...url]);
    expect(noToken.code).toBe(2);
    oneCleanLine(noToken.stderr);
    expect(noToken.stderr).toContain('COUNTERSIGN_TOKEN');
    const down = await cli(['approvals', 'list', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(2);
    oneCleanLine(down.stderr);
    expect(down.stderr).toContain('cannot reach the approval queue');
  });
});
