import type { Widgets } from 'blessed';
import type { CliContext } from '../core/cli/context.js';
import type { AdminClient } from '../core/control/admin-client.js';
import type { KeyBinding } from './keymap.js';
import type { Prefs } from './prefs.js';

/**
 * The console's view contract (docs/design.md "Console view contract"). Every screen — Home, the
 * lists, Audit, Explain, and the guided setup another module contributes — is a `ViewFactory`
 * registered with the app shell (tui/app.ts). The shell owns the screen, the header, breadcrumb,
 * status line, hint bar, help overlay, palette and prompts; a view only fills the body box it is
 * given and hands its key bindings to the one keymap registry. Views keep their state in pure
 * models (tui/models/) and never block the UI loop: every admin call goes through `ctx.task`.
 */

/** The zone the console is working in. */
export interface ZoneRef {
  readonly id: string;
  readonly name: string;
}

/** What a view is opened with (e.g. `{ requestId }` for Explain); strings, so the palette can build them. */
export type ViewParams = Readonly<Record<string, string>>;

/** One mounted screen. Created by its factory each time it is pushed; discarded after `unmount`. */
export interface View {
  /** The breadcrumb segment, e.g. `Apps` or `Explain req_01…`; read again at every repaint. */
  title(): string;
  /**
   * The view's key bindings, given to the keymap registry when the view comes on top (and again
   * after `ctx.rebind()`). They may not reuse a global key (q, ?, :, /, esc, C-c, g, z): the
   * registry refuses the view with the conflicting key named. Use `disabled` to say why a key
   * cannot be used right now instead of leaving it out.
   */
  keys(): readonly KeyBinding[];
  /** Creates the view's widgets inside `body` (already sized to the free area) and starts loading. */
  mount(body: Widgets.BoxElement): void;
  /** Stops timers and streams and detaches widgets (the shell destroys `body` afterwards). */
  unmount(): void;
  /** Reloads the view's data (the `r` key, a zone switch, a return from a pushed view). */
  refresh(): void;
  /** The terminal was resized: recompute what depends on the width (columns shown, truncation). */
  resize?(): void;
  /** The `/` filter: lists implement it; absent means the shell says "nothing to filter here". */
  filter?(text: string): void;
  /** The current filter text (the `/` prompt starts from it). */
  filterText?(): string;
  /** Called when the current zone changed while this view is on top; default: `refresh()`. */
  zoneChanged?(): void;
}

/** How the shell makes a view, and how people reach it. */
export interface ViewFactory {
  /** The palette name (`audit`, `apps`, `setup`); unique. */
  readonly id: string;
  /** The name in menus and help (`Audit`). */
  readonly title: string;
  /** One line for the palette and the Home menu. */
  readonly summary: string;
  /** More palette names (`policy` for `policies`). */
  readonly aliases?: readonly string[];
  /** The view works inside a zone: without one, the shell opens Zones first and says why. */
  readonly needsZone?: boolean;
  /** Shown in the Home menu and `g` go-to list (default true); Explain, reached from Audit, sets false. */
  readonly listed?: boolean;
  /** A single-key shortcut in the `g` go-to list (e.g. `a` for Audit). */
  readonly goKey?: string;
  create(ctx: AppContext, params: ViewParams): View;
}

/** A palette command other than "go to a view" (`explain <request-id>`, `zone <name>`, `setup`). */
export interface PaletteCommand {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** As shown in help: `explain <request-id>`. */
  readonly usage: string;
  readonly summary: string;
  /** Whether the command takes the rest of the line as its argument. */
  readonly arg: 'none' | 'optional' | 'required';
  run(ctx: AppContext, arg: string | undefined): void | Promise<void>;
}

/** What the console can be extended with (the guided setup registers its view and palette command this way). */
export interface ConsoleExtension {
  readonly views?: readonly ViewFactory[];
  readonly commands?: readonly PaletteCommand[];
}

/** A single-line question in the prompt bar. */
export interface AskOptions {
  readonly label: string;
  readonly initial?: string;
  /** Masks what is typed (the value stays in memory only). */
  readonly secret?: boolean;
  /** Returns a message when the answer is not acceptable; the prompt stays open and shows it. */
  readonly validate?: (value: string) => string | undefined;
  /** Tab completion: the candidates for what was typed (one is filled in; several are listed). */
  readonly complete?: (value: string) => readonly string[];
}

/** The status line above the hint bar. */
export interface StatusLine {
  /** A neutral message (replaces the previous one). */
  info(message: string): void;
  /** A success message, shown in green. */
  ok(message: string): void;
  /** An error, shown in red with its hint; never throws, never leaves the screen. */
  error(error: unknown): void;
}

/** What every view gets from the shell. */
export interface AppContext {
  /** The admin API client (core/control/admin-client.ts): the console talks to the stack only through it. */
  readonly client: AdminClient;
  /** Settings, home paths and the loaded plugins (scenarios for the guided setup). */
  readonly cli: CliContext;
  readonly screen: Widgets.Screen;
  /** Non-secret preferences (last zone, audit filters). */
  readonly prefs: Prefs;
  readonly status: StatusLine;
  /** The current zone, if one is chosen. */
  zone(): ZoneRef | undefined;
  /** Switches the current zone (header, prefs, and `zoneChanged` of the view on top). */
  setZone(zone: ZoneRef): void;
  /** Opens a view on top of the current one (the breadcrumb grows). Unknown IDs are reported in the status line. */
  push(viewId: string, params?: ViewParams): void;
  /** Replaces the view on top (the breadcrumb keeps its length). */
  replace(viewId: string, params?: ViewParams): void;
  /** Returns to the previous view (esc); on Home it does nothing. */
  back(): void;
  /** The registered views (Home lists them; it offers `setup` first when the zone has no apps). */
  views(): readonly ViewFactory[];
  /**
   * Runs async work off the UI loop with a spinner and `label` in the status line; a failure is
   * shown there (with its hint) and resolves to undefined, so a view never crashes the screen.
   */
  task<T>(label: string, work: () => Promise<T>): Promise<T | undefined>;
  /** Asks for one line in the prompt bar; undefined when cancelled with esc. */
  ask(options: AskOptions): Promise<string | undefined>;
  /** Asks a yes/no question (y/n); dangerous bindings get this automatically. */
  confirm(question: string): Promise<boolean>;
  /**
   * While a widget of the view reads text (a form field), global and view keys are not dispatched
   * (so typing `q` does not quit); C-c still quits. Call the returned function when reading ends.
   */
  captureKeys(): () => void;
  /** Leaves the full screen (normal buffer, cooked input) for `work`, e.g. $EDITOR, then restores it. */
  suspend<T>(work: () => Promise<T>): Promise<T>;
  /** Re-reads the top view's `keys()` (after its mode changed). */
  rebind(): void;
  /** Repaints (header, breadcrumb, hint bar and body). Cheap; call it after changing widgets. */
  render(): void;
  /** Quits the console (the terminal is restored). */
  quit(): void;
}
