import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CaracalError } from '../errors.js';

/** The two files `caracal setup --write-profile` writes. */
export interface ProfileFiles {
  readonly profilePath: string;
  readonly secretPath: string;
}

/** Throws CRC_CONFLICT when either file exists and overwriting was not asked for; nothing is written. */
export function checkProfileTargets(files: ProfileFiles, overwrite: boolean): void {
  if (overwrite) return;
  for (const [what, path] of [['profile', files.profilePath], ['secret file', files.secretPath]] as const) {
    if (existsSync(path)) {
      throw new CaracalError('CRC_CONFLICT', `the ${what} ${path} already exists; refusing to overwrite it`, {
        hint: what === 'profile' ? 'pass --overwrite to replace it, or --profile-path P to write another profile' : 'pass --overwrite to replace it',
      });
    }
  }
}

/**
 * Writes the secret file, then the profile that names it: folders created 0700, files 0600, each
 * file written to a private temporary name and renamed into place, so a reader never sees half a
 * file and an existing file is replaced only with `overwrite`.
 */
export function writeProfileFiles(files: ProfileFiles & { readonly profileText: string; readonly secret: string; readonly overwrite: boolean }): void {
  checkProfileTargets(files, files.overwrite);
  const secretDir = dirname(files.secretPath);
  mkdirSync(secretDir, { recursive: true, mode: 0o700 });
  // The secret's own folder holds nothing else: make sure nobody else can list it.
  if (process.platform !== 'win32') chmodSync(secretDir, 0o700);
  writePrivate(files.secretPath, `${files.secret}\n`);
  mkdirSync(dirname(files.profilePath), { recursive: true, mode: 0o700 });
  writePrivate(files.profilePath, files.profileText);
}

function writePrivate(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    if (process.platform !== 'win32') chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new CaracalError('CRC_CONFIG_INVALID', `cannot write ${path} (${code ?? (error as Error).message})`, {
      cause: error,
      hint: 'choose a writable place with --profile-path, or set CARACAL_CONFIG_DIR',
    });
  }
}
