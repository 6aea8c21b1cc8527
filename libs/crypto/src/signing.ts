import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical-json';

export interface EventSignature {
  alg: 'Ed25519';
  key_id: string;
  value: string;
}

export interface Signer {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const keyIds = new WeakMap<KeyObject, string>();

/**
 * The key id is derived from the public key, so it cannot be chosen to collide. Remembered per key
 * object: every verification looks it up, and exporting the key each time was a measurable share
 * of a service's CPU (bench/reports/e2e.md).
 */
export function keyIdOf(publicKey: KeyObject): string {
  let id = keyIds.get(publicKey);
  if (id === undefined) {
    id = sha256Hex(publicKey.export({ format: 'der', type: 'spki' })).slice(0, 16);
    keyIds.set(publicKey, id);
  }
  return id;
}

export function signerFromPem(privateKeyPem: string): Signer {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('signing key must be an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('verification key must be an Ed25519 public key');
  return key;
}

export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** What is signed: the canonical JSON of the event without its signature (trace context excluded, it is rewritten in transit). */
function signingInput(event: Record<string, unknown>): Buffer {
  const { signature: _signature, trace: _trace, ...rest } = event;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

export function signEvent<T extends Record<string, unknown>>(
  event: T,
  signer: Signer,
): T & { signature: EventSignature } {
  const value = sign(null, signingInput(event), signer.privateKey).toString('base64url');
  return { ...event, signature: { alg: 'Ed25519', key_id: signer.keyId, value } };
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Verifies an event's signature against the trusted keys of its producer. Never throws. */
export function verifyEvent(event: Record<string, unknown>, trusted: readonly KeyObject[]): VerifyResult {
  const sig = event['signature'] as Partial<EventSignature> | undefined;
  if (!sig || typeof sig !== 'object') return { ok: false, reason: 'no signature' };
  if (sig.alg !== 'Ed25519' || typeof sig.value !== 'string' || typeof sig.key_id !== 'string') {
    return { ok: false, reason: 'malformed signature' };
  }
  const key = trusted.find((k) => keyIdOf(k) === sig.key_id);
  if (!key) return { ok: false, reason: `unknown signing key ${sig.key_id}` };
  try {
    const valid = verify(null, signingInput(event), key, Buffer.from(sig.value, 'base64url'));
    return valid ? { ok: true } : { ok: false, reason: 'signature does not verify' };
  } catch (e) {
    return { ok: false, reason: `signature check failed: ${(e as Error).message}` };
  }
}
