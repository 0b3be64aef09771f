import type { Command } from 'commander';
import type { PluginRecord } from '../../plugin/loader.js';
import type { CommandContribution } from '../../plugin/types.js';
import type { CliContext } from '../context.js';
import { canColor, formatTable, painter, printJson } from '../output.js';

/** One plugin as `caracal plugin list --json` prints it (a stable contract: keys may be added, none renamed). */
export interface PluginListEntry {
  readonly name: string;
  readonly package: string | null;
  readonly version: string | null;
  readonly source: 'builtin' | 'npm' | 'dir' | 'tarball';
  readonly status: 'loaded' | 'failed';
  readonly error: string | null;
  readonly hint: string | null;
}

/** `caracal plugin add|list|remove` (DESIGN.md §2a, §9). */
export const pluginCommand: CommandContribution = {
  name: 'plugin',
  register(program: Command, cli: CliContext): void {
    // Built-ins carry Caracal's own version, which the program was given.
    const builtinVersion = (): { builtinVersion?: string } => {
      const version = program.version();
      return version === undefined ? {} : { builtinVersion: version };
    };
    const plugin = program.command('plugin').description('add, list and remove plugins (installed into CARACAL_HOME/plugins)');

    plugin
      .command('add')
      .description('install a plugin from npm, a tarball or a folder, and check that it loads')
      .argument('<name>', 'npm package name (with optional @version), path of a .tgz, or a package folder')
      .option('--allow-scripts', "let npm run the package's install scripts (off by default)")
      .option('--json', 'print the installed plugin as JSON')
      .action(async (target: string, opts: { allowScripts?: boolean; json?: boolean }) => {
        const { addPlugin } = await import('../../plugin/install.js');
        const record = await addPlugin(target, {
          home: cli.settings().home,
          builtins: cli.builtins,
          allowScripts: opts.allowScripts === true,
          ...builtinVersion(),
        });
        if (opts.json === true) printJson(toEntry(record));
        else process.stdout.write(`added plugin ${record.name}${record.version === null ? '' : ` ${record.version}`} (package ${record.package ?? '?'}, ${record.source})\n`);
      });

    plugin
      .command('list')
      .description('list built-in and installed plugins with their load status')
      .option('--json', 'print JSON')
      .action(async (opts: { json?: boolean }) => {
        const { loadPlugins } = await import('../../plugin/loader.js');
        const result = await loadPlugins({ builtins: cli.builtins, home: cli.settings().home, mode: 'check', ...builtinVersion() });
        await result.driver.runHook('teardown', { reason: 'shutdown' });
        const entries = result.records.map(toEntry);
        if (opts.json === true) printJson(entries);
        else process.stdout.write(`${formatPluginTable(entries, canColor(process.stdout))}\n`);
      });

    plugin
      .command('remove')
      .description('uninstall an installed plugin (built-in plugins cannot be removed)')
      .argument('<name>', 'plugin or package name')
      .action(async (name: string) => {
        const { removePlugin } = await import('../../plugin/install.js');
        const removed = await removePlugin(name, { home: cli.settings().home, builtins: cli.builtins });
        process.stdout.write(`removed plugin package ${removed.package}\n`);
      });
  },
};

/** The JSON entry of one plugin record. */
export function toEntry(record: PluginRecord): PluginListEntry {
  return {
    name: record.name,
    package: record.package,
    version: record.version,
    source: record.source,
    status: record.status,
    error: record.error,
    hint: record.status === 'failed' ? record.hint : null,
  };
}

/** Formats plugin entries as the table `caracal plugin list` prints. */
export function formatPluginTable(entries: readonly PluginListEntry[], color = false): string {
  const paint = painter(color);
  const rows = entries.map((e) => [
    e.name,
    e.version ?? '-',
    e.source === 'builtin' ? 'built-in' : `${e.source}${e.package !== null && e.package !== e.name ? ` (${e.package})` : ''}`,
    e.status === 'loaded' ? paint('green', 'loaded') : paint('red', 'failed'),
    e.error === null ? '' : e.hint === null ? e.error : `${e.error} — ${e.hint}`,
  ]);
  return formatTable(['name', 'version', 'source', 'status', 'detail'], rows);
}
