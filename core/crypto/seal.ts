import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CaracalError } from '../errors.js';

/**
 * Authenticated encryption at rest (DESIGN.md §3): AES-256-GCM, a fresh 96-bit IV per value,
 * stored as the compact string `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The version tag is
 * also the additional authenticated data, so a value cannot be replayed under another scheme.
 */

export { deriveSubkeys, loadMasterKey } from './master-key.js';
export type { Subkeys } from './master-key.js';

const VERSION = 'v1';
const AAD = Buffer.from('caracal-seal-v1', 'utf8');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Encrypts and authenticates `plaintext` under a 32-byte key; returns `v1.iv.tag.ciphertext`. */
export function seal(plaintext: string | Buffer, key: Buffer): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** Decrypts a value made by `seal`; throws CRC_CRYPTO_TAMPERED if it was altered or the key differs. */
export function open(sealed: string, key: Buffer): Buffer {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw tampered('it is not in the v1.<iv>.<tag>.<ciphertext> form');
  }
  const iv = decodePart(parts[1] ?? '', 'IV');
  const tag = decodePart(parts[2] ?? '', 'tag');
  const ciphertext = decodePart(parts[3] ?? '', 'ciphertext');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw tampered('its IV or authentication tag has the wrong length');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(AAD);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    throw tampered(
      'authentication failed: it was modified or truncated, or it was sealed under a different master key',
      cause,
    );
  }
}

function decodePart(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  // Node's decoder skips stray characters and ignores unused trailing bits; insist on the
  // canonical encoding so that every change to the stored string is detected.
  if (bytes.toString('base64url') !== text) throw tampered(`its ${what} is not canonical base64url`);
  return bytes;
}

function tampered(why: string, cause?: unknown): CaracalError {
  return new CaracalError('CRC_CRYPTO_TAMPERED', `A sealed value could not be opened: ${why}.`, {
    ...(cause === undefined ? {} : { cause }),
    hint:
      'If CARACAL_MASTER_KEY or master.key changed, restore the key the data was sealed with; ' +
      'otherwise the stored value was altered and must be entered again.',
  });
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new CaracalError('CRC_CRYPTO_KEY', `A sealing key must be ${KEY_BYTES} bytes, got ${key.length}.`);
  }
}
