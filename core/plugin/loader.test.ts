import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CaracalError } from '../errors.js';
import type { SetupContext } from './hooks.js';
import { loadPlugins, type PluginFailure, type PluginRecord } from './loader.js';
import { PLUGIN_API_VERSION, type Plugin } from './types.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'caracal-loader-'));
  homes.push(home);
  return home;
}

/** Lays out an installed plugin package the way npm does in `<home>/plugins`. */
function installPackage(
  home: string,
  name: string,
  source: string,
  options: { spec?: string; manifest?: Record<string, unknown>; files?: Record<string, string> } = {},
): void {
  const prefix = join(home, 'plugins');
  mkdirSync(prefix, { recursive: true });
  const manifestPath = join(prefix, 'package.json');
  let manifest: { dependencies: Record<string, string> } = { dependencies: {} };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch {
    // first package
  }
  manifest.dependencies[name] = options.spec ?? '^1.0.0';
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const dir = join(prefix, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', type: 'module', main: 'index.js', ...options.manifest }));
  writeFileSync(join(dir, 'index.js'), source);
  for (const [file, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

const builtin = (name: string, extra: Partial<Plugin> = {}): Plugin => ({ name, caracal: '^1', ...extra });
const failureOf = (records: readonly PluginRecord[], name: string) => records.find((r) => r.name === name) as PluginFailure | undefined;

describe('loadPlugins', () => {
  it('loads built-ins first, then installed packages in package.json order', async () => {
    const home = newHome();
    installPackage(home, 'caracal-plugin-b', `export default { name: 'b', version: '0.3.0', caracal: '^1' };`, { spec: 'file:../b-0.3.0.tgz' });
    installPackage(home, 'caracal-plugin-a', `export default { name: 'a', caracal: '>=1.0.0 <2' };`, { spec: 'file:../src/a' });
    installPackage(home, '@acme/caracal-plugin-c', `export default { name: '@acme/c', caracal: '1.x' };`, { spec: '^2.0.0' });

    const { records, failures } = await loadPlugins({ builtins: [builtin('kernel')], home, builtinVersion: '0.1.0' });

    expect(failures).toEqual([]);
    expect(records.map(({ name, package: pkg, version, source, status }) => ({ name, pkg, version, source, status }))).toEqual([
      { name: 'kernel', pkg: null, version: '0.1.0', source: 'builtin', status: 'loaded' },
      { name: 'b', pkg: 'caracal-plugin-b', version: '0.3.0', source: 'tarball', status: 'loaded' },
      { name: 'a', pkg: 'caracal-plugin-a', version: '1.2.3', source: 'dir', status: 'loaded' },
      { name: '@acme/c', pkg: '@acme/caracal-plugin-c', version: '1.2.3', source: 'npm', status: 'loaded' },
    ]);
  });

  it('works without a plugins folder', async () => {
    const { records } = await loadPlugins({ builtins: [builtin('kernel')], home: newHome() });
    expect(records.map((r) => r.name)).toEqual(['kernel']);
  });

  it('resolves the entry through package.json "exports"', async () => {
    const home = newHome();
    installPackage(home, 'caracal-plugin-exports', `throw new Error('index.js must not be loaded');`, {
      manifest: { main: 'index.js', exports: { '.': { import: './esm/plugin.js', require: './cjs.cjs' } } },
      files: { 'esm/plugin.js': `export default { name: 'exports', caracal: '^1' };` },
    });
    const { plugins } = await loadPlugins({ builtins: [], home });
    expect(plugins.map((p) => p.name)).toEqual(['exports']);
  });

  it('runs setup hooks with the home, API version and mode, and returns a driver over loaded plugins', async () => {
    const home = newHome();
    const seen: SetupContext[] = [];
    installPackage(home, 'caracal-plugin-guard', `export default { name: 'guard', caracal: '^1', hooks: { authorize: () => ({ effect: 'deny', reason: 'closed' }) } };`);
    const { driver } = await loadPlugins({
      builtins: [builtin('kernel', { hooks: { setup: (ctx) => void seen.push(ctx) } })],
      home,
      mode: 'serve',
    });
    expect(seen).toEqual([{ home, apiVersion: PLUGIN_API_VERSION, mode: 'serve' }]);
    expect(driver.has('authorize')).toBe(true);
  });

  it('calls a factory export with the options configured for its package', async () => {
    const home = newHome();
    installPackage(
      home,
      'caracal-plugin-factory',
      `export default (options) => ({ name: 'factory-' + options.flavour, caracal: '^1' });`,
    );
    const { plugins } = await loadPlugins({ builtins: [], home, options: { 'caracal-plugin-factory': { flavour: 'mint' } } });
    expect(plugins.map((p) => p.name)).toEqual(['factory-mint']);
  });

  it('awaits an async factory', async () => {
    const home = newHome();
    installPackage(home, 'caracal-plugin-async', `export default async () => ({ name: 'async', caracal: '^1' });`);
    const { plugins } = await loadPlugins({ builtins: [], home });
    expect(plugins.map((p) => p.name)).toEqual(['async']);
  });

  const broken: { what: string; name: string; source: string; code: string; message: RegExp; hint?: RegExp }[] = [
    {
      what: 'a wrong shape',
      name: 'shape',
      source: `export default { name: 'shape', caracal: '^1', sinks: [{ id: 'x' }] };`,
      code: 'CRC_PLUGIN_INVALID',
      message: /^plugin shape \(package caracal-plugin-bad\) has an invalid shape: sinks\.0\.description: .*; sinks\.0\.create: must be a function$/,
    },
    {
      what: 'a misspelt hook',
      name: 'typo',
      source: `export default { name: 'typo', caracal: '^1', hooks: { onRecieve() {} } };`,
      code: 'CRC_PLUGIN_INVALID',
      message: /hooks: Unrecognized key: "onRecieve"/,
      hint: /hooks are setup, teardown, onReceive/,
    },
    {
      what: 'no caracal range',
      name: 'norange',
      source: `export default { name: 'norange' };`,
      code: 'CRC_PLUGIN_INVALID',
      message: /caracal: must be a string: the plugin API range/,
    },
    {
      what: 'a wrong API range',
      name: 'future',
      source: `export default { name: 'future', caracal: '^2' };`,
      code: 'CRC_PLUGIN_VERSION',
      message: new RegExp(`^plugin future needs plugin API \\^2, but this Caracal provides plugin API ${PLUGIN_API_VERSION.replaceAll('.', '\\.')}$`),
    },
    {
      what: 'a range that does not parse',
      name: 'garbled',
      source: `export default { name: 'garbled', caracal: 'one' };`,
      code: 'CRC_PLUGIN_VERSION',
      message: /declares caracal: "one", which is not a semver range/,
    },
    {
      what: 'an import that throws',
      name: 'caracal-plugin-bad',
      source: `throw new Error('cannot find config file /etc/acme.json');`,
      code: 'CRC_PLUGIN_LOAD',
      message: /^plugin package caracal-plugin-bad failed to import \(.*index\.js\): cannot find config file \/etc\/acme\.json$/,
    },
    {
      what: 'a syntax error',
      name: 'caracal-plugin-bad',
      source: `export default { name: 'syntax' caracal: '^1' };`,
      code: 'CRC_PLUGIN_LOAD',
      message: /failed to import/,
    },
    {
      what: 'no default export',
      name: 'caracal-plugin-bad',
      source: `export const plugin = { name: 'named', caracal: '^1' };`,
      code: 'CRC_PLUGIN_INVALID',
      message: /exports undefined, not a plugin object or a factory/,
    },
    {
      what: 'a throwing factory',
      name: 'caracal-plugin-bad',
      source: `export default () => { throw new Error('option "url" is required'); };`,
      code: 'CRC_PLUGIN_LOAD',
      message: /its factory threw: option "url" is required/,
    },
  ];

  it.each(broken)('disables a plugin with $what, reports it by name, and loads the others', async ({ name, source, code, message, hint }) => {
    const home = newHome();
    installPackage(home, 'caracal-plugin-bad', source);
    installPackage(home, 'caracal-plugin-good', `export default { name: 'good', caracal: '^1' };`);
    const { plugins, failures } = await loadPlugins({ builtins: [builtin('kernel')], home });
    expect(plugins.map((p) => p.name)).toEqual(['kernel', 'good']);
    expect(failures).toHaveLength(1);
    const failure = failures[0]!;
    expect(failure).toMatchObject({ name, package: 'caracal-plugin-bad', version: '1.2.3', source: 'npm', status: 'failed', code });
    expect(failure.error).toMatch(message);
    if (hint) expect(failure.hint).toMatch(hint);
  });

  it('reports a package listed in package.json but missing from node_modules', async () => {
    const home = newHome();
    mkdirSync(join(home, 'plugins'), { recursive: true });
    writeFileSync(join(home, 'plugins/package.json'), JSON.stringify({ dependencies: { 'caracal-plugin-gone': 'file:../gone.tgz' } }));
    const { failures } = await loadPlugins({ builtins: [], home });
    expect(failures[0]?.error).toMatch(/^plugin package caracal-plugin-gone is not installed \(no .*package\.json\)$/);
    expect(failures[0]?.hint).toBe('install it again: caracal plugin add ../gone.tgz');
  });

  it('disables a plugin whose setup throws, drops its hooks, and keeps the others', async () => {
    const home = newHome();
    installPackage(
      home,
      'caracal-plugin-setup',
      `export default { name: 'flaky', caracal: '^1', hooks: { setup() { throw new Error('no license key'); }, authorize: () => ({ effect: 'deny' }) } };`,
    );
    const { plugins, failures, driver } = await loadPlugins({ builtins: [builtin('kernel')], home });
    expect(plugins.map((p) => p.name)).toEqual(['kernel']);
    expect(failures).toMatchObject([
      { name: 'flaky', package: 'caracal-plugin-setup', status: 'failed', code: 'CRC_PLUGIN_HOOK_FAILED', error: 'plugin "flaky" failed in hook setup: no license key' },
    ]);
    expect(driver.has('authorize')).toBe(false);
  });

  it('refuses a second plugin with a name already taken', async () => {
    const home = newHome();
    installPackage(home, 'caracal-plugin-imposter', `export default { name: 'kernel', caracal: '^1' };`);
    const { failures } = await loadPlugins({ builtins: [builtin('kernel')], home });
    expect(failureOf(failures, 'kernel')?.error).toBe('plugin kernel (package caracal-plugin-imposter) has the same name as the built-in plugin kernel, which loaded first');
  });

  it('reports a malformed built-in like any other plugin', async () => {
    const { failures } = await loadPlugins({ builtins: [{ name: 'odd', caracal: '^9' }], home: newHome() });
    expect(failures).toMatchObject([{ name: 'odd', source: 'builtin', code: 'CRC_PLUGIN_VERSION' }]);
  });

  describe('required plugins', () => {
    it('throws CRC_PLUGIN_LOAD naming a required plugin that failed, after tearing down the others', async () => {
      const home = newHome();
      const stopped: string[] = [];
      installPackage(home, 'caracal-plugin-needed', `export default { name: 'needed', caracal: '^2' };`);
      const error = await loadPlugins({
        builtins: [builtin('kernel', { hooks: { teardown: () => void stopped.push('kernel') } })],
        home,
        required: ['needed'],
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CaracalError);
      expect((error as CaracalError).code).toBe('CRC_PLUGIN_LOAD');
      expect((error as CaracalError).message).toBe(
        `required plugin needed failed to load: plugin needed needs plugin API ^2, but this Caracal provides plugin API ${PLUGIN_API_VERSION}`,
      );
      expect(stopped).toEqual(['kernel']);
    });

    it('throws when a required plugin’s setup fails', async () => {
      const home = newHome();
      installPackage(home, 'caracal-plugin-needed', `export default { name: 'needed', caracal: '^1', hooks: { setup: () => Promise.reject(new Error('db down')) } };`);
      await expect(loadPlugins({ builtins: [], home, required: ['caracal-plugin-needed'] })).rejects.toThrow(
        'required plugin caracal-plugin-needed failed to load: plugin "needed" failed in hook setup: db down',
      );
    });

    it('throws when a required plugin is not installed', async () => {
      await expect(loadPlugins({ builtins: [], home: newHome(), required: ['caracal-plugin-audit'] })).rejects.toThrow(
        'required plugin caracal-plugin-audit is not installed',
      );
    });

    it('loads normally when every required plugin loads', async () => {
      const { plugins } = await loadPlugins({ builtins: [builtin('kernel')], home: newHome(), required: ['kernel'] });
      expect(plugins).toHaveLength(1);
    });
  });
});
