import { CodedError } from '@countersign/contracts';
import { decodeCursor, encodeCursor } from './approval-view';

describe('keyset cursor', () => {
  it('round-trips the (due_at, job_id) key', () => {
    const key = { dueAt: '2026-01-01T10:00:00.123456Z', jobId: 'job-1' };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
  });

  it.each(['', 'not-base64!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["yesterday","j"]').toString('base64url')])(
    'refuses %j as INVALID_REQUEST naming the cursor',
    (c) => {
      expect(() => decodeCursor(c)).toThrow(CodedError);
      try {
        decodeCursor(c);
      } catch (e) {
        expect(e).toMatchObject({ code: 'INVALID_REQUEST', status: 400, details: { field: 'cursor' } });
      }
    },
  );
});
