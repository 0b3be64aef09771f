import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { CliContext } from '../core/cli/context.js';
import type { AdminClient } from '../core/control/admin-client.js';
import { isCaracalError } from '../core/errors.js';
import { createKeymap, helpText, type KeyBinding, type KeymapRegistry } from './keymap.js';
import { applyKey, lineState, visibleLine, type LineState } from './line-input.js';
import { returnParams } from './models/zone-return.js';
import { completePalette, parsePalette, type PaletteCatalog } from './palette.js';
import type { Prefs } from './prefs.js';
import { color, esc } from './tags.js';
import type { AppContext, AskOptions, ConsoleExtension, PaletteCommand, View, ViewFactory, ViewParams, ZoneRef } from './view.js';

/**
 * The console's app shell (DESIGN.md §10). It owns the screen and its fixed parts, top to bottom:
 *
 *   header      control URL · current zone · stack health
 *   breadcrumb  Home › Audit › Explain req_…
 *   body        the view on top of the navigation stack (a View from tui/view.ts)
 *   status      spinner and messages of ctx.task, errors with their hint
 *   hints       generated from the keymap registry (view keys, then global keys)
 *
 * and the overlays: `?` help (the current view's keys from the registry), `:` palette, the
 * one-line prompt (`/` filter, ctx.ask) and y/n confirmations. Every key goes through one
 * dispatcher: an open overlay first, then (unless a view captured the keys) the registry.
 */

/** One line of stack health for the header (control and gateway). */
export interface HealthLine {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ConsoleAppOptions {
  readonly screen: Widgets.Screen;
  readonly client: AdminClient;
  readonly cli: CliContext;
  readonly prefs: Prefs;
  /** Probes the stack for the header; called at start and every `healthEveryMs`. */
  readonly health?: () => Promise<readonly HealthLine[]>;
  readonly healthEveryMs?: number;
}

/** The running console. */
export interface ConsoleApp {
  readonly ctx: AppContext;
  /** Adds a view (before or after start); a duplicate ID throws. */
  registerView(factory: ViewFactory): void;
  /** Adds a palette command; a duplicate name throws. */
  registerCommand(command: PaletteCommand): void;
  /** Registers an extension's views and commands (the guided setup is one). */
  extend(extension: ConsoleExtension): void;
  /** Shows the first view (Home by default) and paints. */
  start(viewId?: string, params?: ViewParams): void;
  /** Stops views and timers and restores the terminal; resolves `done` with `code`. */
  quit(code?: number): void;
  /** Resolves with the exit code once the console has quit. */
  readonly done: Promise<number>;
}

interface Entry {
  readonly factory: ViewFactory;
  readonly view: View;
  body: Widgets.BoxElement;
}

type Overlay = (ch: string | undefined, key: { full: string }) => void;

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Creates the shell over a blessed screen; views and commands are registered before `start`. */
export function createConsoleApp(options: ConsoleAppOptions): ConsoleApp {
  const { screen, client } = options;
  const factories = new Map<string, ViewFactory>();
  const commands = new Map<string, PaletteCommand>();
  const stack: Entry[] = [];
  let zone: ZoneRef | undefined;
  let health: readonly HealthLine[] = [];
  let overlay: Overlay | undefined;
  let captured = 0;
  let tasks = 0;
  let spinnerFrame = 0;
  let statusText = '';
  /** The status texts of running tasks (with how many run under each), which are never restored. */
  const taskLabels = new Map<string, number>();
  let finished = false;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const header = blessed.box({ parent: screen, top: 0, left: 0, height: 1, width: '100%', tags: true, style: { bg: 'blue', fg: 'white' } });
  const crumbs = blessed.box({ parent: screen, top: 1, left: 0, height: 1, width: '100%', tags: true, style: { fg: 'cyan' } });
  const status = blessed.box({ parent: screen, bottom: 1, left: 0, height: 1, width: '100%', tags: true });
  const hints = blessed.box({ parent: screen, bottom: 0, left: 0, height: 1, width: '100%', tags: true, style: { bg: 'black', fg: 'gray' } });
  const prompt = blessed.box({ parent: screen, bottom: 1, left: 0, height: 1, width: '100%', tags: true, hidden: true, style: { bg: 'black', fg: 'white' } });

  // ---- rendering -------------------------------------------------------------------------

  let renderQueued = false;
  /** Coalesces repaints: many state changes in one tick paint once. */
  function render(): void {
    if (renderQueued || finished) return;
    renderQueued = true;
    setImmediate(() => {
      renderQueued = false;
      if (finished) return;
      paintChrome();
      screen.render();
    });
  }

  function paintChrome(): void {
    const width = Number(screen.width);
    const zoneText = zone === undefined ? color('yellow', 'no zone') : `zone ${esc(zone.name)}${width >= 100 ? ` (${esc(zone.id)})` : ''}`;
    const healthText = health.length === 0 ? 'checking…' : health.map((h) => `${esc(h.name)} ${h.ok ? '{green-fg}✔{/green-fg}' : '{red-fg}✖{/red-fg}'}`).join(' ');
    header.setContent(` {bold}caracal{/bold} · ${esc(client.controlUrl)} · ${zoneText}{|}${healthText} `);
    crumbs.setContent(` ${stack.map((e) => esc(e.view.title())).join(' › ')}`);
    hints.setContent(` ${esc(keymap.hints(Math.max(10, width - 2), captured > 0))}`);
    if (prompt.hidden) status.setContent(tasks > 0 ? ` ${SPINNER[spinnerFrame % SPINNER.length] ?? ''} ${statusText}` : ` ${statusText}`);
  }

  function setStatus(text: string): void {
    statusText = text;
    render();
  }

  const statusLine = {
    info: (message: string) => setStatus(esc(message)),
    ok: (message: string) => setStatus(color('green', esc(message))),
    error: (error: unknown) => setStatus(color('red', esc(errorText(error)))),
  };

  // ---- navigation ------------------------------------------------------------------------

  function bodyBox(): Widgets.BoxElement {
    return blessed.box({ parent: screen, top: 2, left: 0, bottom: 2, width: '100%' });
  }

  function activate(entry: Entry): void {
    try {
      keymap.setView(entry.factory.id, entry.view.keys());
    } catch (error) {
      keymap.setView(entry.factory.id, []);
      statusLine.error(error);
    }
    render();
  }

  function open(viewId: string, params: ViewParams, mode: 'push' | 'replace'): void {
    const factory = factories.get(viewId);
    if (factory === undefined) {
      statusLine.error(new Error(`no view named "${viewId}"`));
      return;
    }
    if (factory.needsZone === true && zone === undefined && viewId !== 'zones') {
      statusLine.info(`${factory.title} works inside a zone: pick or create one first`);
      // Zones opens the view asked for once a zone is picked (tui/models/zone-return.ts).
      if (stack.at(-1)?.factory.id !== 'zones' && factories.has('zones')) open('zones', returnParams(viewId, params), 'push');
      return;
    }
    if (mode === 'replace') closeTop();
    const top = stack.at(-1);
    if (top !== undefined) top.body.hide();
    const body = bodyBox();
    let view: View;
    try {
      view = factory.create(ctx, params);
      const entry: Entry = { factory, view, body };
      stack.push(entry);
      view.mount(body);
      activate(entry);
    } catch (error) {
      body.destroy();
      if (top !== undefined) {
        top.body.show();
        activate(top);
      }
      statusLine.error(error);
    }
  }

  function closeTop(): void {
    const entry = stack.pop();
    if (entry === undefined) return;
    try {
      entry.view.unmount();
    } catch (error) {
      statusLine.error(error);
    }
    entry.body.destroy();
  }

  function back(): void {
    if (stack.length <= 1) return;
    closeTop();
    const top = stack.at(-1);
    if (top === undefined) return;
    top.body.show();
    activate(top);
    top.view.refresh();
  }

  // ---- tasks, overlays, prompts -----------------------------------------------------------

  const spinner = setInterval(() => {
    if (tasks === 0) return;
    spinnerFrame++;
    render();
  }, 100);
  spinner.unref();

  async function task<T>(label: string, work: () => Promise<T>): Promise<T | undefined> {
    tasks++;
    const text = esc(`${label}…`);
    // A message shown just before (e.g. "agent created", then the list reloads) comes back afterwards.
    const before = taskLabels.has(statusText) ? '' : statusText;
    taskLabels.set(text, (taskLabels.get(text) ?? 0) + 1);
    setStatus(text);
    try {
      const result = await work();
      if (statusText === text) setStatus(before);
      return result;
    } catch (error) {
      statusLine.error(error);
      return undefined;
    } finally {
      tasks--;
      const left = (taskLabels.get(text) ?? 1) - 1;
      if (left === 0) taskLabels.delete(text);
      else taskLabels.set(text, left);
      render();
    }
  }

  /** Reads one line in the prompt bar; the overlay takes every key until enter or esc. */
  function ask(opts: AskOptions): Promise<string | undefined> {
    return new Promise((resolve) => {
      let state: LineState = lineState(opts.initial ?? '');
      let message = '';
      let tone: 'red' | 'gray' = 'red';
      const draw = () => {
        const label = `${opts.label} `;
        const room = Math.max(5, Number(screen.width) - label.length - 2 - message.length);
        const line = visibleLine(state, room, opts.secret === true);
        const before = esc(line.text.slice(0, line.cursor));
        const at = esc(line.text.slice(line.cursor, line.cursor + 1) || ' ');
        const after = esc(line.text.slice(line.cursor + 1));
        prompt.setContent(`{bold}${esc(label)}{/bold}${before}{inverse}${at}{/inverse}${after}${message === '' ? '' : `  ${color(tone, esc(message))}`}`);
        render();
      };
      const finish = (value: string | undefined) => {
        overlay = undefined;
        prompt.hide();
        status.show();
        render();
        resolve(value);
      };
      prompt.show();
      status.hide();
      draw();
      overlay = (ch, key) => {
        const result = applyKey(state, { full: key.full, ch });
        if (result.kind === 'cancel') finish(undefined);
        else if (result.kind === 'submit') {
          const problem = opts.validate?.(result.text);
          if (problem === undefined) finish(result.text);
          else {
            message = problem;
            tone = 'red';
            draw();
          }
        } else if (result.kind === 'complete' && opts.complete !== undefined) {
          const options = opts.complete(state.text);
          if (options.length === 1) state = lineState(`${options[0] ?? ''} `);
          message = options.length === 1 ? '' : options.length === 0 ? 'nothing completes that' : options.join(' ');
          tone = 'gray';
          draw();
        } else {
          // blessed reports a carriage return twice (enter, then return): a key that leaves the
          // text as it was must not wipe the message the enter just showed.
          if (result.state.text !== state.text) message = '';
          state = result.state;
          draw();
        }
      };
    });
  }

  function confirm(question: string): Promise<boolean> {
    return new Promise((resolve) => {
      prompt.setContent(`{bold}${esc(question)}{/bold} (y/n)`);
      prompt.show();
      status.hide();
      render();
      overlay = (ch, key) => {
        const answer = key.full === 'escape' ? 'n' : ch;
        if (answer === undefined || !/^[yYnN]$/.test(answer)) return;
        overlay = undefined;
        prompt.hide();
        status.show();
        render();
        resolve(answer === 'y' || answer === 'Y');
      };
    });
  }

  function showHelp(): void {
    const top = stack.at(-1);
    const lines = helpText(keymap.help(), top?.view.title() ?? 'View');
    const box = blessed.box({
      parent: screen,
      top: 'center',
      left: 'center',
      width: Math.min(Number(screen.width) - 2, Math.max(50, ...lines.map((l) => l.length + 4))),
      height: Math.min(Number(screen.height) - 2, lines.length + 4),
      border: { type: 'line' },
      label: ' keys (esc closes) ',
      scrollable: true,
      alwaysScroll: true,
      content: esc(lines.join('\n')),
      tags: true,
      style: { border: { fg: 'cyan' } },
    });
    render();
    overlay = (_ch, key) => {
      if (key.full === 'up' || key.full === 'k') box.scroll(-1);
      else if (key.full === 'down' || key.full === 'j') box.scroll(1);
      else if (key.full === 'escape' || key.full === '?' || key.full === 'q' || key.full === 'enter') {
        overlay = undefined;
        box.destroy();
      }
      render();
    };
  }

  function catalog(): PaletteCatalog {
    return {
      views: [...factories.values()].map((f) => ({ id: f.id, aliases: f.aliases })),
      commands: [...commands.values()].map((c) => ({ name: c.name, aliases: c.aliases, arg: c.arg, usage: c.usage })),
    };
  }

  async function openPalette(): Promise<void> {
    const line = await ask({ label: ':', complete: (typed) => completePalette(typed, catalog()) });
    if (line === undefined) return;
    const action = parsePalette(line, catalog());
    if (action.kind === 'error') statusLine.error(new Error(action.message));
    else if (action.kind === 'view') open(action.id, {}, 'push');
    else await commands.get(action.name)?.run(ctx, action.arg);
  }

  async function filterTop(): Promise<void> {
    const view = stack.at(-1)?.view;
    if (view?.filter === undefined) return;
    const text = await ask({ label: '/', initial: view.filterText?.() ?? '' });
    if (text !== undefined) view.filter(text);
    render();
  }

  async function goTo(): Promise<void> {
    const listed = [...factories.values()].filter((f) => f.listed !== false);
    const keys = listed.map((f) => (f.goKey === undefined ? f.id : `${f.goKey} ${f.id}`)).join('  ');
    const answer = await ask({ label: `go to (${keys}):` });
    if (answer === undefined || answer.trim() === '') return;
    const word = answer.trim().toLowerCase();
    const target = listed.find((f) => f.goKey === word) ?? listed.find((f) => f.id === word || f.aliases?.includes(word));
    if (target === undefined) statusLine.error(new Error(`no view "${word}"`));
    else open(target.id, {}, 'push');
  }

  // ---- keys ------------------------------------------------------------------------------

  const globals: KeyBinding[] = [
    { keys: ['q'], label: 'quit', help: 'Quit the console (the terminal is restored).', run: () => quit(0) },
    { keys: ['C-c'], label: 'quit', help: 'Quit at once, from anywhere.', hint: false, run: () => quit(0) },
    { keys: ['?'], label: 'help', help: 'Show the keys of this view.', run: showHelp },
    { keys: [':'], label: 'palette', help: 'Command palette: a view name, zone <name>, explain <request-id>, quit.', run: openPalette },
    {
      keys: ['/'],
      label: 'filter',
      help: 'Filter the list (esc clears the prompt, an empty filter shows all).',
      disabled: () => (stack.at(-1)?.view.filter === undefined ? 'this view has no list to filter' : undefined),
      run: filterTop,
    },
    {
      keys: ['escape'],
      label: 'back',
      help: 'Back to the previous view.',
      disabled: () => (stack.length <= 1 ? 'already at the first view' : undefined),
      run: back,
    },
    { keys: ['g'], label: 'go', help: 'Go to another view by name or letter.', run: goTo },
    { keys: ['r'], label: 'refresh', help: 'Reload this view.', hint: false, run: () => stack.at(-1)?.view.refresh() },
    {
      keys: ['z'],
      label: 'zone',
      help: 'Switch the current zone (opens Zones).',
      hint: false,
      run: () => (stack.at(-1)?.factory.id === 'zones' ? undefined : open('zones', {}, 'push')),
    },
  ];
  const keymap: KeymapRegistry = createKeymap(globals);

  async function invoke(binding: KeyBinding): Promise<void> {
    const reason = binding.disabled?.();
    if (reason !== undefined) {
      statusLine.info(`${binding.label}: ${reason}`);
      return;
    }
    if (binding.dangerous === true && !(await confirm(binding.help))) {
      statusLine.info('cancelled');
      return;
    }
    await binding.run();
  }

  screen.on('keypress', (ch: string | undefined, key: { full: string } | undefined) => {
    if (key === undefined || finished) return;
    if (key.full === 'C-c') {
      quit(0);
      return;
    }
    try {
      if (overlay !== undefined) {
        overlay(ch, key);
        return;
      }
      if (captured > 0) return;
      const resolved = keymap.resolve(key.full);
      if (resolved !== undefined) invoke(resolved.binding).catch(statusLine.error);
    } catch (error) {
      statusLine.error(error);
    }
  });

  screen.on('resize', () => {
    for (const entry of stack) entry.view.resize?.();
    render();
  });

  // ---- health ------------------------------------------------------------------------------

  let healthTimer: NodeJS.Timeout | undefined;
  async function checkHealth(): Promise<void> {
    if (options.health === undefined) return;
    try {
      health = await options.health();
    } catch {
      health = [{ name: 'stack', ok: false, detail: 'health check failed' }];
    }
    render();
  }

  // ---- the context ----------------------------------------------------------------------

  const ctx: AppContext = {
    client,
    cli: options.cli,
    screen,
    prefs: options.prefs,
    status: statusLine,
    zone: () => zone,
    setZone(next) {
      zone = next;
      options.prefs.setLastZone(client.controlUrl, next.id);
      const top = stack.at(-1)?.view;
      if (top?.zoneChanged !== undefined) top.zoneChanged();
      else top?.refresh();
      render();
    },
    push: (viewId, params = {}) => open(viewId, params, 'push'),
    replace: (viewId, params = {}) => open(viewId, params, 'replace'),
    back,
    views: () => [...factories.values()],
    task,
    ask,
    confirm,
    captureKeys() {
      captured++;
      render(); // the hint bar changes: global keys are text now
      let released = false;
      return () => {
        if (!released) captured--;
        released = true;
        render();
      };
    },
    async suspend(work) {
      const resume = screen.program.pause() as () => void;
      try {
        return await work();
      } finally {
        resume();
        screen.alloc();
        screen.render();
      }
    },
    rebind() {
      const top = stack.at(-1);
      if (top !== undefined) activate(top);
    },
    render,
    quit: () => quit(0),
  };

  function quit(code = 0): void {
    if (finished) return;
    while (stack.length > 0) closeTop();
    finished = true;
    clearInterval(spinner);
    if (healthTimer !== undefined) clearInterval(healthTimer);
    screen.destroy();
    resolveDone(code);
  }

  return {
    ctx,
    registerView(factory) {
      if (factories.has(factory.id)) throw new Error(`console view "${factory.id}" is registered twice`);
      factories.set(factory.id, factory);
    },
    registerCommand(command) {
      if (commands.has(command.name)) throw new Error(`palette command "${command.name}" is registered twice`);
      commands.set(command.name, command);
    },
    extend(extension) {
      for (const factory of extension.views ?? []) this.registerView(factory);
      for (const command of extension.commands ?? []) this.registerCommand(command);
    },
    start(viewId = 'home', params = {}) {
      open(viewId, params, 'push');
      void checkHealth();
      healthTimer = setInterval(() => void checkHealth(), options.healthEveryMs ?? 5000);
      healthTimer.unref();
      render();
    },
    quit,
    done,
  };
}

/** The status-line text of an error: a CaracalError's message and hint, else the message. */
export function errorText(error: unknown): string {
  if (isCaracalError(error)) return error.hint === undefined ? error.message : `${error.message} — ${error.hint}`;
  return error instanceof Error ? error.message : String(error);
}
