import { randomBytes, hkdfSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CaracalError } from '../errors.js';
import type { HomePaths } from '../config/paths.js';

type Env = Readonly<Record<string, string | undefined>>;

const KEY_BYTES = 32;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * The installation's master key (DESIGN.md §3): from `CARACAL_MASTER_KEY` (64 hex characters or
 * the base64 of 32 bytes) or else `CARACAL_HOME/master.key`, created on first use with mode 0600.
 * A key file that group or others can read is refused rather than used.
 */
export function loadMasterKey(
  paths: Pick<HomePaths, 'home' | 'masterKey'>,
  env: Env = process.env,
  platform: NodeJS.Platform = process.platform,
): Buffer {
  const fromEnv = env.CARACAL_MASTER_KEY?.trim();
  if (fromEnv) return parseKeyText(fromEnv, 'CARACAL_MASTER_KEY');
  return readOrCreateKeyFile(paths, platform);
}

/** The independent keys derived from the master key (HKDF-SHA256), one per purpose. */
export interface Subkeys {
  /** Seals provider credentials and private signing keys (core/crypto/seal.ts). */
  readonly seal: Buffer;
  /** Keys the HMAC of app client secrets and the admin token (core/crypto/secrets.ts). */
  readonly secretHash: Buffer;
}

/** Derives the sealing and secret-hashing subkeys from a 32-byte master key. */
export function deriveSubkeys(master: Buffer): Subkeys {
  if (master.length !== KEY_BYTES) {
    throw new CaracalError('CRC_CRYPTO_KEY', `The master key must be ${KEY_BYTES} bytes, got ${master.length}.`);
  }
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, KEY_BYTES));
  return { seal: derive('caracal/seal/v1'), secretHash: derive('caracal/secret-hash/v1') };
}

function parseKeyText(text: string, source: string): Buffer {
  if (HEX_KEY.test(text)) return Buffer.from(text, 'hex');
  const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (base64?.length === KEY_BYTES) return base64;
  // The value is a secret: describe its shape, never echo it.
  throw new CaracalError(
    'CRC_CRYPTO_KEY',
    `${source} is not a valid master key (${text.length} characters): it must be 64 hex characters ` +
      'or the base64 of exactly 32 bytes.',
    { hint: 'Generate one with: openssl rand -hex 32' },
  );
}

function readOrCreateKeyFile(paths: Pick<HomePaths, 'home' | 'masterKey'>, platform: NodeJS.Platform): Buffer {
  const file = paths.masterKey;
  try {
    const stat = statSync(file);
    // POSIX modes mean nothing on Windows, where the home folder's ACL protects the file.
    if (platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new CaracalError(
        'CRC_CRYPTO_KEY',
        `The master key file ${file} is accessible to group or others (mode ${mode}); refusing to use it.`,
        { hint: `Restrict it to its owner: chmod 600 ${file}` },
      );
    }
    return parseKeyFile(readFileSync(file), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapFsError(error, file);
  }
  const key = randomBytes(KEY_BYTES);
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
    // `wx`: if another process created the file meanwhile, use theirs rather than overwrite it.
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return parseKeyFile(readFileSync(file), file);
    throw wrapFsError(error, file);
  }
}

function parseKeyFile(content: Buffer, file: string): Buffer {
  if (content.length === KEY_BYTES) return content;
  return parseKeyText(content.toString('utf8').trim(), `The master key file ${file}`);
}

function wrapFsError(error: unknown, file: string): unknown {
  if (error instanceof CaracalError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  return new CaracalError('CRC_CRYPTO_KEY', `The master key file ${file} cannot be read or created (${code}).`, {
    cause: error,
    hint: 'Check that CARACAL_HOME exists and is writable by this user, or set CARACAL_MASTER_KEY.',
  });
}
