import type { PluginListEntry } from '../../core/cli/commands/plugin.js';
import type { Plugin } from '../../core/plugin/types.js';

/** A row of the Plugins view: the `caracal plugin list` entry, plus what a loaded plugin contributes. */
export interface PluginRow extends PluginListEntry {
  /** One line per kind of contribution, e.g. `scenarios: acme-weather`; empty for a failed plugin. */
  readonly contributes: readonly string[];
}

/**
 * What a plugin adds, by kind, in the words of the plugin API (docs/plugins.md), so an installed
 * plugin's scenario or sink type can be found in the console without reading its code.
 */
export function contributionLines(plugin: Plugin | undefined): string[] {
  if (plugin === undefined) return [];
  const kinds: [string, readonly { readonly id?: string; readonly name?: string; readonly kind?: string }[] | undefined][] = [
    ['scenarios', plugin.scenarios],
    ['runtimes', plugin.runtimes],
    ['audit sinks', plugin.sinks],
    ['provider kinds', plugin.providers],
    ['commands', plugin.commands],
    ['services', plugin.services],
  ];
  const lines = kinds
    .filter(([, items]) => items !== undefined && items.length > 0)
    .map(([label, items]) => `${label}: ${(items ?? []).map((item) => item.id ?? item.kind ?? item.name ?? '?').join(', ')}`);
  const hooks = Object.keys(plugin.hooks ?? {});
  if (hooks.length > 0) lines.push(`hooks: ${hooks.join(', ')}`);
  return lines;
}
