import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaracalError } from '../errors.js';

/** Where an installed plugin came from, read from its dependency spec. */
export type InstalledSource = 'npm' | 'dir' | 'tarball';

/** One dependency of the private npm prefix `CARACAL_HOME/plugins`. */
export interface InstalledPackage {
  /** The npm package name. */
  readonly name: string;
  /** The spec npm saved (`^1.2.0`, `file:../x.tgz`, `file:../dir`). */
  readonly spec: string;
  readonly source: InstalledSource;
  /** The package's folder under node_modules. */
  readonly dir: string;
}

/** The files of the private npm prefix. */
export function pluginsPrefix(pluginsDir: string) {
  return {
    dir: pluginsDir,
    manifest: join(pluginsDir, 'package.json'),
    lock: join(pluginsDir, 'package-lock.json'),
    modules: join(pluginsDir, 'node_modules'),
  } as const;
}

/** Lists the plugin packages the prefix's package.json depends on (none when it does not exist). */
export function listInstalled(pluginsDir: string): InstalledPackage[] {
  const { manifest, modules } = pluginsPrefix(pluginsDir);
  if (!existsSync(manifest)) return [];
  const dependencies = readDependencies(manifest);
  return Object.entries(dependencies).map(([name, spec]) => ({
    name,
    spec,
    source: sourceOf(spec),
    dir: join(modules, ...name.split('/')),
  }));
}

/** The `dependencies` of a package.json, validated as a name → spec map. */
export function readDependencies(manifest: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch (error) {
    throw new CaracalError('CRC_PLUGIN_LOAD', `cannot read the plugin list ${manifest}: ${(error as Error).message}`, {
      cause: error,
      hint: 'fix the JSON, or move the file away and add the plugins again',
    });
  }
  const deps = (parsed as { dependencies?: unknown } | null)?.dependencies ?? {};
  if (typeof deps !== 'object' || deps === null || Object.values(deps).some((v) => typeof v !== 'string')) {
    throw new CaracalError('CRC_PLUGIN_LOAD', `the plugin list ${manifest} has a malformed "dependencies" object`, {
      hint: 'it must map package names to version specs, as npm writes it',
    });
  }
  return deps as Record<string, string>;
}

/** Resolves an installed package's ESM entry file: `exports` (import/node/default), then `main`, then index.js. */
export function resolveEntry(packageDir: string): string {
  const manifest = join(packageDir, 'package.json');
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(readFileSync(manifest, 'utf8')) as typeof pkg;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CaracalError('CRC_PLUGIN_LOAD', missing ? `is not installed (no ${manifest})` : `has an unreadable ${manifest}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const fromExports = exportTarget(pkg.exports);
  const relative = fromExports ?? (typeof pkg.main === 'string' && pkg.main !== '' ? pkg.main : 'index.js');
  return join(packageDir, relative);
}

/** Reads the installed package's own version. */
export function packageVersion(packageDir: string): string | null {
  try {
    const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : null;
  } catch {
    return null;
  }
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null || Array.isArray(exports)) return undefined;
  const map = exports as Record<string, unknown>;
  // Either a subpath map ({".": …}) or a conditions object ({import: …}).
  if ('.' in map) return exportTarget(map['.']);
  for (const condition of ['import', 'node', 'default']) {
    const target = exportTarget(map[condition]);
    if (target !== undefined) return target;
  }
  return undefined;
}

function sourceOf(spec: string): InstalledSource {
  if (!spec.startsWith('file:')) return 'npm';
  return /\.(tgz|tar\.gz|tar)$/i.test(spec) ? 'tarball' : 'dir';
}
