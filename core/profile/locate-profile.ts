import { join, resolve } from 'node:path';
import { defaultConfigDir } from '../config/paths.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a profile path came from (said in error messages, so the user knows what to change). */
export type ProfileSource = 'flag' | 'env' | 'default';

/** A resolved profile path and the rule that chose it. */
export interface ProfileLocation {
  readonly path: string;
  readonly source: ProfileSource;
}

/** Resolves the profile path (DESIGN.md §8): `--profile` > `CARACAL_CONFIG` > `<config dir>/caracal.toml`. */
export function locateProfile(flag: string | undefined, env: Env = process.env): ProfileLocation {
  if (flag !== undefined && flag !== '') return { path: resolve(flag), source: 'flag' };
  const fromEnv = env.CARACAL_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(fromEnv), source: 'env' };
  return { path: defaultProfilePath(env), source: 'default' };
}

/** `<config dir>/caracal.toml`, where `caracal setup --write-profile` writes by default. */
export function defaultProfilePath(env: Env = process.env): string {
  return join(defaultConfigDir(env), 'caracal.toml');
}

/** `<config dir>/secrets/<zone ID>/<app ID>`, where `caracal setup` writes an app's secret. */
export function defaultSecretPath(zoneId: string, appId: string, env: Env = process.env): string {
  return join(defaultConfigDir(env), 'secrets', zoneId, appId);
}
