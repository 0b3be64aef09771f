import { loadSettings, type SettingFlags, type Settings } from '../config/settings.js';
import { homePaths, type HomePaths } from '../config/paths.js';
import type { Plugin } from '../plugin/types.js';

/** What every command action gets: the resolved settings and the loaded plugins. */
export interface CliContext {
  /** Settings resolved from global flags, env, the config file and defaults (cached). */
  settings(flags?: SettingFlags): Settings;
  /** The files and folders of the resolved home. */
  paths(): HomePaths;
  /** The plugins known to this invocation (built-in first, then installed). */
  readonly plugins: readonly Plugin[];
}

/** Creates the CLI context over the global options of the program. */
export function createCliContext(globalFlags: () => SettingFlags, plugins: readonly Plugin[]): CliContext {
  let cached: Settings | undefined;
  const settings = (flags: SettingFlags = {}): Settings => {
    if (Object.values(flags).some((v) => v !== undefined)) return loadSettings({ ...globalFlags(), ...flags });
    cached ??= loadSettings(globalFlags());
    return cached;
  };
  return { settings, paths: () => homePaths(settings().home), plugins };
}
