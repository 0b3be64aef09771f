import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { CliContext } from '../../core/cli/context.js';
import { clientUrl } from '../../core/config/client-url.js';
import { CaracalError } from '../../core/errors.js';
import { defaultProfilePath, defaultSecretPath } from '../../core/profile/locate-profile.js';
import { savedSetupResult } from '../../core/setup/format.js';
import { ProfileWriteError, runSetup, type SetupResult } from '../../core/setup/setup.js';
import type { KeyBinding } from '../keymap.js';
import type { AppContext, ConsoleExtension, PaletteCommand, View, ViewFactory, ViewParams } from '../view.js';
import { osc52 } from './clipboard.js';
import {
  createSetupForm,
  currentField,
  currentPage,
  cycleChoice,
  editText,
  firstProblem,
  isComplete,
  isTextField,
  moveFocus,
  nextPage,
  pageFields,
  previousPage,
  scenarioInput,
  toggle,
  writesProfile,
  type SetupForm,
} from './form.js';
import { failureLines, formLines, pickerLines, resultText, runningLines, windowLines, type Page, type ScenarioChoice } from './setup-lines.js';

/**
 * The guided setup (DESIGN.md §1 step 3, §10): pick a scenario (from every loaded plugin), answer
 * its steps, check Review, and run it through the same code as `caracal setup` (runSetup with the
 * console's admin client). The result is what `caracal setup` prints, the one-time secret masked
 * until revealed, with keys to copy each part (OSC 52) or save it all to an owner-only file.
 *
 * Text fields read keys themselves (ctx.captureKeys) so `q`, `:` or `?` can be typed; the view's
 * own bindings still work there because this view resolves them from the same `keys()` data.
 */

type Mode =
  | { readonly kind: 'pick'; readonly selected: number }
  | { readonly kind: 'form'; readonly form: SetupForm }
  | { readonly kind: 'running'; readonly form: SetupForm; readonly done: string[] }
  | { readonly kind: 'result'; readonly form: SetupForm; readonly result: SetupResult; readonly revealed: boolean; readonly warning?: unknown }
  | { readonly kind: 'failed'; readonly form: SetupForm; readonly error: unknown; readonly done: readonly string[] };

/** Every scenario of the loaded plugins (built-in first, then installed), with where it comes from. */
export function scenarioChoices(cli: Pick<CliContext, 'plugins' | 'builtins'>): ScenarioChoice[] {
  return cli.plugins.flatMap((plugin) => (plugin.scenarios ?? []).map((scenario) => ({ scenario, plugin: plugin.name, builtin: cli.builtins.includes(plugin) })));
}

/** Writes the result to a new owner-only file (its folder created 0700); an existing file is never replaced. */
export function saveResult(path: string, result: SetupResult): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, savedSetupResult(result), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CaracalError(code === 'EEXIST' ? 'CRC_CONFLICT' : 'CRC_CONFIG_INVALID', `cannot save the setup result to ${path} (${code ?? (error as Error).message})`, {
      cause: error,
      hint: code === 'EEXIST' ? 'it already exists: choose another file name' : 'choose a writable place',
    });
  }
}

function createSetupView(ctx: AppContext, params: ViewParams): View {
  const choices = scenarioChoices(ctx.cli);
  const wanted = params.scenario === undefined ? undefined : choices.find((c) => c.scenario.id === params.scenario);
  if (params.scenario !== undefined && wanted === undefined) {
    ctx.status.error(new CaracalError('CRC_USAGE', `no scenario "${params.scenario}"`, { hint: `installed: ${choices.map((c) => c.scenario.id).join(', ') || 'none'}` }));
  }
  let mode: Mode = wanted === undefined ? { kind: 'pick', selected: 0 } : { kind: 'form', form: createSetupForm(wanted.scenario) };
  let box: Widgets.BoxElement | undefined;
  let release: (() => void) | undefined;
  let mounted = false;

  const width = () => Math.max(20, Number(box?.width ?? 80) - 2);

  /** Keys are read by this view while a text field has focus, and held while the setup runs. */
  const wantsKeys = () => (mode.kind === 'form' && isTextField(currentField(mode.form))) || mode.kind === 'running';
  const syncCapture = () => {
    if (mounted && wantsKeys() && release === undefined) release = ctx.captureKeys();
    else if ((!mounted || !wantsKeys()) && release !== undefined) {
      release();
      release = undefined;
    }
  };

  /** The lines of every mode but the result are cut to the screen here; the result scrolls (it wraps long lines). */
  const page = (m: Exclude<Mode, { kind: 'result' }>, w: number): Page => {
    switch (m.kind) {
      case 'pick':
        return pickerLines(choices, m.selected, w);
      case 'form':
        return formLines(m.form, w, { profilePath: defaultProfilePath(), secretFile: defaultSecretPath('<zone ID>', '<app ID>') });
      case 'running': {
        // Progress grows at the bottom: keep the end in sight.
        const lines = runningLines(m.form.scenario, m.done);
        return { lines, focusLine: lines.length - 1, focusEnd: lines.length - 1 };
      }
      case 'failed':
        // The error leads: it says what exists now and how to resume.
        return { lines: failureLines(m.error, m.done, w), focusLine: 0, focusEnd: 0 };
    }
  };

  const draw = () => {
    if (box === undefined) return;
    const w = width();
    if (mode.kind === 'result') {
      const warning = mode.warning === undefined ? '' : `${failureLines(mode.warning, [], w).slice(0, -2).join('\n')}\n\n`;
      box.setContent(`${warning}${resultText(mode.result, mode.revealed)}`);
    } else {
      box.resetScroll();
      box.setContent(windowLines(page(mode, w), Number(box.height)).join('\n'));
    }
    syncCapture();
    ctx.render();
  };

  const setMode = (next: Mode) => {
    if (next.kind === 'result' && mode.kind !== 'result') box?.resetScroll();
    mode = next;
    draw();
    ctx.rebind();
  };

  const onForm = (change: (form: SetupForm) => SetupForm) => {
    if (mode.kind === 'form') setMode({ kind: 'form', form: change(mode.form) });
  };

  async function execute(form: SetupForm, flags: { rotateSecret: boolean; overwrite: boolean }): Promise<void> {
    const done: string[] = [];
    setMode({ kind: 'running', form, done });
    const outcome = await ctx.task(`running ${form.scenario.title}`, async () => {
      try {
        const result = await runSetup({
          scenario: form.scenario,
          input: scenarioInput(form),
          client: ctx.client,
          controlUrl: ctx.client.controlUrl,
          gatewayUrl: clientUrl(ctx.cli.settings(), 'gateway'),
          rotateSecret: flags.rotateSecret,
          writeProfile: writesProfile(form),
          overwrite: flags.overwrite,
          onObject: (o) => {
            done.push(`${o.action} ${o.kind} ${o.name} (${o.id})`);
            draw();
          },
        });
        return { ok: true as const, result };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    if (outcome === undefined) return;
    if (outcome.ok || outcome.error instanceof ProfileWriteError) {
      const result = outcome.ok ? outcome.result : (outcome.error as ProfileWriteError).result;
      ctx.setZone({ id: result.zone_id, name: result.zone_name });
      setMode({ kind: 'result', form, result, revealed: false, ...(outcome.ok ? {} : { warning: outcome.error }) });
      if (outcome.ok) ctx.status.ok(`setup complete: app ${result.application_name} in zone ${result.zone_name}`);
      else ctx.status.error(outcome.error);
    } else {
      setMode({ kind: 'failed', form, error: outcome.error, done });
      ctx.status.error(outcome.error);
    }
  }

  function copy(what: string, text: string): void {
    ctx.screen.program.write(osc52(text, ctx.screen.program.tmux));
    ctx.status.ok(`copied ${what} to the clipboard (OSC 52; if your terminal does not allow it, w saves to a file)`);
  }

  /** Scrolls the result by lines, or by pages (a page keeps two lines of context). */
  function scroll(by: number, unit: 'line' | 'page' = 'line'): () => void {
    return () => {
      if (box === undefined) return;
      box.scroll(unit === 'page' ? by * Math.max(1, Number(box.height) - 2) : by);
      ctx.render();
    };
  }

  function pickKeys(selected: number): KeyBinding[] {
    const none = () => (choices.length === 0 ? 'no scenario is installed' : undefined);
    const pick = (i: number) => () => setMode({ kind: 'pick', selected: Math.max(0, Math.min(choices.length - 1, i)) });
    return [
      { keys: ['enter'], label: 'start', help: 'Start the guided setup of the selected scenario.', disabled: none, run: () => {
        const choice = choices[selected];
        if (choice !== undefined) setMode({ kind: 'form', form: createSetupForm(choice.scenario) });
      } },
      { keys: ['down', 'j'], label: 'next', help: 'Select the next scenario.', hint: false, run: pick(selected + 1) },
      { keys: ['up', 'k'], label: 'previous', help: 'Select the previous scenario.', hint: false, run: pick(selected - 1) },
    ];
  }

  function formKeys(form: SetupForm): KeyBinding[] {
    const field = currentField(form);
    const review = currentPage(form).review;
    const last = form.focus >= pageFields(form).length - 1;
    const onlyChoice = () => (field?.kind === 'choice' ? undefined : 'only choice fields have options');
    return [
      {
        keys: ['enter'],
        label: review ? 'create' : 'next',
        help: 'Next field; on the last field, the next step (checking this one); on Review, create everything listed.',
        run: () => {
          if (!review) return onForm((f) => (last ? nextPage(f) : moveFocus(f, 1)));
          if (!isComplete(form)) return setMode({ kind: 'form', form: firstProblem(form) });
          return execute(form, { rotateSecret: false, overwrite: false });
        },
      },
      { keys: ['tab', 'down'], label: 'next field', help: 'Move to the next field (the field left is checked).', hint: false, run: () => onForm((f) => moveFocus(f, 1)) },
      { keys: ['S-tab', 'up'], label: 'previous field', help: 'Move to the previous field.', hint: false, run: () => onForm((f) => moveFocus(f, -1)) },
      { keys: ['pagedown'], label: 'next step', help: 'Check this step and go to the next one.', hint: false, run: () => onForm(nextPage) },
      {
        keys: ['pageup'],
        label: 'previous step',
        help: 'Go back one step (answers are kept).',
        disabled: () => (form.page === 0 ? 'this is the first step' : undefined),
        run: () => onForm(previousPage),
      },
      {
        keys: ['space'],
        label: field?.kind === 'choice' ? 'next choice' : 'toggle',
        help: 'Toggle a yes/no field, or move a choice to the next option.',
        disabled: () => (field?.kind === 'boolean' || field?.kind === 'choice' ? undefined : 'only yes/no and choice fields toggle'),
        run: () => onForm((f) => (field?.kind === 'choice' ? cycleChoice(f, 1) : toggle(f))),
      },
      { keys: ['right'], label: 'next choice', help: 'Move a choice field to the next option.', hint: false, disabled: onlyChoice, run: () => onForm((f) => cycleChoice(f, 1)) },
      { keys: ['left'], label: 'previous choice', help: 'Move a choice field to the previous option.', hint: false, disabled: onlyChoice, run: () => onForm((f) => cycleChoice(f, -1)) },
    ];
  }

  function resultKeys(result: SetupResult, revealed: boolean): KeyBinding[] {
    const form = mode.kind === 'result' ? mode.form : undefined;
    return [
      {
        keys: ['v'],
        label: revealed ? 'hide' : 'reveal',
        help: 'Reveal or hide the one-time client secret.',
        run: () => {
          if (mode.kind === 'result') setMode({ ...mode, revealed: !revealed });
        },
      },
      { keys: ['c'], label: 'copy secret', help: 'Copy the client secret to the clipboard (OSC 52).', run: () => copy('the client secret', result.client_secret) },
      {
        keys: ['i'],
        label: 'copy IDs',
        help: 'Copy the zone, app, resource and policy set IDs.',
        run: () => copy('the IDs', [`zone_id=${result.zone_id}`, `application_id=${result.application_id}`, `resource_id=${result.resource_id}`, `policy_set_id=${result.policy_set_id ?? ''}`].join('\n')),
      },
      { keys: ['p'], label: 'copy profile', help: 'Copy the generated runtime profile (TOML).', run: () => copy('the profile', result.profile) },
      { keys: ['u'], label: 'copy run', help: 'Copy the `caracal run` line.', run: () => copy('the caracal run line', result.commands.run) },
      { keys: ['l'], label: 'copy curl', help: 'Copy the curl line (it runs under caracal run).', run: () => copy('the curl line', result.commands.curl) },
      {
        keys: ['w'],
        label: 'save',
        help: 'Save the result, client secret included, to a new owner-only (0600) file.',
        run: async () => {
          const path = await ctx.ask({ label: 'save to:', initial: join(dirname(result.profile_path), `setup-${result.application_id}.txt`), validate: (v) => (v.trim() === '' ? 'give a file path' : undefined) });
          if (path === undefined) return;
          saveResult(path.trim(), result);
          ctx.status.ok(`saved to ${path.trim()} (0600)`);
        },
      },
      {
        keys: ['n'],
        label: 'new setup',
        help: 'Start another guided setup? This result and its one-time secret will be gone from the screen.',
        dangerous: true,
        disabled: () => (form === undefined ? 'nothing to start from' : undefined),
        run: () => setMode({ kind: 'pick', selected: 0 }),
      },
      { keys: ['down', 'j'], label: 'scroll', help: 'Scroll down.', hint: false, run: scroll(1) },
      { keys: ['up', 'k'], label: 'scroll up', help: 'Scroll up.', hint: false, run: scroll(-1) },
      { keys: ['pagedown'], label: 'page down', help: 'Scroll down a page.', hint: false, run: scroll(1, 'page') },
      { keys: ['pageup'], label: 'page up', help: 'Scroll up a page.', hint: false, run: scroll(-1, 'page') },
    ];
  }

  function failedKeys(form: SetupForm): KeyBinding[] {
    return [
      { keys: ['enter'], label: 'retry', help: 'Run the setup again with the same answers (what exists is reused).', run: () => execute(form, { rotateSecret: false, overwrite: false }) },
      {
        keys: ['S-r'],
        label: 'retry, new secret',
        help: "Retry, giving the existing app a new client secret? Its old secret stops working at once.",
        dangerous: true,
        run: () => execute(form, { rotateSecret: true, overwrite: false }),
      },
      {
        keys: ['S-o'],
        label: 'retry, overwrite',
        help: 'Retry, replacing the existing profile and secret files?',
        dangerous: true,
        run: () => execute(form, { rotateSecret: false, overwrite: true }),
      },
      { keys: ['pageup'], label: 'edit answers', help: 'Back to Review to change the answers.', run: () => setMode({ kind: 'form', form }) },
    ];
  }

  const bindings = (): readonly KeyBinding[] => {
    switch (mode.kind) {
      case 'pick':
        return pickKeys(mode.selected);
      case 'form':
        return formKeys(mode.form);
      case 'result':
        return resultKeys(mode.result, mode.revealed);
      case 'failed':
        return failedKeys(mode.form);
      case 'running':
        return [];
    }
  };

  /**
   * The shell's key listener runs before this view's. A binding it ran for a key may start a
   * capture (enter moved onto a text field); the flag tells this view's listener that the same
   * key was handled already.
   */
  let ranByShell = false;
  const keys = (): readonly KeyBinding[] =>
    bindings().map((b) => ({
      ...b,
      run: () => {
        ranByShell = true;
        return b.run();
      },
    }));

  const onKey = (ch: string | undefined, key: { full: string } | undefined) => {
    const handled = ranByShell;
    ranByShell = false;
    // Without a capture the shell dispatches (to `keys()`); C-c always quits there.
    if (handled || key === undefined || release === undefined || !mounted || key.full === 'C-c' || mode.kind === 'running') return;
    try {
      if (key.full === 'escape') return ctx.back();
      const binding = bindings().find((b) => b.keys.includes(key.full) && b.disabled?.() === undefined);
      if (binding !== undefined) {
        Promise.resolve(binding.run()).catch((error: unknown) => ctx.status.error(error));
        return;
      }
      onForm((form) => editText(form, { full: key.full, ch }));
    } catch (error) {
      ctx.status.error(error);
    }
  };

  return {
    title: () => (mode.kind === 'pick' ? 'Guided setup' : `Setup: ${mode.form.scenario.title}`),
    keys,
    mount(body) {
      box = blessed.box({ parent: body, top: 0, left: 1, right: 0, bottom: 0, tags: true, scrollable: true, alwaysScroll: true, wrap: true });
      mounted = true;
      ctx.screen.on('keypress', onKey);
      draw();
    },
    unmount() {
      mounted = false;
      ctx.screen.removeListener('keypress', onKey);
      syncCapture();
      box = undefined;
    },
    refresh: draw,
    resize: draw,
  };
}

/** The `setup` view (palette: `setup`, go key `s`). */
export const setupView: ViewFactory = {
  id: 'setup',
  title: 'Guided setup',
  summary: 'zone, app, resource and starter policy from a scenario; profile and first commands',
  aliases: ['wizard'],
  goKey: 's',
  create: createSetupView,
};

/** `:setup [scenario]` opens the guided setup, on that scenario's first step when one is named. */
export const setupCommand: PaletteCommand = {
  name: 'setup',
  usage: 'setup [scenario-id]',
  summary: 'Start the guided setup (optionally of one scenario, e.g. setup internal-http-api).',
  arg: 'optional',
  run: (ctx, arg) => ctx.push('setup', arg === undefined ? {} : { scenario: arg.trim() }),
};

/** What the guided setup adds to the console (tui/extensions.ts registers it). */
export const setupExtension: ConsoleExtension = { views: [setupView], commands: [setupCommand] };
