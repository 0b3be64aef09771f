import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The platform data dir for Caracal (DESIGN.md §2); `CARACAL_HOME` wins. */
export function defaultHome(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CARACAL_HOME) return env.CARACAL_HOME;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'caracal');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'caracal');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'caracal');
}

/** The platform config dir for profiles and secret files; `CARACAL_CONFIG_DIR` wins. */
export function defaultConfigDir(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CARACAL_CONFIG_DIR) return env.CARACAL_CONFIG_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'caracal');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Preferences', 'caracal');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'caracal');
}

/** The files and folders inside a Caracal home. */
export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'config.toml'),
    database: join(home, 'caracal.db'),
    masterKey: join(home, 'master.key'),
    adminToken: join(home, 'admin-token'),
    auditKey: join(home, 'audit-signing.key'),
    run: join(home, 'run'),
    logs: join(home, 'logs'),
    plugins: join(home, 'plugins'),
    cache: join(home, 'cache'),
  } as const;
}
export type HomePaths = ReturnType<typeof homePaths>;
