/**
 * Payload keys redacted by default wherever a payload is shown or kept (the reviewers' queue, the
 * audit trail, the DLQ): one list, so a secret hidden from reviewers is not kept forever elsewhere.
 */
export const DEFAULT_REDACT_FIELDS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'api_key',
  'authorization',
  'card_number',
  'iban',
  'private_key',
  'cookie',
];
