import { randomBytes } from 'node:crypto';
import * as nodeCrypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateAdminToken, generateClientSecret, hashSecret, verifySecret } from './secrets.js';

// A pass-through spy: the real timingSafeEqual runs; the spy only proves verifySecret goes through it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof nodeCrypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const key = randomBytes(32);

describe('client secrets', () => {
  afterEach(() => vi.mocked(nodeCrypto.timingSafeEqual).mockClear());

  it('are cs_ followed by the base64url of 32 random bytes, different every time', () => {
    const a = generateClientSecret();
    const b = generateClientSecret();
    expect(a).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(3), 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('admin tokens are cat_ followed by 32 random bytes', () => {
    const token = generateAdminToken();
    expect(token).toMatch(/^cat_[A-Za-z0-9_-]{43}$/);
    expect(token).not.toBe(generateAdminToken());
  });

  it('hash to a scheme-tagged keyed HMAC that never contains the secret', () => {
    const secret = generateClientSecret();
    const hash = hashSecret(secret, key);
    expect(hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(hash).not.toContain(secret.slice(3));
    expect(hashSecret(secret, key)).toBe(hash);
    expect(hashSecret(secret, randomBytes(32))).not.toBe(hash);
  });

  it.each([
    ['the same secret', (s: string) => s, true],
    ['another secret', () => generateClientSecret(), false],
    ['the secret with one character changed', (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A'), false],
    ['an empty string', () => '', false],
  ])('verify %s → %s, in constant time', (_label, candidate, expected) => {
    const secret = generateClientSecret();
    const stored = hashSecret(secret, key);
    expect(verifySecret(candidate(secret), stored, key)).toBe(expected);
    expect(nodeCrypto.timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['a hash made with another key', (s: string) => hashSecret(s, randomBytes(32))],
    ['a truncated hash', (s: string) => hashSecret(s, key).slice(0, -2)],
    ['an unknown scheme', (s: string) => hashSecret(s, key).replace('hmac-sha256:', 'md5:')],
    ['an empty stored value', () => ''],
  ])('do not verify against %s (and still compare in constant time)', (_label, stored) => {
    const secret = generateClientSecret();
    expect(verifySecret(secret, stored(secret), key)).toBe(false);
    expect(nodeCrypto.timingSafeEqual).toHaveBeenCalledTimes(1);
  });
});
