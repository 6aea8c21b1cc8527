import { generateSigningKeyPair, publicKeyFromPem, signerFromPem, verifyEvent } from '@countersign/crypto';
import { dispatchMessage, dispatchToKafka } from './kafka.executor';
import type { ExecutionRequest } from './execution.entity';

const pair = generateSigningKeyPair();
const signer = signerFromPem(pair.privateKeyPem);
const request = { job_id: 'job-1', tenant: 'acme', payload: { a: 1 } } as unknown as ExecutionRequest;
const msg = dispatchMessage(request, {
  eventId: '7d0f8a3e-2b1c-4c3d-9e8f-0a1b2c3d4e5f',
  occurredAt: new Date(0),
  producer: 'execution-binding',
  executor: 'w',
  signer,
});

describe('kafka executor', () => {
  it('dispatches a signed envelope keyed by job id', () => {
    const event = JSON.parse(msg.value) as Record<string, unknown>;
    expect(msg.key).toBe('job-1');
    expect(event).toMatchObject({ type: 'job.dispatched', data: { job_id: 'job-1', executor: 'w' } });
    expect(verifyEvent(event, [publicKeyFromPem(pair.publicKeyPem)])).toEqual({ ok: true });
    expect(msg.headers['event-id']).toBe('7d0f8a3e-2b1c-4c3d-9e8f-0a1b2c3d4e5f');
  });

  it('reports an acknowledged send as succeeded and a failed one as indeterminate', async () => {
    expect(await dispatchToKafka(async () => undefined, 't', msg, 1000)).toMatchObject({ kind: 'succeeded' });
    expect(await dispatchToKafka(() => Promise.reject(new Error('broker down')), 't', msg, 1000)).toMatchObject({
      kind: 'indeterminate',
    });
    expect(await dispatchToKafka(() => new Promise(() => undefined), 't', msg, 20)).toMatchObject({
      kind: 'indeterminate',
      error: expect.stringContaining('20 ms'),
    });
  });
});
