import { CaracalError } from '../core/errors.js';

/**
 * The console's one keymap registry (DESIGN.md §10, STYLE.md "keybindings are data"): global
 * bindings plus the bindings of the view on top. The same data drives key dispatch, the hint bar
 * and the `?` help overlay, so what the screen says a key does is what it does. Pure: no blessed.
 *
 * Key names are blessed's `key.full` names: `q`, `S-r` (shift+r, i.e. `R`), `C-c`, `enter`,
 * `escape`, `up`, `pagedown`, `space`, `?`, `/`, `:`. Bind `enter`, never `return` (blessed
 * reports a carriage return as both, so binding both would run the action twice).
 */

/** One key binding: what it does, how it is described, and when it may not be used. */
export interface KeyBinding {
  /** The key names that trigger it; the first one is shown in hints. */
  readonly keys: readonly string[];
  /** A word or two for the hint bar (`rotate`, `filter`). */
  readonly label: string;
  /** One sentence for the help overlay. */
  readonly help: string;
  /** Shown in the hint bar (default true); navigation keys usually set false to save room. */
  readonly hint?: boolean;
  /** Destructive: the app asks "are you sure" (with `help` as the question) before running it. */
  readonly dangerous?: boolean;
  /** Returns why the binding cannot be used right now (shown instead of running it), or undefined. */
  readonly disabled?: () => string | undefined;
  /** The action; a returned promise is awaited by the app, which shows its failure in the status line. */
  readonly run: () => void | Promise<void>;
}

/** A binding together with where it came from. */
export interface ResolvedBinding {
  readonly binding: KeyBinding;
  readonly scope: 'global' | 'view';
}

/** One row of the help overlay. */
export interface HelpLine {
  readonly keys: string;
  readonly help: string;
  readonly scope: 'global' | 'view';
  /** Why the binding is disabled right now, if it is. */
  readonly disabled?: string;
}

/** The registry the app shell owns; views hand their bindings to it when they come on top. */
export interface KeymapRegistry {
  /** Replaces the view bindings (the view on top); throws CRC_INTERNAL naming the key on a conflict. */
  setView(viewId: string, bindings: readonly KeyBinding[]): void;
  /** The binding a key name triggers, if any. */
  resolve(key: string): ResolvedBinding | undefined;
  /**
   * The hint-bar text: view bindings first, then global ones, cut to `width` columns. While the
   * view reads typed text (`typing`), global keys are text, not commands: only the view's
   * bindings and `^C quit` are hinted.
   */
  hints(width: number, typing?: boolean): string;
  /** The help overlay's rows: the view's bindings, then the global ones. */
  help(): readonly HelpLine[];
}

const DISPLAY: Readonly<Record<string, string>> = {
  escape: 'esc',
  enter: 'enter',
  space: 'space',
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  tab: 'tab',
  'S-tab': 'S-tab',
};

/** How a key name is shown to people: `S-r` → `R`, `C-c` → `^C`, `escape` → `esc`. */
export function displayKey(key: string): string {
  const known = DISPLAY[key];
  if (known !== undefined) return known;
  if (/^S-[a-z]$/.test(key)) return key.slice(2).toUpperCase();
  if (/^C-[a-z]$/.test(key)) return `^${key.slice(2).toUpperCase()}`;
  return key;
}

/** Throws when two bindings of `bindings` (or a binding and `taken`) share a key. */
function checkConflicts(owner: string, bindings: readonly KeyBinding[], taken: ReadonlyMap<string, string>): Map<string, KeyBinding> {
  const byKey = new Map<string, KeyBinding>();
  for (const binding of bindings) {
    if (binding.keys.length === 0) throw new CaracalError('CRC_INTERNAL', `${owner}: the binding "${binding.label}" has no key`);
    for (const key of binding.keys) {
      const other = byKey.get(key);
      if (other !== undefined) {
        throw new CaracalError('CRC_INTERNAL', `${owner}: key ${displayKey(key)} is bound twice ("${other.label}" and "${binding.label}")`, {
          hint: 'give one of them another key',
        });
      }
      const holder = taken.get(key);
      if (holder !== undefined) {
        throw new CaracalError('CRC_INTERNAL', `${owner}: key ${displayKey(key)} ("${binding.label}") is already the global key for "${holder}"`, {
          hint: 'views may not rebind global keys; pick another key',
        });
      }
      byKey.set(key, binding);
    }
  }
  return byKey;
}

function hintItem(binding: KeyBinding): string {
  return `${displayKey(binding.keys[0] ?? '')} ${binding.label}`;
}

/** Creates the registry over the global bindings (checked for conflicts among themselves). */
export function createKeymap(globals: readonly KeyBinding[]): KeymapRegistry {
  const globalByKey = checkConflicts('global keymap', globals, new Map());
  const globalLabels = new Map([...globalByKey].map(([key, binding]) => [key, binding.label]));
  let viewBindings: readonly KeyBinding[] = [];
  let viewByKey = new Map<string, KeyBinding>();

  return {
    setView(viewId, bindings) {
      viewByKey = checkConflicts(`view "${viewId}"`, bindings, globalLabels);
      viewBindings = bindings;
    },
    resolve(key) {
      const view = viewByKey.get(key);
      if (view !== undefined) return { binding: view, scope: 'view' };
      const global = globalByKey.get(key);
      return global === undefined ? undefined : { binding: global, scope: 'global' };
    },
    hints(width, typing = false) {
      const shown = (b: KeyBinding) => b.hint !== false && b.disabled?.() === undefined;
      const items = typing ? [...viewBindings.filter(shown).map(hintItem), '^C quit'] : [...viewBindings, ...globals].filter(shown).map(hintItem);
      let text = '';
      for (const item of items) {
        const next = text === '' ? item : `${text}  ${item}`;
        if (next.length > width) break;
        text = next;
      }
      return text;
    },
    help() {
      const line = (scope: 'global' | 'view') => (b: KeyBinding): HelpLine => {
        const disabled = b.disabled?.();
        return { keys: b.keys.map(displayKey).join(' '), help: b.help, scope, ...(disabled === undefined ? {} : { disabled }) };
      };
      return [...viewBindings.map(line('view')), ...globals.map(line('global'))];
    },
  };
}

/** The help overlay's text lines, keys aligned in one column. */
export function helpText(lines: readonly HelpLine[], viewTitle: string): string[] {
  const width = Math.max(4, ...lines.map((l) => l.keys.length));
  const out: string[] = [];
  for (const scope of ['view', 'global'] as const) {
    const rows = lines.filter((l) => l.scope === scope);
    if (rows.length === 0) continue;
    if (out.length > 0) out.push('');
    out.push(scope === 'view' ? viewTitle : 'Everywhere');
    for (const row of rows) out.push(`  ${row.keys.padEnd(width)}  ${row.help}${row.disabled === undefined ? '' : ` (unavailable: ${row.disabled})`}`);
  }
  return out;
}
