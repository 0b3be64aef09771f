import { readFileSync } from 'node:fs';
import { CaracalError } from '../errors.js';
import { locateProfile, type ProfileLocation } from './locate-profile.js';
import { parseProfile, type Profile } from './profile.js';

type Env = Readonly<Record<string, string | undefined>>;

const MAX_PROFILE_BYTES = 256 * 1024;

const SOURCE_TEXT: Record<ProfileLocation['source'], string> = {
  flag: 'named by --profile',
  env: 'named by CARACAL_CONFIG',
  default: 'the default profile',
};

/** Finds (`--profile` > `CARACAL_CONFIG` > default), reads and validates the runtime profile. */
export function loadProfile(flag?: string, env: Env = process.env): Profile {
  const location = locateProfile(flag, env);
  let text: string;
  try {
    text = readFileSync(location.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'is not readable by this user' : `cannot be read (${code ?? 'error'})`;
    throw new CaracalError('CRC_PROFILE_INVALID', `no runtime profile: ${location.path} (${SOURCE_TEXT[location.source]}) ${why}`, {
      cause: error,
      hint:
        location.source === 'default'
          ? 'create one with `caracal setup --scenario internal-http-api … --write-profile`, or name one with --profile PATH or CARACAL_CONFIG=PATH'
          : 'check the path, or create the profile with `caracal setup --scenario internal-http-api … --write-profile --profile-path PATH`',
    });
  }
  if (Buffer.byteLength(text) > MAX_PROFILE_BYTES) {
    throw new CaracalError('CRC_PROFILE_INVALID', `the profile ${location.path} is larger than ${MAX_PROFILE_BYTES / 1024} KiB; it is not a Caracal profile`);
  }
  return parseProfile(text, location.path);
}
