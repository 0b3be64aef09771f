import { closestWord } from '../core/domain/closest.js';

/**
 * The `:` command palette's parser (pure). A line is one of:
 * - a view name or alias, optionally after `go` (`audit`, `go policies`, `policy`);
 * - a command and its argument (`zone prod`, `explain req_01…`, `setup`, `quit`);
 * - a pasted request ID on its own (`req_…`), which means `explain <it>`.
 * Names are matched case-insensitively; a misspelt one gets a "did you mean".
 */

/** What the palette knows: the registered views and commands (names and aliases only). */
export interface PaletteCatalog {
  readonly views: readonly { readonly id: string; readonly aliases?: readonly string[] | undefined }[];
  readonly commands: readonly {
    readonly name: string;
    readonly aliases?: readonly string[] | undefined;
    readonly arg: 'none' | 'optional' | 'required';
    readonly usage: string;
  }[];
}

/** The outcome of parsing one palette line. */
export type PaletteAction =
  | { readonly kind: 'view'; readonly id: string }
  | { readonly kind: 'command'; readonly name: string; readonly arg: string | undefined }
  | { readonly kind: 'error'; readonly message: string };

/** Request IDs the Gateway and `caracal run` mint; a bare one pasted into the palette is explained. */
const REQUEST_ID = /^req_[0-9A-Za-z]{6,}$/;

function names(entry: { readonly aliases?: readonly string[] | undefined }, main: string): string[] {
  return [main, ...(entry.aliases ?? [])].map((n) => n.toLowerCase());
}

/** Parses one palette line against the catalog. */
export function parsePalette(line: string, catalog: PaletteCatalog): PaletteAction {
  const text = line.trim();
  if (text === '') return { kind: 'error', message: 'type a view name (audit, apps, …) or a command (zone, explain …); tab completes' };
  const space = text.search(/\s/);
  const head = (space === -1 ? text : text.slice(0, space)).toLowerCase();
  const rest = space === -1 ? '' : text.slice(space).trim();

  if (space === -1 && REQUEST_ID.test(text) && catalog.commands.some((c) => c.name === 'explain')) {
    return { kind: 'command', name: 'explain', arg: text };
  }
  if (head === 'go') {
    if (rest === '') return { kind: 'error', message: `go where? one of ${catalog.views.map((v) => v.id).join(', ')}` };
    return viewAction(rest.toLowerCase(), catalog);
  }
  const command = catalog.commands.find((c) => names(c, c.name).includes(head));
  if (command !== undefined) {
    if (command.arg === 'none' && rest !== '') return { kind: 'error', message: `${command.name} takes no argument (usage: ${command.usage})` };
    if (command.arg === 'required' && rest === '') return { kind: 'error', message: `${command.name} needs an argument (usage: ${command.usage})` };
    return { kind: 'command', name: command.name, arg: rest === '' ? undefined : rest };
  }
  if (rest !== '') return unknown(head, catalog);
  return viewAction(head, catalog);
}

function viewAction(name: string, catalog: PaletteCatalog): PaletteAction {
  const view = catalog.views.find((v) => names(v, v.id).includes(name));
  return view === undefined ? unknown(name, catalog) : { kind: 'view', id: view.id };
}

function unknown(name: string, catalog: PaletteCatalog): PaletteAction {
  const all = [...catalog.views.flatMap((v) => names(v, v.id)), ...catalog.commands.flatMap((c) => names(c, c.name))];
  const near = closestWord(name, all);
  return { kind: 'error', message: `unknown view or command "${name}"${near === undefined ? '; tab lists them' : `; did you mean ${near}?`}` };
}

/** The names that complete what was typed so far (views and commands, sorted; empty input lists all). */
export function completePalette(line: string, catalog: PaletteCatalog): string[] {
  const prefix = line.trimStart().toLowerCase();
  if (/\s/.test(prefix)) return [];
  const all = new Set([...catalog.views.map((v) => v.id), ...catalog.commands.map((c) => c.name)]);
  return [...all].filter((n) => n.startsWith(prefix)).sort();
}
