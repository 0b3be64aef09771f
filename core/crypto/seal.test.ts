import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isCaracalError } from '../errors.js';
import { open, seal } from './seal.js';

const key = randomBytes(32);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function expectTampered(action: () => unknown): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(isCaracalError(caught, 'CRC_CRYPTO_TAMPERED'), String(caught)).toBe(true);
}

describe('seal/open', () => {
  it.each([
    ['a string', 'api-key-123'],
    ['an empty string', ''],
    ['unicode', 'clé secrète ✓'],
    ['a JSON document', JSON.stringify({ clientSecret: 'x'.repeat(2000) })],
  ])('round-trips %s', (_label, plaintext) => {
    const sealed = seal(plaintext, key);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    expect(open(sealed, key).toString('utf8')).toBe(plaintext);
  });

  it('round-trips binary buffers', () => {
    const bytes = randomBytes(257);
    expect(open(seal(bytes, key), key).equals(bytes)).toBe(true);
  });

  it('uses a fresh IV, so sealing the same value twice gives different strings', () => {
    expect(seal('same', key)).not.toBe(seal('same', key));
  });

  it('never contains the plaintext', () => {
    expect(seal('very-secret-token', key)).not.toContain('very-secret');
  });

  it('detects a change to any character of the sealed string (version, IV, tag, ciphertext)', () => {
    const sealed = seal('provider credential', key);
    for (let i = 0; i < sealed.length; i++) {
      const original = sealed[i] ?? '';
      if (original === '.') continue;
      const alphabet = i < 2 ? 'v12' : ALPHABET;
      const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length] ?? 'A';
      const altered = sealed.slice(0, i) + replacement + sealed.slice(i + 1);
      expectTampered(() => open(altered, key));
    }
  });

  it.each([
    ['each region', (s: string) => s.split('.').slice(0, 3).join('.')],
    ['the last ciphertext characters', (s: string) => s.slice(0, -4)],
    ['a whole region emptied', (s: string) => s.replace(/\.[^.]+$/, '.')],
    ['garbage', () => 'not a sealed value'],
    ['an empty string', () => ''],
    ['extra parts', (s: string) => `${s}.AAAA`],
  ])('detects truncation or malformed input: %s', (_label, alter) => {
    expectTampered(() => open(alter(seal('provider credential', key)), key));
  });

  it('refuses to open under a different key, saying why', () => {
    const sealed = seal('provider credential', key);
    expect(() => open(sealed, randomBytes(32))).toThrow(/different master key/);
    expectTampered(() => open(sealed, randomBytes(32)));
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => seal('x', randomBytes(16))).toThrow(expect.objectContaining({ code: 'CRC_CRYPTO_KEY' }));
  });
});
