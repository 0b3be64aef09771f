import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths } from '../config/paths.js';

/** The entries of a Caracal home that purge removes (and nothing else). */
const HOME_ENTRIES = ['caracal.db', 'caracal.db-wal', 'caracal.db-shm', 'master.key', 'admin-token', 'audit-signing.key', 'config.toml', 'run', 'logs', 'plugins', 'cache', 'audit'];
/** The entries of the config dir that Caracal writes. */
const CONFIG_ENTRIES = ['caracal.toml', 'secrets', 'profiles', 'console.json'];

/** What `caracal purge` would delete, existing paths only, folders last. */
export function purgePlan(home: string, configDir: string): string[] {
  const paths = homePaths(home);
  const targets = [...HOME_ENTRIES.map((e) => join(paths.home, e)), ...CONFIG_ENTRIES.map((e) => join(configDir, e))];
  const existing = targets.filter((p) => existsSync(p));
  for (const dir of [paths.home, configDir]) if (existsSync(dir)) existing.push(dir);
  return existing;
}

/**
 * Deletes Caracal's own entries from the home and config dir, then each folder if that left it
 * empty. Anything else a user put there stays, so purge never touches what is not Caracal's.
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
