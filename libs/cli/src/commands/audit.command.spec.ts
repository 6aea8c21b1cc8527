import {
  canonicalJson,
  generateSigningKeyPair,
  publicKeyFromPem,
  sha256Hex,
  signEvent,
  signerFromPem,
} from '@countersign/crypto';
import { verifyCopy } from './audit.command';

const keys = generateSigningKeyPair();
const signer = signerFromPem(keys.privateKeyPem);
const trusted = [publicKeyFromPem(keys.publicKeyPem)];
const at = '2026-12-04T10:00:00.000Z';

type Json = Record<string, unknown>;

/** A chain of n records, format 1 for the first `v1` of them, then format 2, as audit.recorded events. */
function copy(n: number, v1 = 0, sign: (seq: number) => boolean = () => true): Json[] {
  let prev = '0'.repeat(64);
  const out: Json[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const record: Json = {
      seq,
      prev_hash: prev,
      source_topic: 'decision.made',
      source_event_id: `e-${seq}`,
      event_type: 'decision.made',
      job_id: `job-${seq}`,
      tenant: 'acme',
      recorded_at: at,
      body: { n: seq },
      ...(seq > v1
        ? {
            format: 2,
            kind: 'event',
            digest: sha256Hex(String(seq)),
            signature: 'verified',
            signature_reason: null,
            redaction: null,
            conflict: null,
          }
        : {}),
    };
    record['record_hash'] = sha256Hex(canonicalJson(record));
    prev = record['record_hash'] as string;
    const event: Json = {
      event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      type: 'audit.recorded',
      schema_version: 1,
      occurred_at: at,
      producer: 'audit',
      data: record,
    };
    out.push(sign(seq) ? signEvent(event, signer) : event);
  }
  return out;
}

const lines = (events: Json[]) => events.map((e) => JSON.stringify(e));

describe('verifyCopy (countersign audit verify --file)', () => {
  it('verifies a signed copy, format 1 records followed by format 2 ones', () => {
    expect(verifyCopy(lines(copy(5, 2)), trusted)).toEqual({
      ok: true,
      checked: 5,
      last_seq: 5,
      signatures: '5 verified',
    });
  });

  it('accepts unsigned records before a signed last one, which commits to them', () => {
    expect(verifyCopy(lines(copy(4, 0, (seq) => seq === 4)), trusted)).toMatchObject({
      ok: true,
      signatures: '1 verified',
    });
  });

  it('finds an unsigned last record', () => {
    expect(verifyCopy(lines(copy(3, 0, (seq) => seq < 3)), trusted)).toMatchObject({
      ok: false,
      seq: 3,
      reason: 'UNSIGNED_HEAD',
    });
  });

  it('finds a record altered and re-hashed, by its signature', () => {
    const events = copy(3);
    const data = events[1]!['data'] as Json;
    data['signature'] = 'invalid';
    const { record_hash: _h, ...rest } = data;
    data['record_hash'] = sha256Hex(canonicalJson(rest));
    expect(verifyCopy(lines(events), trusted)).toMatchObject({
      ok: false,
      seq: 2,
      reason: 'BAD_SIGNATURE',
      detail: 'signature does not verify',
    });
  });

  it('finds a changed verdict by its hash when signatures are not checked', () => {
    const events = copy(3);
    (events[2]!['data'] as Json)['signature'] = 'invalid';
    expect(verifyCopy(lines(events), undefined)).toMatchObject({ ok: false, seq: 3, reason: 'HASH_MISMATCH' });
  });

  it('refuses a record of a format it does not know', () => {
    const events = copy(2);
    (events[1]!['data'] as Json)['format'] = 3;
    expect(verifyCopy(lines(events), undefined)).toMatchObject({ ok: false, seq: 2, reason: 'HASH_MISMATCH' });
  });

  it('rejects signatures by a key it does not trust', () => {
    const other = [publicKeyFromPem(generateSigningKeyPair().publicKeyPem)];
    expect(verifyCopy(lines(copy(2)), other)).toMatchObject({ ok: false, seq: 1, reason: 'BAD_SIGNATURE' });
  });

  it('counts a redelivered record once and finds a missing one', () => {
    const events = copy(4);
    expect(verifyCopy(lines([...events, events[1]!]), trusted)).toMatchObject({ ok: true, checked: 4 });
    expect(verifyCopy(lines([events[0]!, events[2]!, events[3]!]), trusted)).toMatchObject({
      ok: false,
      seq: 2,
      reason: 'GAP',
    });
  });
});
