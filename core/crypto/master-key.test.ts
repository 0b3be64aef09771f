import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homePaths } from '../config/paths.js';
import { deriveSubkeys, loadMasterKey } from './master-key.js';
import { open, seal } from './seal.js';

let dir: string;
let paths: ReturnType<typeof homePaths>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'caracal-key-'));
  paths = homePaths(join(dir, 'home'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadMasterKey', () => {
  it('creates master.key (32 bytes, mode 0600) in a new home on first use and reuses it', () => {
    const key = loadMasterKey(paths, {}, 'linux');
    expect(key).toHaveLength(32);
    expect(statSync(paths.masterKey).mode & 0o777).toBe(0o600);
    expect(statSync(paths.home).mode & 0o777).toBe(0o700);
    expect(readFileSync(paths.masterKey).equals(key)).toBe(true);
    expect(loadMasterKey(paths, {}, 'linux').equals(key)).toBe(true);
  });

  it.each([0o640, 0o604, 0o644, 0o660])('refuses a key file with mode %o and names the chmod fix', (mode) => {
    loadMasterKey(paths, {}, 'linux');
    chmodSync(paths.masterKey, mode);
    expect(() => loadMasterKey(paths, {}, 'linux')).toThrow(
      expect.objectContaining({ code: 'CRC_CRYPTO_KEY', hint: `Restrict it to its owner: chmod 600 ${paths.masterKey}` }),
    );
  });

  it('accepts a key file holding 64 hex characters (e.g. from openssl rand -hex 32)', () => {
    loadMasterKey(paths, {}, 'linux');
    const key = randomBytes(32);
    writeFileSync(paths.masterKey, `${key.toString('hex')}\n`, { mode: 0o600 });
    expect(loadMasterKey(paths, {}, 'linux').equals(key)).toBe(true);
  });

  it('refuses a key file of the wrong size without printing its content', () => {
    loadMasterKey(paths, {}, 'linux');
    writeFileSync(paths.masterKey, 'short-secret-text');
    expect(() => loadMasterKey(paths, {}, 'linux')).toThrow(expect.objectContaining({ code: 'CRC_CRYPTO_KEY' }));
    expect(() => loadMasterKey(paths, {}, 'linux')).not.toThrow(/short-secret-text/);
  });

  it.each([
    ['64 hex characters', (k: Buffer) => k.toString('hex')],
    ['upper-case hex', (k: Buffer) => k.toString('hex').toUpperCase()],
    ['base64', (k: Buffer) => k.toString('base64')],
    ['base64url', (k: Buffer) => k.toString('base64url')],
    ['surrounding whitespace', (k: Buffer) => ` ${k.toString('hex')}\n`],
  ])('reads CARACAL_MASTER_KEY as %s and never touches the home', (_label, encode) => {
    const key = randomBytes(32);
    expect(loadMasterKey(paths, { CARACAL_MASTER_KEY: encode(key) }, 'linux').equals(key)).toBe(true);
    expect(() => statSync(paths.masterKey)).toThrow();
  });

  it.each([
    ['63 hex characters', randomBytes(32).toString('hex').slice(1)],
    ['base64 of 16 bytes', randomBytes(16).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
  ])('refuses CARACAL_MASTER_KEY holding %s, without echoing it', (_label, value) => {
    let caught: unknown;
    try {
      loadMasterKey(paths, { CARACAL_MASTER_KEY: value }, 'linux');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'CRC_CRYPTO_KEY', hint: 'Generate one with: openssl rand -hex 32' });
    expect(String((caught as Error).message)).not.toContain(value);
  });
});

describe('deriveSubkeys', () => {
  it('derives distinct, stable 32-byte keys for sealing and secret hashing', () => {
    const master = randomBytes(32);
    const a = deriveSubkeys(master);
    const b = deriveSubkeys(master);
    expect(a.seal).toHaveLength(32);
    expect(a.secretHash).toHaveLength(32);
    expect(a.seal.equals(a.secretHash)).toBe(false);
    expect(a.seal.equals(master)).toBe(false);
    expect(a.seal.equals(b.seal) && a.secretHash.equals(b.secretHash)).toBe(true);
  });

  it('seals under one master key cannot be opened under another', () => {
    const sealed = seal('x', deriveSubkeys(randomBytes(32)).seal);
    expect(() => open(sealed, deriveSubkeys(randomBytes(32)).seal)).toThrow(
      expect.objectContaining({ code: 'CRC_CRYPTO_TAMPERED' }),
    );
  });
});
