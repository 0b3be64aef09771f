import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths } from '../config/paths.js';
import { PROFILE_HEADER } from '../profile/profile.js';
import { SAVED_RESULT_HEADER } from '../setup/format.js';

/** The entries of a Caracal home that purge removes (and nothing else). */
const HOME_ENTRIES = ['caracal.db', 'caracal.db-wal', 'caracal.db-shm', 'master.key', 'admin-token', 'audit-signing.key', 'config.toml', 'run', 'logs', 'plugins', 'cache', 'audit'];
/** The entries of the config dir that Caracal writes. */
const CONFIG_ENTRIES = ['caracal.toml', 'secrets', 'profiles', 'console.json'];

/** First lines by which Caracal recognises files it wrote under another name (`--profile-path`, the console's saved result). */
const OWN_FILE_HEADERS = [PROFILE_HEADER, SAVED_RESULT_HEADER];

/** Whether `path` is a regular file whose first line is one Caracal writes. */
function writtenByCaracal(path: string): boolean {
  if (!lstatSync(path).isFile()) return false;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(256);
    const line = head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0)).split('\n')[0];
    return OWN_FILE_HEADERS.includes(line ?? '');
  } finally {
    closeSync(fd);
  }
}

/** The files at the top of the config dir that Caracal wrote under other names (profiles, saved setup results). */
function ownFilesIn(configDir: string): string[] {
  if (!existsSync(configDir)) return [];
  return readdirSync(configDir)
    .filter((name) => !CONFIG_ENTRIES.includes(name))
    .map((name) => join(configDir, name))
    .filter(writtenByCaracal);
}

/** What `caracal purge` would delete, existing paths only, folders last. */
export function purgePlan(home: string, configDir: string): string[] {
  const paths = homePaths(home);
  const targets = [...HOME_ENTRIES.map((e) => join(paths.home, e)), ...CONFIG_ENTRIES.map((e) => join(configDir, e)), ...ownFilesIn(configDir)];
  const existing = targets.filter((p) => existsSync(p));
  for (const dir of [paths.home, configDir]) if (existsSync(dir)) existing.push(dir);
  return existing;
}

/**
 * Deletes Caracal's own entries from the home and config dir (including profiles and saved setup
 * results it wrote there under other names, known by their first line), then each folder if that
 * left it empty. Anything else a user put there stays, so purge never touches what is not Caracal's.
 * Returns the folders kept because they still hold other files.
 */
export function purge(home: string, configDir: string): string[] {
  const kept: string[] = [];
  for (const path of purgePlan(home, configDir)) {
    if (path === home || path === configDir) {
      if (readdirSync(path).length === 0) rmdirSync(path);
      else kept.push(path);
      continue;
    }
    rmSync(path, { recursive: true, force: true });
  }
  return kept;
}
