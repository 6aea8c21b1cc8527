import type { KeyObject } from 'node:crypto';
import { publicKeyFromPem, signerFromPem, type Signer } from '@countersign/crypto';
import { z } from 'zod';
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

type KeyFields<N extends string> = { [K in N | `${N}_FILE`]: z.ZodOptional<z.ZodString> };

/**
 * The two variables of one key (`NAME` an inline PEM, `NAME_FILE` a path), for a service's EnvSchema,
 * so the configuration reference lists keys from the schemas. Both are optional to zod: which one is
 * set, and whether the PEM is valid, is checked by loadSigner / loadTrustedKeys when the config is built.
 * `required` (in the meta) is what the reference shows.
 */
function keyFields<N extends string>(name: N, description: string, required: boolean): KeyFields<N> {
  return {
    [name]: z
      .string()
      .optional()
      .meta({ description: `${description} Inline PEM, or its path as \`${name}_FILE\`.`, required, accepts: 'PEM' }),
    [`${name}_FILE`]: z
      .string()
      .optional()
      .meta({
        description: `Path of a file holding \`${name}\` (keeps it out of the process list).`,
        accepts: 'path',
      }),
  } as KeyFields<N>;
}

/** `<PREFIX>_SIGNING_KEY(_FILE)`: the service's own Ed25519 private key; `signs` says what it signs. */
export function signingKeyEnv<P extends string>(prefix: P, signs: string): KeyFields<`${P}_SIGNING_KEY`> {
  return keyFields(`${prefix}_SIGNING_KEY`, `Ed25519 private key (PEM) that signs ${signs}.`, true);
}

/** `TRUST_<PRODUCER>_KEY(_FILE)`: public key(s) trusted for a producer; several PEMs concatenated during a rotation. */
export function trustedKeyEnv<P extends string>(
  producer: P,
  description: string,
  opts: { required?: boolean } = {},
): KeyFields<`TRUST_${P}_KEY`> {
  return keyFields(`TRUST_${producer}_KEY`, description, opts.required ?? true);
}
