import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kernelPlugin } from '../../../plugins/kernel/index.js';
import type { PluginRecord } from '../../plugin/loader.js';
import { PLUGIN_API_VERSION } from '../../plugin/types.js';
import { Command } from 'commander';
import { toCaracalError } from '../../errors.js';
import { createCliContext } from '../context.js';
import { formatPluginTable, toEntry, type PluginListEntry } from './plugin.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'caracal-plugin-cmd-'));
  homes.push(home);
  return home;
}

/**
 * Runs `caracal <argv>` in process, the way core/cli/main.ts wires it (a program with `--home`
 * and the kernel plugin's commands), and collects what it printed and its exit code.
 */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const program = new Command('caracal').version('9.9.9').option('--home <dir>').exitOverride();
    program.configureOutput({ writeErr: (text) => process.stderr.write(text), writeOut: (text) => process.stdout.write(text) });
    const cli = createCliContext(() => ({ home: program.opts<{ home: string }>().home }), [kernelPlugin]);
    for (const command of kernelPlugin.commands) command.register(program, cli);
    let code = 0;
    try {
      await program.parseAsync(['node', 'caracal', ...argv]);
    } catch (error) {
      const err = toCaracalError(error);
      code = error instanceof Error && error.name === 'CommanderError' ? 2 : err.exitCode;
      process.stderr.write(`[${err.code}] ${err.message}\n${err.hint ?? ''}\n`);
    }
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('caracal plugin list', () => {
  it('prints every plugin as JSON with the contract keys', async () => {
    const home = newHome();
    mkdirSync(join(home, 'plugins/node_modules/caracal-plugin-x'), { recursive: true });
    writeFileSync(join(home, 'plugins/package.json'), JSON.stringify({ dependencies: { 'caracal-plugin-x': '^3.0.0' } }));
    writeFileSync(join(home, 'plugins/node_modules/caracal-plugin-x/package.json'), JSON.stringify({ name: 'caracal-plugin-x', version: '3.1.0', type: 'module' }));
    writeFileSync(join(home, 'plugins/node_modules/caracal-plugin-x/index.js'), `export default { name: 'x', caracal: '^7' };`);

    const { code, stdout, stderr } = await run('--home', home, 'plugin', 'list', '--json');

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const entries = JSON.parse(stdout) as PluginListEntry[];
    expect(entries).toEqual([
      { name: 'kernel', package: null, version: '9.9.9', source: 'builtin', status: 'loaded', error: null, hint: null },
      {
        name: 'x',
        package: 'caracal-plugin-x',
        version: '3.1.0',
        source: 'npm',
        status: 'failed',
        error: `plugin x needs plugin API ^7, but this Caracal provides plugin API ${PLUGIN_API_VERSION}`,
        hint: `install a version of x made for plugin API ${PLUGIN_API_VERSION}, or a Caracal that provides ^7`,
      },
    ]);
  });
});

describe('caracal plugin remove', () => {
  it('refuses a built-in plugin with a usage error', async () => {
    const { code, stderr } = await run('--home', newHome(), 'plugin', 'remove', 'kernel');
    expect(code).toBe(2);
    expect(stderr).toContain('[CRC_USAGE] plugin kernel is built in to Caracal and cannot be removed');
  });

  it('says which plugins are installed when the name is unknown', async () => {
    const home = newHome();
    mkdirSync(join(home, 'plugins'), { recursive: true });
    writeFileSync(join(home, 'plugins/package.json'), JSON.stringify({ dependencies: { 'caracal-plugin-a': '^1.0.0' } }));
    const { code, stderr } = await run('--home', home, 'plugin', 'remove', 'b');
    expect(code).toBe(3);
    expect(stderr).toContain('no installed plugin is named b');
    expect(stderr).toContain('installed plugin packages: caracal-plugin-a');
  });
});

describe('caracal plugin add', () => {
  it.each([
    ['a missing tarball', './nowhere-1.0.0.tgz', 1, 'no such file or folder'],
    ['a folder without package.json', '.', 1, 'has no package.json'],
    ['an option-looking name', '--registry=http://evil', 2, "unknown option '--registry=http://evil'"],
    ['a git URL', 'git+https://example.com/x.git', 1, 'no such file or folder'],
  ])('refuses %s before running npm, creating nothing', async (_what, target, code, message) => {
    const home = newHome();
    const cwd = process.cwd();
    process.chdir(home);
    try {
      const result = await run('--home', home, 'plugin', 'add', target);
      expect(result.code).toBe(code);
      expect(result.stderr).toContain(message);
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(join(home, 'plugins'))).toBe(false);
  });
});

describe('formatPluginTable', () => {
  const records: PluginRecord[] = [
    { name: 'kernel', package: null, version: '0.1.0', source: 'builtin', status: 'loaded', error: null, plugin: { name: 'kernel', caracal: '^1' } },
    {
      name: 'old',
      package: 'caracal-plugin-old',
      version: null,
      source: 'dir',
      status: 'failed',
      error: 'plugin old needs plugin API ^0.9',
      hint: 'install a newer version',
      code: 'CRC_PLUGIN_VERSION',
    },
  ];

  it('shows source, status and, for failures, the reason and the fix', () => {
    expect(formatPluginTable(records.map(toEntry)).split('\n')).toEqual([
      'NAME    VERSION  SOURCE                    STATUS  DETAIL',
      'kernel  0.1.0    built-in                  loaded',
      'old     -        dir (caracal-plugin-old)  failed  plugin old needs plugin API ^0.9 — install a newer version',
    ]);
  });
});
