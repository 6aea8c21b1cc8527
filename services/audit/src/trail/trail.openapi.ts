import type { ApiResponseSchemaHost } from '@nestjs/swagger';

type SchemaObject = ApiResponseSchemaHost['schema'];

const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const nullableString = { type: 'string', nullable: true } as const;

export const AuditRecordOpenApi: SchemaObject = {
  type: 'object',
  description: 'One hash-chained audit record (the data of an audit.recorded event).',
  required: [
    'seq',
    'prev_hash',
    'record_hash',
    'source_topic',
    'source_event_id',
    'event_type',
    'job_id',
    'tenant',
    'recorded_at',
    'body',
  ],
  properties: {
    seq: { type: 'integer', minimum: 1, description: 'Position in the chain: 1, 2, 3, … with no gaps.' },
    prev_hash: { ...hex64, description: 'record_hash of seq-1; 64 zeros for seq 1.' },
    record_hash: {
      ...hex64,
      description: 'SHA-256 of the RFC 8785 canonical JSON of the fields of its format (docs/audit.md).',
    },
    source_topic: { type: 'string', example: 'decision.made' },
    source_event_id: nullableString,
    event_type: {
      type: 'string',
      description: 'The event type, or rejected_input / rejected_input.malformed for DLQ messages.',
    },
    job_id: nullableString,
    tenant: nullableString,
    recorded_at: { type: 'string', format: 'date-time' },
    body: {
      type: 'object',
      description: 'The event as received, its payload redacted by default; for DLQ messages the DlqRecord.',
    },
    format: { type: 'integer', enum: [2], description: 'Absent on records written before format 2.' },
    kind: { type: 'string', enum: ['event', 'conflict', 'rejected_input'], nullable: true },
    digest: {
      ...hex64,
      nullable: true,
      description: 'SHA-256 of the canonical JSON of the message as received, without trace.',
    },
    signature: {
      type: 'string',
      enum: ['verified', 'invalid', 'unsigned'],
      nullable: true,
      description: "Audit's check of the producer's signature, made before any redaction.",
    },
    signature_reason: { ...nullableString, description: 'Why the signature is invalid.' },
    redaction: {
      type: 'object',
      nullable: true,
      description: 'The payload paths redacted and the job_hash of the full proposal.',
      properties: { fields: { type: 'array', items: { type: 'string' } }, job_hash: { ...hex64, nullable: true } },
    },
    conflict: {
      type: 'object',
      nullable: true,
      description: 'On a conflict record: the record first made under the same topic + event_id.',
      properties: { first_seq: { type: 'integer' }, first_digest: hex64 },
    },
  },
};

export const RecordPageOpenApi: SchemaObject = {
  type: 'object',
  required: ['items', 'next_cursor'],
  properties: {
    items: { type: 'array', items: AuditRecordOpenApi },
    next_cursor: { ...nullableString, description: 'Pass as `cursor` for the next page; null on the last page.' },
  },
};

export const VerifyResultOpenApi: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      required: ['ok', 'checked', 'last_seq'],
      properties: {
        ok: { type: 'boolean', enum: [true] },
        checked: { type: 'integer' },
        last_seq: { type: 'integer' },
      },
    },
    {
      type: 'object',
      required: ['ok', 'broken_seq', 'reason', 'detail'],
      properties: {
        ok: { type: 'boolean', enum: [false] },
        broken_seq: { type: 'integer', description: 'The first seq at which the chain does not verify.' },
        reason: { type: 'string', enum: ['HASH_MISMATCH', 'PREV_HASH_MISMATCH', 'GAP', 'HEAD_MISMATCH'] },
        detail: { type: 'string' },
        checked: { type: 'integer' },
      },
    },
  ],
};

export const TimelineOpenApi: SchemaObject = {
  type: 'object',
  required: ['job_id', 'tenant', 'outcome', 'policy_snapshot', 'policy_url', 'steps'],
  properties: {
    job_id: { type: 'string' },
    tenant: nullableString,
    outcome: {
      type: 'string',
      enum: [
        'executed',
        'execution_failed',
        'blocked',
        'released',
        'awaiting_approval',
        'decided',
        'proposed',
        'unknown',
      ],
    },
    policy_snapshot: nullableString,
    policy_url: { ...nullableString, description: 'GET it for the policy document that decided the job.' },
    steps: {
      type: 'array',
      description:
        'Proposal, decision (snapshot, rule, policy_url), escalations, approvals (actors, reasons), release, execution or block, in chain order.',
      items: {
        type: 'object',
        required: ['kind', 'seq', 'record_hash', 'recorded_at'],
        properties: {
          kind: {
            type: 'string',
            enum: [
              'proposed',
              'decided',
              'escalated',
              'resolved',
              'released',
              'blocked',
              'executed',
              'rejected_input',
              'other',
            ],
          },
          seq: { type: 'integer' },
          record_hash: hex64,
          recorded_at: { type: 'string', format: 'date-time' },
          at: nullableString,
          signature: {
            type: 'string',
            enum: ['verified', 'invalid', 'unsigned'],
            nullable: true,
            description:
              'signed (on decided, resolved, released) means verified; an invalid step does not count towards outcome.',
          },
          signature_reason: nullableString,
          conflict: {
            type: 'object',
            nullable: true,
            properties: { first_seq: { type: 'integer' }, first_digest: hex64, digest: { ...hex64, nullable: true } },
          },
        },
        additionalProperties: true,
      },
    },
  },
};

export const PolicySnapshotOpenApi: SchemaObject = {
  type: 'object',
  required: [
    'snapshot_id',
    'scope',
    'activated_at',
    'record_seq',
    'document',
    'document_sha256',
    'matches_snapshot_id',
  ],
  properties: {
    snapshot_id: { type: 'string', example: `cfg:system:policy#sha256:${'a'.repeat(64)}` },
    scope: { type: 'string', example: 'system' },
    activated_at: { type: 'string', format: 'date-time' },
    record_seq: { type: 'integer', description: 'The audit record of the policy.activated event that carried it.' },
    document: { type: 'object', description: 'The canonical policy document.' },
    document_sha256: hex64,
    matches_snapshot_id: {
      type: 'boolean',
      description: 'Whether the document hashes to the id it was activated under.',
    },
  },
};

export const ErrorOpenApi: SchemaObject = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};
