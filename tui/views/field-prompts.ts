import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { Field } from '../../core/plugin/types.js';
import { promptCompletions, promptPanelLines, promptProblem, type PromptAnswers } from '../models/admin-forms.js';
import { color, esc } from '../tags.js';
import type { AppContext } from '../view.js';

/**
 * Asking a few fields in a row in the prompt bar (the Resources and Providers create/edit keys):
 * each field is one `ctx.ask`, checked by the field's own validator as it is submitted, while a
 * panel over the list shows the field's help, its choices and the answers so far. A secret field
 * is masked in the prompt and never shown in the panel; esc cancels the whole sequence.
 */

/** The panel at the bottom of a list view's body. */
export interface PromptPanel {
  show(lines: readonly string[]): void;
  hide(): void;
  width(): number;
}

/** Creates the (hidden) panel inside a list view's body. */
export function createPromptPanel(ctx: AppContext, body: Widgets.BoxElement): PromptPanel {
  const box = blessed.box({ parent: body, bottom: 0, height: 8, left: 0, width: '100%', tags: true, hidden: true, border: { type: 'line' }, style: { border: { fg: 'cyan' } } });
  return {
    show(lines) {
      const [head = '', ...rest] = lines;
      box.setContent([`{bold}${esc(head)}{/bold}`, ...rest.map((l) => color('gray', esc(l)))].join('\n'));
      box.height = Math.min(Math.max(3, Number(body.height) - 3), lines.length + 2);
      box.show();
      box.setFront();
      ctx.render();
    },
    hide() {
      box.hide();
      ctx.render();
    },
    width: () => Math.max(20, Number(body.width) - 4),
  };
}

/** What one field's prompt starts from and completes with. */
export interface AskFieldOptions {
  readonly initial?: string;
  /** Tab completion candidates besides a choice field's own choices (e.g. the zone's provider names). */
  readonly completions?: readonly string[];
}

/** Asks one field; undefined when cancelled. The answer of a secret field goes to the caller only. */
export async function askField(ctx: AppContext, panel: PromptPanel, title: string, field: Field, answered: readonly { label: string; value: string }[], options: AskFieldOptions = {}): Promise<string | undefined> {
  panel.show(promptPanelLines(title, field, field.kind === 'secret' ? [] : answered, panel.width()));
  try {
    return await ctx.ask({
      label: `${field.label}:`,
      ...(options.initial === undefined ? {} : { initial: options.initial }),
      secret: field.kind === 'secret',
      validate: promptProblem(field),
      ...(field.kind === 'choice' || options.completions !== undefined ? { complete: (typed: string) => promptCompletions(field, typed, options.completions) } : {}),
    });
  } finally {
    panel.hide();
  }
}

/** Asks non-secret fields in order; the answers by field name, or undefined when one was cancelled. */
export async function askFields(ctx: AppContext, panel: PromptPanel, title: string, fields: readonly Field[], options: { readonly completions?: Readonly<Record<string, readonly string[]>>; readonly answered?: readonly { label: string; value: string }[] } = {}): Promise<PromptAnswers | undefined> {
  const answers: Record<string, string> = {};
  const answered = [...(options.answered ?? [])];
  for (const field of fields) {
    if (field.kind === 'secret') throw new TypeError(`askFields does not ask secret fields (${field.name}): use askField and drop the answer after the call`);
    const initial = typeof field.default === 'string' ? field.default : undefined;
    const completions = options.completions?.[field.name];
    const value = await askField(ctx, panel, title, field, answered, { ...(initial === undefined ? {} : { initial }), ...(completions === undefined ? {} : { completions }) });
    if (value === undefined) return undefined;
    answers[field.name] = value;
    if (value.trim() !== '') answered.push({ label: field.label, value: value.trim() });
  }
  return answers;
}
