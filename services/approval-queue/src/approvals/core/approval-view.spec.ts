import { CodedError, httpStatusOf, redactPayload } from '@countersign/contracts';
import { ApproveBodySchema, RejectBodySchema } from '../approval.schemas';
import { ApprovalItemEntity } from '../approval-item.entity';
import type { QueueItem } from './approval-snapshot';
import { decodeCursor, encodeCursor, itemView } from './approval-view';

describe('itemView payload', () => {
  const FIELDS = ['password', 'secret', 'token'];

  function queueItem(payload: Record<string, unknown>, redactedFields: string[]): QueueItem {
    return Object.assign(new ApprovalItemEntity(), {
      jobId: 'j1',
      state: 'PENDING',
      tenant: 'acme',
      proposalEventId: 'e1',
      riskTags: [],
      matchedRules: [],
      approverRoles: [],
      payload,
      redactedFields,
      dueAt: new Date('2026-01-01T00:00:00.000Z'),
      approvalsRequired: 1,
    }) as QueueItem;
  }

  it('passes the stored view through whole: structure, odd keys and every listed path, as JSON', () => {
    // Raw JSON text, as an agent sends it and as PostgreSQL hands jsonb back.
    const original = JSON.parse(
      '{"a":{"__proto__":{"x":1},"constructor":"c"},"secret":{"user":"u","pins":[1,2]},"cl\u00e9":[{"token":null}],"deep":' +
        `${'{"d":'.repeat(60)}{"password":"p"}${'}'.repeat(60)}}`,
    ) as Record<string, unknown>;
    const { payload, redactedFields } = redactPayload(original, FIELDS);
    const stored = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
    const shown = JSON.parse(JSON.stringify(itemView(queueItem(stored, redactedFields), [], []))) as {
      payload: Record<string, unknown>;
      redacted_fields: string[];
    };
    expect(JSON.stringify(shown.payload)).toBe(JSON.stringify(payload));
    expect(Object.keys(shown.payload['a'] as object)).toEqual(['__proto__', 'constructor']);
    expect(shown.payload['secret']).toEqual({ user: '[REDACTED]', pins: ['[REDACTED]', '[REDACTED]'] });
    expect(shown.redacted_fields).toEqual([
      'secret.user',
      'secret.pins[0]',
      'secret.pins[1]',
      '["clé"][0].token',
      `deep.${'d.'.repeat(60)}password`,
    ]);
  });
});

describe('keyset cursor', () => {
  it('round-trips the (due_at, job_id) key', () => {
    const key = { dueAt: '2026-01-01T10:00:00.123456Z', jobId: 'job-1' };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
  });

  const c = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  it.each([
    '',
    'not-base64!',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('["yesterday","j"]').toString('base64url'),
    // Well-formed but hostile: dates PostgreSQL refuses, ids it cannot store or intake never accepts.
    c(['2026-02-30T00:00:00.000Z', 'j']),
    c(['0000-01-01T00:00:00.000Z', 'j']),
    c(['2026-13-01T00:00:00.000Z', 'j']),
    c(['2026-01-01T24:00:00.000Z', 'j']),
    c(['2026-01-01T00:00:00.000Z', 'nul\u0000id']),
    c(['2026-01-01T00:00:00.000Z', 'lone\ud800']),
    c(['2026-01-01T00:00:00.000Z', "' OR 1=1 --"]),
    c(['2026-01-01T00:00:00.000Z', 'x'.repeat(129)]),
    c(['2026-01-01T00:00:00.000Z', 'j', 'extra']),
  ])('refuses %j as INVALID_REQUEST naming the cursor', (c) => {
    expect(() => decodeCursor(c)).toThrow(CodedError);
    try {
      decodeCursor(c);
    } catch (e) {
      expect(e).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'cursor' } });
      expect(httpStatusOf((e as CodedError).code)).toBe(400);
    }
  });
});

describe('review bodies', () => {
  it('names an unknown field, the actor in particular', () => {
    const r = ApproveBodySchema.safeParse({ reason: 'ok', actor: 'mallory' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['actor'], message: expect.stringContaining('not accepted') });
  });

  it('needs a reason to reject, and limits reason and note to 512 bytes', () => {
    expect(RejectBodySchema.safeParse({}).error?.issues[0]?.path).toEqual(['reason']);
    expect(RejectBodySchema.safeParse({ reason: '  ' }).error?.issues[0]?.path).toEqual(['reason']);
    expect(ApproveBodySchema.safeParse({ note: 'é'.repeat(257) }).error?.issues[0]?.path).toEqual(['note']);
    expect(ApproveBodySchema.safeParse({ reason: 'é'.repeat(256) }).success).toBe(true);
    expect(ApproveBodySchema.safeParse({}).success).toBe(true);
  });
});
