import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PluginListEntry } from '../core/cli/commands/plugin.js';
import { PLUGIN_API_VERSION } from '../core/plugin/types.js';

// End to end: the built `caracal` bin in a child process, real `npm pack` and `npm install`
// (offline: every package here is local and has no dependencies).
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/caracal.js');
const env = { ...process.env, NO_COLOR: '1', npm_config_offline: 'true', npm_config_update_notifier: 'false' };
const NPM_TEST_TIMEOUT = 90_000;

let work: string;
let helloTarball: string;

/** Runs `caracal --home <home> …args`. */
function caracal(home: string, ...args: string[]) {
  return execa(process.execPath, [bin, '--home', home, ...args], { reject: false, env, cwd: work });
}

/** Lists the plugins of a home through the CLI. */
async function list(home: string): Promise<PluginListEntry[]> {
  const result = await caracal(home, 'plugin', 'list', '--json');
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as PluginListEntry[];
}

/** Names of the installed (not built-in) plugins, in list order. */
function installed(entries: readonly PluginListEntry[]): string[] {
  return entries.filter((e) => e.source !== 'builtin').map((e) => e.name);
}

/** Every file under a folder with its content, to prove that a failed command changed nothing. */
function tree(dir: string): Record<string, string> | null {
  if (!existsSync(dir)) return null;
  const files: Record<string, string> = {};
  const walk = (path: string, rel: string): void => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      const name = rel === '' ? entry : `${rel}/${entry}`;
      if (statSync(full).isDirectory()) walk(full, name);
      else files[name] = readFileSync(full, 'utf8');
    }
  };
  walk(dir, '');
  return files;
}

/** Writes a small plugin package folder. */
function writePackage(name: string, source: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '0.1.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), source);
  return dir;
}

function newHome(): string {
  return mkdtempSync(join(work, 'home-'));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'caracal-plugin-cli-'));
  await execa('npm', ['pack', join(root, 'test/fixtures/plugin-hello'), '--pack-destination', work, '--silent'], { env });
  helloTarball = join(work, 'caracal-plugin-hello-1.0.0.tgz');
  writePackage('caracal-plugin-boom', `throw new Error('boom: the plugin cannot start');\n`);
  writePackage('caracal-plugin-old', `export default { name: 'old', caracal: '^0.9' };\n`);
}, NPM_TEST_TIMEOUT);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('caracal plugin (built CLI, real npm)', () => {
  it('lists the built-in plugins, the kernel first, all loaded, in a fresh home', async () => {
    const entries = await list(newHome());
    expect(entries[0]).toEqual(expect.objectContaining({ name: 'kernel', package: null, source: 'builtin', status: 'loaded', error: null }));
    for (const entry of entries) expect(entry).toMatchObject({ source: 'builtin', status: 'loaded', error: null });
  });

  describe('add', () => {
    let home: string;
    beforeAll(async () => {
      home = newHome();
      const added = await caracal(home, 'plugin', 'add', helloTarball);
      expect(added.stderr).toBe('');
      expect(added.exitCode).toBe(0);
      expect(added.stdout).toBe('added plugin hello 1.0.0 (package caracal-plugin-hello, tarball)');
    }, NPM_TEST_TIMEOUT);

    it('installs a packed plugin into CARACAL_HOME/plugins and lists it as loaded after the built-ins', async () => {
      const entries = await list(home);
      expect(entries.at(-1)).toEqual({ name: 'hello', package: 'caracal-plugin-hello', version: '1.0.0', source: 'tarball', status: 'loaded', error: null, hint: null });
      expect(entries.slice(0, -1).every((e) => e.source === 'builtin')).toBe(true);
      const manifest = JSON.parse(readFileSync(join(home, 'plugins/package.json'), 'utf8')) as { dependencies: Record<string, string> };
      expect(Object.keys(manifest.dependencies)).toEqual(['caracal-plugin-hello']);
    });

    it("adds the installed plugin's commands to the CLI", async () => {
      const hello = await caracal(home, 'hello');
      expect(hello.exitCode).toBe(0);
      expect(hello.stdout).toContain('from a plugin');
      const help = await caracal(home, '--help');
      expect(help.stdout).toMatch(/hello\s+say hello \(from the caracal-plugin-hello/);
    });

    it('refuses a tarball path that does not exist, and leaves the plugins folder unchanged', async () => {
      const before = tree(join(home, 'plugins'));
      const result = await caracal(home, 'plugin', 'add', './missing-1.0.0.tgz');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`error [CRC_PLUGIN_INSTALL] cannot install ./missing-1.0.0.tgz: no such file or folder (${join(work, 'missing-1.0.0.tgz')})`);
      expect(tree(join(home, 'plugins'))).toEqual(before);
    });

    it("gives npm's reason for a file that is not a package tarball, and leaves the plugins folder unchanged", async () => {
      const before = tree(join(home, 'plugins'));
      const bogus = join(work, 'bogus-1.0.0.tgz');
      writeFileSync(bogus, 'not a tarball');
      const result = await caracal(home, 'plugin', 'add', bogus);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`[CRC_PLUGIN_INSTALL] npm could not install ${bogus}: npm error`);
      expect(result.stderr).toMatch(/TAR_BAD_ARCHIVE|Unrecognized archive|invalid/i);
      expect(tree(join(home, 'plugins'))).toEqual(before);
    }, NPM_TEST_TIMEOUT);

    it('refuses a plugin whose import throws, with the reason, and nothing of it remains', async () => {
      const before = tree(join(home, 'plugins'));
      const result = await caracal(home, 'plugin', 'add', join(work, 'caracal-plugin-boom'));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('is not a usable Caracal plugin: plugin package caracal-plugin-boom failed to import');
      expect(result.stderr).toContain('boom: the plugin cannot start');
      expect(tree(join(home, 'plugins'))).toEqual(before);
    }, NPM_TEST_TIMEOUT);

    it('refuses a plugin made for another plugin API range, naming the range', async () => {
      const before = tree(join(home, 'plugins'));
      const result = await caracal(home, 'plugin', 'add', join(work, 'caracal-plugin-old'));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`plugin old needs plugin API ^0.9, but this Caracal provides plugin API ${PLUGIN_API_VERSION}`);
      expect(tree(join(home, 'plugins'))).toEqual(before);
    }, NPM_TEST_TIMEOUT);

    it('does not create a plugins folder when the first add fails', async () => {
      const fresh = newHome();
      const result = await caracal(fresh, 'plugin', 'add', join(work, 'caracal-plugin-boom'));
      expect(result.exitCode).toBe(1);
      expect(existsSync(join(fresh, 'plugins'))).toBe(false);
    }, NPM_TEST_TIMEOUT);

    it('refuses to remove a built-in plugin', async () => {
      const result = await caracal(home, 'plugin', 'remove', 'kernel');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('[CRC_USAGE] plugin kernel is built in to Caracal and cannot be removed');
    });

    it('removes an installed plugin by its plugin name', async () => {
      const result = await caracal(home, 'plugin', 'remove', 'hello');
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('removed plugin package caracal-plugin-hello');
      expect(installed(await list(home))).toEqual([]);
      expect(existsSync(join(home, 'plugins/node_modules/caracal-plugin-hello'))).toBe(false);
      const missing = await caracal(home, 'plugin', 'remove', 'hello');
      expect(missing.exitCode).toBe(3);
      expect(missing.stderr).toContain('[CRC_NOT_FOUND] no installed plugin is named hello');
    }, NPM_TEST_TIMEOUT);
  });

  describe('list, with plugins that broke after they were installed', () => {
    let home: string;
    beforeAll(async () => {
      // As after an upgrade of Caracal or of a dependency: the packages sit in the prefix but no longer load.
      home = newHome();
      const prefix = join(home, 'plugins');
      mkdirSync(prefix);
      writeFileSync(join(prefix, 'package.json'), JSON.stringify({ name: 'caracal-plugins', private: true, dependencies: {} }));
      await execa(
        'npm',
        ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--ignore-scripts', helloTarball, join(work, 'caracal-plugin-boom'), join(work, 'caracal-plugin-old')],
        { env, cwd: prefix },
      );
    }, NPM_TEST_TIMEOUT);

    it('lists each as failed with its reason, and the good one as loaded', async () => {
      const entries = await list(home);
      const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
      expect(installed(entries)).toEqual(['caracal-plugin-boom', 'hello', 'old']);
      expect(byName.hello).toMatchObject({ status: 'loaded', source: 'tarball' });
      expect(byName['caracal-plugin-boom']).toMatchObject({ package: 'caracal-plugin-boom', source: 'dir', status: 'failed' });
      expect(byName['caracal-plugin-boom']?.error).toMatch(/^plugin package caracal-plugin-boom failed to import \(.*\): boom: the plugin cannot start$/);
      expect(byName.old).toMatchObject({
        package: 'caracal-plugin-old',
        status: 'failed',
        error: `plugin old needs plugin API ^0.9, but this Caracal provides plugin API ${PLUGIN_API_VERSION}`,
      });
    });

    it('names the disabled plugins in caracal status, and the other plugins still work', async () => {
      const status = await caracal(home, 'status', '--json');
      const json = JSON.parse(status.stdout) as { plugin_failures: { name: string; error: string }[] };
      expect(json.plugin_failures.map((p) => p.name).sort()).toEqual(['caracal-plugin-boom', 'old']);
      expect(json.plugin_failures.find((p) => p.name === 'old')?.error).toContain('needs plugin API ^0.9');
      const hello = await caracal(home, 'hello');
      expect(hello.stdout).toContain('from a plugin');
    });

    it('shows the failures in the table for people', async () => {
      const result = await caracal(home, 'plugin', 'list');
      expect(result.exitCode).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines[0]).toMatch(/^NAME\s+VERSION\s+SOURCE\s+STATUS\s+DETAIL$/);
      expect(lines.find((l) => l.startsWith('old '))).toMatch(/dir \(caracal-plugin-old\)\s+failed\s+plugin old needs plugin API \^0\.9/);
    });

    it('removes a broken plugin by its package name', async () => {
      const result = await caracal(home, 'plugin', 'remove', 'caracal-plugin-boom');
      expect(result.exitCode).toBe(0);
      expect(installed(await list(home))).toEqual(['hello', 'old']);
    }, NPM_TEST_TIMEOUT);
  });
});
