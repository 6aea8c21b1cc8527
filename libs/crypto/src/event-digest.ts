import { canonicalJson, sha256Hex } from './canonical-json';

/**
 * Time stamps a genuine producer writes anew when it emits the same event again: policy-decision is
 * stateless, so a proposal redelivered after a crash is decided again under the same (derived) event
 * id, with a new `occurred_at` and `decided_at`. Everything else in a re-emission is byte-identical
 * (same policy, deterministic Ed25519), so these stamps are left out of the event's identity.
 */
const RESTAMPED: Readonly<Record<string, readonly string[]>> = {
  'decision.made': ['decided_at'],
  'policy.activated': ['activated_at'],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The digest that identifies an event's content, for deduplication on (topic, event_id): SHA-256 of
 * its canonical JSON without `trace` (rewritten in transit), `signature` (checked on its own; a
 * re-signature of the same content is the same fact) and, for the topics above, the producer's
 * re-emission stamps. A redelivery or re-emission has the digest of the first; any other body under
 * the same id has another, and is a forgery attempt.
 */
export function eventDigest(event: unknown): string {
  if (!isObj(event)) return sha256Hex(canonicalJson(event));
  const { trace: _trace, signature: _signature, ...rest } = event;
  const stamps = typeof rest['type'] === 'string' ? RESTAMPED[rest['type']] : undefined;
  if (!stamps) return sha256Hex(canonicalJson(rest));
  delete rest['occurred_at'];
  if (isObj(rest['data'])) {
    const data: Obj = { ...rest['data'] };
    for (const s of stamps) delete data[s];
    rest['data'] = data;
  }
  return sha256Hex(canonicalJson(rest));
}
