import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * App client secrets and admin tokens (DESIGN.md §3): 32 random bytes shown once, stored only as
 * a keyed hash, compared in constant time. The stored form carries its scheme so it can evolve.
 */

const CLIENT_SECRET_PREFIX = 'cs_';
const ADMIN_TOKEN_PREFIX = 'cat_';
const SCHEME = 'hmac-sha256';

/** A new app client secret: `cs_` + base64url of 32 random bytes. */
export function generateClientSecret(): string {
  return CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** A new admin API token: `cat_` + base64url of 32 random bytes. */
export function generateAdminToken(): string {
  return ADMIN_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The keyed hash stored in place of a secret: `hmac-sha256:<hex>`. */
export function hashSecret(secret: string, key: Buffer): string {
  return `${SCHEME}:${createHmac('sha256', key).update(secret, 'utf8').digest('hex')}`;
}

/** Whether `secret` matches `storedHash`, compared in constant time; unknown schemes never match. */
export function verifySecret(secret: string, storedHash: string, key: Buffer): boolean {
  const expected = Buffer.from(hashSecret(secret, key), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  // timingSafeEqual needs equal lengths; compare against ourselves on a mismatch so the time
  // spent does not depend on how the stored value differs.
  const sameLength = stored.length === expected.length;
  const equal = timingSafeEqual(expected, sameLength ? stored : expected);
  return sameLength && equal;
}
