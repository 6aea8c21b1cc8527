#!/usr/bin/env node
// Generates local signing keys (Ed25519) and the local approver JWT secret into .run/keys.
// They are made on each machine and never committed; production takes keys from its secret store.
const { generateKeyPairSync, randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', '..', '.run', 'keys');
mkdirSync(dir, { recursive: true, mode: 0o700 });
let made = 0;
for (const name of ['policy-decision', 'approval-queue', 'execution-binding', 'audit']) {
  const key = join(dir, `${name}.key`);
  if (existsSync(key)) continue;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(key, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(join(dir, `${name}.pub`), publicKey.export({ format: 'pem', type: 'spki' }));
  made++;
}
for (const name of ['approver-jwt.secret', 'executor-http.secret']) {
  const secret = join(dir, name);
  if (existsSync(secret)) continue;
  writeFileSync(secret, randomBytes(32).toString('base64url'), { mode: 0o600 });
  made++;
}
console.log(`keys: ${made ? `generated ${made}` : 'present'} in .run/keys`);
