import { cleanText, redactSecrets, truncateUtf8 } from './redact-text';

const r = (s: string) => redactSecrets(s).text;

describe('redactSecrets', () => {
  it('keeps ordinary text, ids and short hashes', () => {
    const text =
      'Approved after checking runbook step 4 for job-123e4567-e89b-12d3-a456-426614174000 (commit 1a2b3c4d).';
    expect(redactSecrets(text)).toEqual({ text, redacted: false });
  });

  it('redacts bearer tokens but keeps the scheme', () => {
    expect(r('used Bearer abcdefgh.ijklmnop-qrstuv to test')).toBe('used Bearer [REDACTED] to test');
  });

  it('redacts JWTs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl';
    expect(r(`token was ${jwt}`)).toBe('token was [REDACTED]');
  });

  it('redacts AWS access keys', () => {
    expect(r('key AKIAIOSFODNN7EXAMPLE leaked')).toBe('key [REDACTED] leaked');
  });

  it('redacts labelled secrets, keeping the label', () => {
    expect(r('password=hunter2 and api_key: "abc def" and secret=x;')).toBe(
      'password=[REDACTED] and api_key: [REDACTED] and secret=[REDACTED];',
    );
    expect(r('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG')).toBe('aws_secret_access_key = [REDACTED]');
  });

  it('redacts private keys', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----';
    expect(r(`here: ${pem} ok`)).toBe('here: [REDACTED] ok');
    expect(r('-----BEGIN RSA PRIVATE KEY-----\nMIIEow... (cut)')).toBe('[REDACTED]');
  });

  it('redacts vendor tokens and long high-entropy strings', () => {
    expect(r('ghp_0123456789abcdefghijABCDEFGHIJ012345')).toBe('[REDACTED]');
    expect(r('xoxb-123456789012-abcdefghij')).toBe('[REDACTED]');
    expect(r('sk_live_0123456789abcdef')).toBe('[REDACTED]');
    expect(r('hex 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 end')).toBe('hex [REDACTED] end');
    expect(r('b64 dGhpcyBpcyBhIHNlY3JldCBrZXkgMTIzNDU2Nzg5MA== end')).toBe('b64 [REDACTED] end');
  });

  it('does not redact long words without digits', () => {
    const text = 'Supercalifragilisticexpialidocious_and_more_letters_only';
    expect(r(text)).toBe(text);
  });
});

describe('truncateUtf8', () => {
  it('cuts to the byte limit without splitting a character', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('€€€', 7)).toBe('€€');
    expect(Buffer.byteLength(truncateUtf8('x'.repeat(600), 512))).toBe(512);
  });
});

describe('cleanText (reason and note)', () => {
  it('trims, turns empty into null, redacts secrets and keeps within 512 bytes', () => {
    expect(cleanText(undefined)).toBeNull();
    expect(cleanText('   ')).toBeNull();
    expect(cleanText(' ok ')).toBe('ok');
    expect(cleanText('password=hunter2')).toBe('password=[REDACTED]');
    const long = `${'x '.repeat(250)}password=${'y'.repeat(5)}`;
    expect(Buffer.byteLength(cleanText(long) ?? '')).toBeLessThanOrEqual(512);
  });
});
