import { REDACTED } from '@countersign/contracts';

export const MAX_TEXT_BYTES = 512;

/**
 * Secrets people paste into a reason or a note, by common shapes. Redaction errs towards hiding:
 * a 40-character commit id looks like a key and is hidden too.
 */
const PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b/g,
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g,
  /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}\b/g,
  /\bsk-[A-Za-z0-9_-]{20,}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  // Long high-entropy runs (hex or base64 api keys): 32+ characters mixing letters and digits. `-` is
  // not part of a run, so UUIDs and job ids stay readable.
  /(?<![A-Za-z0-9+/_=])(?=[A-Za-z0-9+/_]*\d)(?=[A-Za-z0-9+/_]*[A-Za-z])[A-Za-z0-9+/_]{32,}={0,2}(?![A-Za-z0-9+/_=])/g,
];

/** `Bearer <x>`: the scheme stays, the credential goes. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/** `password=<x>`, `api_key: "<x>"`: the label stays, the value goes. */
const LABELLED =
  /\b((?:aws_)?(?:secret_access_key|access_key_id)|password|passwd|pwd|passphrase|secret|client_secret|token|access_token|refresh_token|api[_-]?key|apikey)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi;

export function redactSecrets(text: string): { text: string; redacted: boolean } {
  let out = text.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(LABELLED, (_m, label: string, sep: string) => `${label}${sep}${REDACTED}`);
  for (const re of PATTERNS) out = out.replace(re, REDACTED);
  return { text: out, redacted: out !== text };
}

/** Cuts to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let out = '';
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out;
}

/** Free text from reviewers is stored and signed into events: secrets out, then cut to size. */
export function cleanText(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const t = text.trim();
  if (!t) return null;
  return truncateUtf8(redactSecrets(t).text, MAX_TEXT_BYTES);
}
