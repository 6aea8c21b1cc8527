import type { KeyObject } from 'node:crypto';
import { publicKeyFromPem, signerFromPem, type Signer } from '@countersign/crypto';
import { ConfigError, readSecret } from './env';

/** The service's own Ed25519 signing key, from `<PREFIX>_SIGNING_KEY` or `<PREFIX>_SIGNING_KEY_FILE`. Required: signing is never optional. */
export function loadSigner(env: NodeJS.ProcessEnv, prefix: string): Signer {
  const name = `${prefix}_SIGNING_KEY`;
  const pem = readSecret(env, name);
  if (!pem)
    throw new ConfigError(
      `invalid configuration:\n  ${name} (or ${name}_FILE): required, an Ed25519 private key in PEM (not set)`,
    );
  try {
    return signerFromPem(pem);
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  ${name}: ${(e as Error).message}`);
  }
}

/**
 * Public keys trusted for a producer, from `TRUST_<PRODUCER>_KEY` or `..._FILE`; several PEMs may be
 * concatenated, which is how a key is rotated. Required: with no trusted key nothing would verify.
 */
export function loadTrustedKeys(env: NodeJS.ProcessEnv, producer: string): KeyObject[] {
  const name = `TRUST_${producer}_KEY`;
  const text = readSecret(env, name);
  if (!text)
    throw new ConfigError(
      `invalid configuration:\n  ${name} (or ${name}_FILE): required, Ed25519 public key(s) in PEM (not set)`,
    );
  const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (pems.length === 0) throw new ConfigError(`invalid configuration:\n  ${name}: no PEM public key found`);
  try {
    return pems.map(publicKeyFromPem);
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  ${name}: ${(e as Error).message}`);
  }
}
