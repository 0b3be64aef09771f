import { loadSettings, type SettingFlags, type Settings } from '../config/settings.js';
import { homePaths, type HomePaths } from '../config/paths.js';
import type { Plugin } from '../plugin/types.js';

/** What every command action gets: the resolved settings and the loaded plugins. */
export interface CliContext {
  /** Settings resolved from global flags, env, the config file and defaults (cached). */
  settings(flags?: SettingFlags): Settings;
  /** The files and folders of the resolved home. */
  paths(): HomePaths;
  /** The plugins of this invocation: built-in first, then those installed that loaded. */
  readonly plugins: readonly Plugin[];
  /** The built-in plugins only (what a loader starts from, and what cannot be removed). */
  readonly builtins: readonly Plugin[];
}

/** Creates the CLI context over the global options of the program. */
export function createCliContext(globalFlags: () => SettingFlags, plugins: readonly Plugin[], builtins: readonly Plugin[] = plugins): CliContext {
  let cached: Settings | undefined;
  const settings = (flags: SettingFlags = {}): Settings => {
    if (Object.values(flags).some((v) => v !== undefined)) return loadSettings({ ...globalFlags(), ...flags });
    cached ??= loadSettings(globalFlags());
    return cached;
  };
  return { settings, paths: () => homePaths(settings().home), plugins, builtins };
}
