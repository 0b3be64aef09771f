import { toCaracalError } from '../../core/errors.js';
import type { Field, ScenarioContribution } from '../../core/plugin/types.js';
import { formatSetupResult } from '../../core/setup/format.js';
import type { SetupResult } from '../../core/setup/setup.js';
import { visibleLine } from '../line-input.js';
import { marker, markersToTags } from '../models/explain.js';
import { maskSecret } from '../models/secret.js';
import { bold, color, esc, truncate } from '../tags.js';
import { currentField, currentPage, isTextField, pageFields, progress, reviewOf, writesProfile, type SetupForm } from './form.js';

/**
 * What the guided setup view shows, as tagged lines (pure, so the layout is testable at 80 and
 * 200 columns without a terminal): the scenario picker, a form page, Review, the result exactly
 * as `caracal setup` prints it (secret masked unless revealed), and a failure with its advice.
 */

/** A scenario the picker offers, with the plugin it comes from. */
export interface ScenarioChoice {
  readonly scenario: ScenarioContribution;
  readonly plugin: string;
  readonly builtin: boolean;
}

/** Lines, and the block the view keeps in sight (the focused field, from its first to its last line). */
export interface Page {
  readonly lines: readonly string[];
  readonly focusLine: number;
  readonly focusEnd: number;
}

/**
 * The `height` lines of a page to show: from the top when the focused block fits there, else
 * scrolled just enough to show all of it (its first line wins when it is taller than the screen).
 */
export function windowLines(page: Page, height: number): readonly string[] {
  const rows = Math.max(1, height);
  const start = Math.max(0, Math.min(page.focusLine, page.focusEnd - rows + 1));
  return page.lines.slice(start, start + rows);
}

const INDENT = '    ';

/** Splits plain text into lines of at most `width` columns, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
  const room = Math.max(10, width);
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      let rest = word;
      while (rest.length > room) {
        if (line !== '') out.push(line);
        out.push(rest.slice(0, room));
        rest = rest.slice(room);
        line = '';
      }
      const next = line === '' ? rest : `${line} ${rest}`;
      if (next.length > room) {
        out.push(line);
        line = rest;
      } else line = next;
    }
    out.push(line);
  }
  return out;
}

/** The scenario picker: each scenario's title, where it comes from, and its description. */
export function pickerLines(choices: readonly ScenarioChoice[], selected: number, width: number): Page {
  const lines = [bold('Guided setup: choose a scenario'), ''];
  let focusLine = 0;
  let focusEnd = 0;
  choices.forEach((choice, i) => {
    const mark = i === selected ? color('cyan', '▸ ') : '  ';
    const origin = choice.builtin ? 'built in' : `plugin ${choice.plugin}`;
    if (i === selected) focusLine = lines.length;
    const title = esc(choice.scenario.title);
    lines.push(`${mark}${i === selected ? bold(title) : title}  ${color('gray', esc(truncate(`${choice.scenario.id} · ${origin}`, Math.max(1, width - choice.scenario.title.length - 4))))}`);
    for (const line of wrapText(choice.scenario.description, width - INDENT.length)) lines.push(`${INDENT}${color('gray', esc(line))}`);
    if (i === selected) focusEnd = lines.length - 1;
    lines.push('');
  });
  if (choices.length === 0) {
    for (const line of wrapText('No scenario is installed: every plugin that contributes one failed to load (see Plugins).', width)) lines.push(color('red', esc(line)));
  }
  return { lines, focusLine, focusEnd };
}

/** How a field's answer is drawn: the line editor's view of text (masked for secrets), a box, or the chosen option. */
function valueText(form: SetupForm, field: Field, focused: boolean, room: number): string {
  const value = form.values[field.name];
  if (field.kind === 'boolean') return value === true ? '[x] yes' : '[ ] no';
  if (field.kind === 'choice') {
    const chosen = field.choices?.find((c) => c.value === value);
    const text = chosen === undefined ? '(none chosen)' : chosen.value;
    return focused ? `‹ ${esc(text)} ›` : esc(text);
  }
  const text = typeof value === 'string' ? value : '';
  const secret = field.kind === 'secret';
  if (!focused) return text === '' ? color('gray', '(empty)') : esc(truncate(secret ? '•'.repeat(text.length) : text, room));
  const line = visibleLine({ text, cursor: Math.min(form.cursor, text.length) }, room, secret);
  // A default not yet touched is drawn dimmed: typing replaces it.
  if (form.fresh) return `${color('gray', esc(line.text.slice(0, line.cursor)))}{inverse} {/inverse}`;
  const at = line.text.slice(line.cursor, line.cursor + 1) || ' ';
  return `${esc(line.text.slice(0, line.cursor))}{inverse}${esc(at)}{/inverse}${esc(line.text.slice(line.cursor + 1))}`;
}

/** One field: label and answer, then its help (all of it when focused), its choices, its message. */
function fieldLines(form: SetupForm, field: Field, focused: boolean, labelWidth: number, width: number): string[] {
  const label = `${field.label}${field.required ? ' *' : ''}`;
  const mark = focused ? color('cyan', '▸ ') : '  ';
  const shownLabel = focused ? bold(esc(label)) : esc(label);
  const out: string[] = [];
  if (label.length <= labelWidth) {
    out.push(`${mark}${shownLabel}${' '.repeat(labelWidth - label.length)}  ${valueText(form, field, focused, width - labelWidth - 5)}`);
  } else {
    out.push(`${mark}${shownLabel}`, `${INDENT}${valueText(form, field, focused, width - INDENT.length - 1)}`);
  }
  if (focused && field.kind === 'choice') {
    for (const c of field.choices ?? []) {
      const on = form.values[field.name] === c.value;
      out.push(`${INDENT}${on ? '(•)' : '( )'} ${esc(truncate(`${c.value} — ${c.label}`, width - INDENT.length - 5))}`);
    }
  }
  const help = focused ? wrapText(field.help, width - INDENT.length) : [truncate(field.help, width - INDENT.length)];
  for (const line of help) out.push(`${INDENT}${color('gray', esc(line))}`);
  const problem = form.errors[field.name];
  if (problem !== undefined) for (const line of wrapText(`✖ ${problem}`, width - INDENT.length)) out.push(`${INDENT}${color('red', esc(line))}`);
  return out;
}

/** Where the write-profile option puts the files (shown on Review while it is on). */
export interface ProfileTargets {
  readonly profilePath: string;
  /** The secret file's folder pattern, e.g. `<config dir>/secrets/<zone ID>/<app ID>`. */
  readonly secretFile: string;
}

/** A form page (or Review, with the plan's lines first), focused field marked and kept in sight. */
export function formLines(form: SetupForm, width: number, targets: ProfileTargets): Page {
  const page = currentPage(form);
  const fields = pageFields(form);
  const focused = currentField(form);
  const lines = [`${bold(esc(form.scenario.title))} · ${esc(progress(form))}: ${bold(esc(page.title))}`, ''];
  if (page.review) {
    const review = reviewOf(form);
    if (review.ok) for (const line of review.lines) lines.push(esc(truncate(line, width)));
    else {
      for (const line of wrapText(`✖ ${review.problem}`, width)) lines.push(color('red', esc(line)));
      lines.push(color('gray', 'PgUp goes back to the steps to fix it.'));
    }
    lines.push('');
  }
  const labelWidth = Math.min(Math.max(8, ...fields.map((f) => f.label.length + (f.required ? 2 : 0))), Math.floor(width * 0.4));
  let focusLine = 0;
  let focusEnd = 0;
  for (const field of fields) {
    if (field === focused) focusLine = lines.length;
    lines.push(...fieldLines(form, field, field === focused, labelWidth, width));
    if (field === focused) focusEnd = lines.length - 1;
    lines.push('');
  }
  if (fields.length === 0 && !page.review) lines.push(color('gray', 'Nothing to answer on this step.'), '');
  if (page.review) {
    if (writesProfile(form)) {
      lines.push(`${INDENT}${color('gray', esc(truncate(`profile → ${targets.profilePath}`, width - INDENT.length)))}`);
      lines.push(`${INDENT}${color('gray', esc(truncate(`secret file → ${targets.secretFile} (0600)`, width - INDENT.length)))}`, '');
    }
    lines.push(bold('Press enter to create what is listed above.'));
    // On Review the option and the line that says what enter does are read together.
    focusEnd = lines.length - 1;
  } else if (isTextField(focused)) {
    const tip = 'Type the answer · enter or tab: next field · PgUp: previous step · esc: leave setup';
    for (const line of wrapText(tip, width)) lines.push(color('gray', esc(line)));
  }
  return { lines, focusLine, focusEnd };
}

/** The progress of a running setup: one line per object done, as `caracal setup` writes them. */
export function runningLines(scenario: ScenarioContribution, done: readonly string[]): string[] {
  return [bold(`Running ${esc(scenario.title)}…`), '', ...done.map((line) => color('gray', esc(line)))];
}

/**
 * The result, exactly as `caracal setup` prints it (core/setup/format.ts), colored with tags the
 * way Explain colors `caracal explain`'s narrative (markers that survive escaping).
 */
export function resultText(result: SetupResult, revealed: boolean): string {
  const shown = revealed ? result : { ...result, client_secret: maskSecret(result.client_secret) };
  const tagged = markersToTags(formatSetupResult(shown, marker));
  const intro = revealed ? 'v hides the client secret again.' : 'The client secret is masked: v reveals it.';
  const keys = 'c copies it · i the IDs · p the profile · u the run line · l the curl line (OSC 52) · w saves all to a file';
  return `${color('green', '✔ Setup complete.')} ${intro}\n${color('gray', keys)}\n\n${tagged}`;
}


/** A failed setup: the error (which lists what exists now and how to resume), its hint, what was done. */
export function failureLines(error: unknown, done: readonly string[], width: number): string[] {
  const failure = toCaracalError(error);
  const lines = wrapText(`✖ ${failure.message}`, width).map((l) => color('red', esc(l)));
  if (failure.hint !== undefined) lines.push('', ...wrapText(failure.hint, width).map((l) => esc(l)));
  if (done.length > 0) lines.push('', bold('Done before it stopped:'), ...done.map((l) => color('gray', esc(`  ${l}`))));
  const keys = 'In the console: enter retries with the same answers (what exists is reused) · R retries with a new secret for an existing app · O retries overwriting the profile files · PgUp changes the answers.';
  lines.push('', ...wrapText(keys, width).map((l) => esc(l)));
  return lines;
}
