import { createHmac } from 'node:crypto';
import { DecisionMadeDataSchema, Topics } from '@countersign/contracts';
import { generateSigningKeyPair, jobHash, publicKeyFromPem, verifyEvent } from '@countersign/crypto';
import {
  MessageWaits,
  TEST_SNAPSHOT,
  barrier,
  bearer,
  decisionData,
  elapse,
  mintToken,
  proposal,
  signedEvent,
  waitUntil,
} from './index';

const payloadOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('testkit', () => {
  it('mints an HS256 token for every tenant unless told, with the ttl asked for', () => {
    const jwt = mintToken('s3cret', { sub: 'bob', roles: ['service-owner'] }, { ttlSeconds: -60 });
    const [h, p, sig] = jwt.split('.');
    expect(sig).toBe(createHmac('sha256', 's3cret').update(`${h}.${p}`).digest('base64url'));
    const claims = payloadOf(jwt);
    expect(claims).toMatchObject({ sub: 'bob', roles: ['service-owner'], tenants: ['*'] });
    expect(Number(claims['exp'])).toBe(Number(claims['iat']) - 60);
    expect(payloadOf(mintToken('s', { sub: 'x', tenants: undefined }))).not.toHaveProperty('tenants');
    expect(bearer(jwt)).toEqual({ authorization: `Bearer ${jwt}` });
  });

  it('builds an envelope signed as its producer signs it', () => {
    const pair = generateSigningKeyPair();
    const data = { job_id: 'j1' } as never;
    const event = signedEvent(Topics.DecisionMade, data, { signer: pair.privateKeyPem, producer: 'policy-decision' });
    expect(event).toMatchObject({ type: Topics.DecisionMade, schema_version: 1, producer: 'policy-decision' });
    expect(verifyEvent(event, [publicKeyFromPem(pair.publicKeyPem)])).toEqual({ ok: true });
    expect(signedEvent(Topics.DecisionMade, data)).not.toHaveProperty('signature');
  });

  it('waits until the probe answers, and names what it waited for when it does not', async () => {
    let n = 0;
    await expect(waitUntil(() => ++n >= 3 && n, { what: 'three', every: 1 })).resolves.toBe(3);
    await expect(waitUntil(() => false, { what: 'never', timeout: 5, every: 1 })).rejects.toThrow(/waiting for never/);
  });

  it('a barrier returns once its marker has passed', async () => {
    const seen: string[] = [];
    const marker = await barrier({
      mark: async () => {
        setImmediate(() => seen.push('m'));
        return 'm';
      },
      passed: (m) => seen.includes(m),
      what: 'marker',
    });
    expect(marker).toBe('m');
  });

  it('elapse insists on a reason', async () => {
    await expect(elapse(1, ' ')).rejects.toThrow(/say why/);
    await expect(elapse(1, 'a timer must fire')).resolves.toBeUndefined();
  });

  it('resolves a message wait once enough hits are seen, and fails with its message when not', async () => {
    const kept: string[] = [];
    const waits = new MessageWaits();
    const two = waits.waitFor(
      () => kept.filter((m) => m.startsWith('a')),
      2,
      5000,
      () => 'never',
    );
    kept.push('a1', 'b1');
    waits.seen();
    kept.push('a2');
    waits.seen();
    await expect(two).resolves.toEqual(['a1', 'a2']);
    await expect(
      waits.waitFor(
        () => kept,
        1,
        5000,
        () => 'never',
      ),
    ).resolves.toHaveLength(3);
    await expect(
      waits.waitFor(
        () => [],
        1,
        10,
        () => 'nothing on t',
      ),
    ).rejects.toThrow('nothing on t');
  });

  it('builds decision data that allows the job it names, by its hash', () => {
    const job = proposal({ tenant: 'globex' }).data;
    expect(DecisionMadeDataSchema.parse(decisionData(job))).toMatchObject({
      job_id: job.job_id,
      tenant: 'globex',
      decision: 'ALLOW',
      job_hash: jobHash(job),
      policy_snapshot: TEST_SNAPSHOT,
    });
    expect(decisionData(job, { decision: 'DENY' }).decision).toBe('DENY');
  });
});
