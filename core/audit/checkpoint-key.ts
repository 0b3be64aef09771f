import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CaracalError } from '../errors.js';

/** The installation's Ed25519 audit key: signs checkpoints (DESIGN.md §7). */
export interface AuditSigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** `ak_` + the first 16 hex digits of SHA-256 over the public key (SPKI DER). */
  readonly keyId: string;
  /** The public key as PEM (SPKI): what an auditor needs to verify an export offline. */
  readonly publicKeyPem: string;
}

/** The public half alone, as a verifier holds it. */
export interface AuditPublicKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
}

/** The stable ID of an Ed25519 public key. */
export function auditKeyId(publicKey: KeyObject): string {
  return `ak_${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)}`;
}

/** Reads a PEM public key (as `caracal audit key` prints it) for offline verification. */
export function parseAuditPublicKey(pem: string, source: string): AuditPublicKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw new CaracalError('CRC_CRYPTO_KEY', `${source} is not a PEM public key: ${(error as Error).message}`, {
      cause: error,
      hint: 'get the key with `caracal audit key` (or GET /v1/audit/public-key) and save it as it is printed',
    });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new CaracalError('CRC_CRYPTO_KEY', `${source} holds a ${publicKey.asymmetricKeyType ?? 'unknown'} key; audit checkpoints are signed with Ed25519`);
  }
  return { keyId: auditKeyId(publicKey), publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * Loads the audit signing key from `file` (CARACAL_HOME/audit-signing.key), creating it (mode
 * 0600, PKCS#8 PEM) on first use. Two processes starting at once agree on one key: the file is
 * created exclusively and the loser reads the winner's. A file readable by group or others is refused.
 */
export function loadOrCreateAuditKey(file: string, platform: NodeJS.Platform = process.platform): AuditSigningKey {
  for (let attempt = 0; attempt < 2; attempt++) {
    let pem: string | undefined;
    try {
      const stat = statSync(file);
      if (platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        throw new CaracalError('CRC_CRYPTO_KEY', `the audit signing key ${file} is accessible to group or others (mode ${(stat.mode & 0o777).toString(8)}); refusing to use it`, {
          hint: `restrict it to its owner: chmod 600 ${file}`,
        });
      }
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw wrapKeyError(error, file);
    }
    if (pem !== undefined) return fromPrivatePem(pem, file);
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      return fromPrivate(privateKey);
    } catch (error) {
      // Another process created it between our read and our write: read theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapKeyError(error, file);
    }
  }
  throw new CaracalError('CRC_CRYPTO_KEY', `could not create or read the audit signing key ${file}`);
}

function fromPrivatePem(pem: string, file: string): AuditSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new CaracalError('CRC_CRYPTO_KEY', `the audit signing key ${file} is not a PEM private key`, {
      cause: error,
      hint: 'restore it from a backup; removing it creates a new key, and exports signed with the old one then need the old public key',
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new CaracalError('CRC_CRYPTO_KEY', `the audit signing key ${file} is not an Ed25519 key`);
  return fromPrivate(privateKey);
}

function fromPrivate(privateKey: KeyObject): AuditSigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: auditKeyId(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function wrapKeyError(error: unknown, file: string): CaracalError {
  if (error instanceof CaracalError) return error;
  return new CaracalError('CRC_CRYPTO_KEY', `cannot use the audit signing key ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
    cause: error,
    hint: 'check that the Caracal home is writable by this user',
  });
}
