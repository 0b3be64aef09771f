import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CaracalError, isCaracalError, type ErrorCode } from '../errors.js';
import { createHookDriver, type HookDriver, type HookDriverOptions } from './hook-driver.js';
import type { SetupMode } from './hooks.js';
import { listInstalled, packageVersion, resolveEntry, type InstalledPackage } from './installed.js';
import { PLUGIN_API_VERSION, type Plugin } from './types.js';
import { validatePlugin } from './validate.js';

/** Where a plugin came from. */
export type PluginSource = 'builtin' | 'npm' | 'dir' | 'tarball';

interface PluginRecordBase {
  /** The plugin's name (the package name when it failed before its name was known). */
  readonly name: string;
  /** The npm package, for installed plugins; null for built-ins. */
  readonly package: string | null;
  readonly version: string | null;
  readonly source: PluginSource;
}

/** A plugin that loaded, passed its checks and set up. */
export interface LoadedPlugin extends PluginRecordBase {
  readonly status: 'loaded';
  readonly error: null;
  readonly plugin: Plugin;
}

/** A plugin that was disabled, with why. */
export interface PluginFailure extends PluginRecordBase {
  readonly status: 'failed';
  /** What went wrong, naming the plugin. */
  readonly error: string;
  /** How to fix it, when known. */
  readonly hint: string | null;
  readonly code: ErrorCode;
}

export type PluginRecord = LoadedPlugin | PluginFailure;

/** Options of {@link loadPlugins}. */
export interface LoadPluginsOptions {
  /** Built-in plugins, first in load order. */
  readonly builtins: readonly Plugin[];
  /** CARACAL_HOME; installed plugins live in `<home>/plugins`. */
  readonly home: string;
  /** Plugin or package names that must load: any failure among them throws CRC_PLUGIN_LOAD. */
  readonly required?: readonly string[];
  /** Options for factory exports, keyed by package or plugin name. */
  readonly options?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Passed to `setup` hooks; default `cli`. */
  readonly mode?: SetupMode;
  /** The version shown for built-ins without their own (Caracal's version). */
  readonly builtinVersion?: string;
  readonly driver?: HookDriverOptions;
}

/** What {@link loadPlugins} found. */
export interface LoadResult {
  /** Loaded plugins, in load order (built-ins first, then installed in package.json order). */
  readonly plugins: readonly LoadedPlugin[];
  readonly failures: readonly PluginFailure[];
  /** Every plugin, loaded or not, in load order (what `caracal plugin list` shows). */
  readonly records: readonly PluginRecord[];
  /** The driver over the loaded plugins, setup already run. */
  readonly driver: HookDriver;
}

/**
 * Loads the built-in plugins and those installed in `<home>/plugins`, checks each (shape, API
 * range, unique name), runs `setup` through the driver, and reports every plugin that failed by
 * name instead of stopping, unless it is required.
 */
export async function loadPlugins(options: LoadPluginsOptions): Promise<LoadResult> {
  const records: PluginRecord[] = [];
  const taken = new Map<string, string>();

  const admit = (record: PluginRecord): void => {
    if (record.status === 'loaded') {
      const owner = taken.get(record.name);
      if (owner !== undefined) {
        records.push(
          failed(
            record,
            new CaracalError('CRC_PLUGIN_INVALID', `plugin ${record.name} (${describeSource(record)}) has the same name as ${owner}, which loaded first`, {
              hint: `remove one of them (caracal plugin remove ${record.package ?? record.name})`,
            }),
          ),
        );
        return;
      }
      taken.set(record.name, describeSource(record));
    }
    records.push(record);
  };

  for (const builtin of options.builtins) admit(checkBuiltin(builtin, options.builtinVersion ?? null));
  for (const pkg of listInstalled(join(options.home, 'plugins'))) admit(await loadInstalled(pkg, options.options ?? {}));

  const loaded = records.filter((r): r is LoadedPlugin => r.status === 'loaded');
  const driver = createHookDriver(
    loaded.map((r) => r.plugin),
    options.driver ?? {},
  );
  await driver.runHook('setup', { home: options.home, apiVersion: PLUGIN_API_VERSION, mode: options.mode ?? 'cli' });
  const final = records.map((r): PluginRecord => {
    const reason = r.status === 'loaded' ? driver.disabled.get(r.name) : undefined;
    return reason === undefined ? r : failed(r, reason);
  });

  const missing = requiredFailure(options.required ?? [], final);
  if (missing !== undefined) {
    await driver.runHook('teardown', { reason: 'error' });
    throw missing;
  }
  return {
    plugins: final.filter((r): r is LoadedPlugin => r.status === 'loaded'),
    failures: final.filter((r): r is PluginFailure => r.status === 'failed'),
    records: final,
    driver,
  };
}

function checkBuiltin(plugin: Plugin, builtinVersion: string | null): PluginRecord {
  const base = { name: typeof plugin.name === 'string' ? plugin.name : '(unnamed built-in)', package: null, source: 'builtin' as const };
  try {
    const checked = validatePlugin(plugin, base.name);
    return { ...base, version: checked.version ?? builtinVersion, status: 'loaded', error: null, plugin: checked };
  } catch (error) {
    return failed({ ...base, version: builtinVersion }, error);
  }
}

async function loadInstalled(pkg: InstalledPackage, options: Readonly<Record<string, Readonly<Record<string, unknown>>>>): Promise<PluginRecord> {
  const base = { name: pkg.name, package: pkg.name, source: pkg.source, version: packageVersion(pkg.dir) };
  // Once the module is imported, its declared name (when it has one) names it in every report.
  let name = pkg.name;
  try {
    let entry: string;
    try {
      entry = resolveEntry(pkg.dir);
    } catch (error) {
      throw new CaracalError('CRC_PLUGIN_LOAD', `plugin package ${pkg.name} ${(error as Error).message}`, {
        cause: error,
        hint: `install it again: caracal plugin add ${pkg.source === 'npm' ? pkg.name : pkg.spec.replace(/^file:/, '')}`,
      });
    }
    let exported: unknown;
    try {
      exported = ((await import(pathToFileURL(entry).href)) as { default?: unknown }).default;
    } catch (error) {
      throw new CaracalError('CRC_PLUGIN_LOAD', `plugin package ${pkg.name} failed to import (${entry}): ${firstLine(error)}`, {
        cause: error,
        hint: `fix or update the package, or remove it (caracal plugin remove ${pkg.name})`,
      });
    }
    if (typeof exported === 'function') {
      const factoryOptions = options[pkg.name] ?? {};
      try {
        exported = await (exported as (options: Readonly<Record<string, unknown>>) => unknown)(factoryOptions);
      } catch (error) {
        throw new CaracalError('CRC_PLUGIN_LOAD', `plugin package ${pkg.name}: its factory threw: ${firstLine(error)}`, {
          cause: error,
          hint: 'check the options configured for it',
        });
      }
    }
    const declared = (exported as { name?: unknown } | null | undefined)?.name;
    if (typeof declared === 'string' && declared !== '') name = declared;
    const plugin = validatePlugin(exported, name === pkg.name ? `package ${pkg.name}` : `${name} (package ${pkg.name})`);
    return { ...base, name: plugin.name, version: plugin.version ?? base.version, status: 'loaded', error: null, plugin };
  } catch (error) {
    return failed({ ...base, name }, error);
  }
}

function failed(base: PluginRecordBase, error: unknown): PluginFailure {
  const err = isCaracalError(error) ? error : new CaracalError('CRC_PLUGIN_LOAD', `plugin ${base.name}: ${firstLine(error)}`, { cause: error });
  return {
    name: base.name,
    package: base.package,
    version: base.version,
    source: base.source,
    status: 'failed',
    error: err.message,
    hint: err.hint ?? null,
    code: err.code,
  };
}

function requiredFailure(required: readonly string[], records: readonly PluginRecord[]): CaracalError | undefined {
  for (const name of required) {
    const record = records.find((r) => r.name === name || r.package === name);
    if (record === undefined) {
      return new CaracalError('CRC_PLUGIN_LOAD', `required plugin ${name} is not installed`, { hint: `caracal plugin add ${name}` });
    }
    if (record.status === 'failed') {
      return new CaracalError('CRC_PLUGIN_LOAD', `required plugin ${name} failed to load: ${record.error}`, {
        details: { plugin: record.name, code: record.code },
      });
    }
  }
  return undefined;
}

function describeSource(record: PluginRecordBase): string {
  return record.source === 'builtin' ? `the built-in plugin ${record.name}` : `package ${record.package ?? record.name}`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
