import { contributionLines, type PluginRow } from '../models/plugins.js';
import { color, esc } from '../tags.js';
import { listView } from './list-view.js';

/**
 * Plugins: built-in and installed, loaded or failed with the reason (the loader's report, as
 * `caracal plugin list`), and in the detail pane what each loaded plugin contributes.
 */
export const pluginsView = listView<PluginRow>({
  id: 'plugins',
  title: 'Plugins',
  summary: 'built-in and installed plugins: loaded, or failed with the reason',
  aliases: ['plugin'],
  goKey: 'p',
  columns: [
    { title: 'name', width: 28, priority: 0, text: (p) => p.name },
    { title: 'version', width: 9, priority: 3, text: (p) => p.version ?? '-' },
    { title: 'source', width: 9, priority: 2, text: (p) => (p.source === 'builtin' ? 'built-in' : p.source) },
    { title: 'status', width: 7, priority: 0, text: (p) => p.status, color: (p) => (p.status === 'loaded' ? 'green' : 'red') },
    { title: 'detail', width: 60, flex: true, min: 10, priority: 1, text: (p) => (p.error === null ? '' : p.error) },
  ],
  load: async (ctx) => {
    const { loadPlugins } = await import('../../core/plugin/loader.js');
    const { toEntry } = await import('../../core/cli/commands/plugin.js');
    const result = await loadPlugins({ builtins: ctx.cli.builtins, home: ctx.cli.settings().home, mode: 'check' });
    await result.driver.runHook('teardown', { reason: 'shutdown' });
    return result.records.map((record) => ({ ...toEntry(record), contributes: contributionLines(record.status === 'loaded' ? record.plugin : undefined) }));
  },
  searchText: (p) => `${p.name} ${p.package ?? ''} ${p.status} ${p.error ?? ''}`,
  empty: () => 'no plugin',
  detail: (p) =>
    [
      `${esc(p.name)} ${color('gray', esc(`${p.version ?? ''} ${p.package ?? ''} ${p.source}`))}`,
      p.status === 'loaded' ? color('green', 'loaded') : `${color('red', 'failed:')} ${esc(p.error ?? '')}`,
      p.hint === null ? '' : `${color('cyan', 'hint:')} ${esc(p.hint)}`,
      ...p.contributes.map((line) => esc(line)),
    ]
      .filter((l) => l !== '')
      .join('\n'),
});
