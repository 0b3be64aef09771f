import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { CaracalError } from '../errors.js';

/** An app client secret is `cs_<base64url>`; anything else in the file is a mistake worth naming. */
const SECRET_SHAPE = /^cs_[A-Za-z0-9_-]{20,200}$/;

/**
 * Reads an app's client secret from its file, refusing (on POSIX) a file that anyone but its
 * owner may read or write, or that another user owns: a secret others can read is already leaked,
 * and one others can write lets them choose the identity a workload runs as. The file is opened
 * once and checked through its descriptor, so it cannot be swapped between the check and the read.
 */
export function readSecretFile(path: string, platform: NodeJS.Platform = process.platform): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist'
      : code === 'EACCES' ? 'is not readable by this user'
      : `cannot be opened (${code ?? 'error'})`;
    throw new CaracalError('CRC_PROFILE_INVALID', `the client secret file ${path} ${why}`, {
      cause: error,
      hint: 'fix client_secret_file in the profile, or write a new profile and secret file with `caracal setup … --write-profile --rotate-secret --overwrite`',
    });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new CaracalError('CRC_PROFILE_INVALID', `the client secret file ${path} is not a regular file`, { hint: 'point client_secret_file at the file holding the cs_… secret' });
    if (platform !== 'win32') {
      const mode = stat.mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new CaracalError('CRC_PROFILE_INVALID', `the client secret file ${path} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); refusing to use it`, {
          hint: `make it owner-only: chmod 600 '${path}' (and consider rotating the secret: caracal apps rotate-secret)`,
        });
      }
      const uid = process.getuid?.();
      if (uid !== undefined && stat.uid !== uid) {
        throw new CaracalError('CRC_PROFILE_INVALID', `the client secret file ${path} belongs to user ${stat.uid}, not to you (${uid}); refusing to use it`, {
          hint: `take ownership (chown ${uid} '${path}') or run as its owner`,
        });
      }
    }
    const secret = readFileSync(fd, 'utf8').trim();
    if (!SECRET_SHAPE.test(secret)) {
      throw new CaracalError('CRC_PROFILE_INVALID', `the client secret file ${path} does not hold an app client secret (cs_…)`, {
        hint: 'the file must contain only the secret `caracal setup` or `caracal apps rotate-secret` printed',
      });
    }
    return secret;
  } finally {
    closeSync(fd);
  }
}
