import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateAdminToken } from '../crypto/secrets.js';
import { CaracalError } from '../errors.js';

/**
 * The admin token: from `CARACAL_ADMIN_TOKEN`, else `CARACAL_HOME/admin-token` (created on first
 * start with mode 0600). Clients (the CLI, the console) read it the same way.
 */
export function loadAdminToken(file: string, env: NodeJS.ProcessEnv = process.env, create = true): string {
  const fromEnv = env.CARACAL_ADMIN_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      throw new CaracalError('CRC_UNAUTHORIZED', `cannot read the admin token at ${file}`, {
        cause: error,
        hint: 'start the stack with `caracal up` (it creates the token), or set CARACAL_ADMIN_TOKEN',
      });
    }
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const token = generateAdminToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return token;
}

/** Returns a constant-time checker of `Authorization: Bearer <admin token>` headers. */
export function createAdminCheck(adminToken: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(adminToken).digest();
  return (authorization) => {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    const given = createHash('sha256').update(authorization.slice(7).trim()).digest();
    return timingSafeEqual(given, expected);
  };
}
