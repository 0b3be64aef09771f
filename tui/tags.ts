/**
 * blessed tag helpers, pure so view models can produce colored text without loading blessed.
 * Every piece of data shown in a tagged widget goes through `esc`, so a `{` in an app name or a
 * request path can never be read as markup.
 */

export type TagColor = 'red' | 'green' | 'yellow' | 'cyan' | 'blue' | 'magenta' | 'gray' | 'white';

/** Escapes text for a widget with `tags: true` (what blessed.escape does). */
export function esc(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

/** Colors already-escaped text. */
export function color(name: TagColor, text: string): string {
  return `{${name}-fg}${text}{/${name}-fg}`;
}

/** Bold already-escaped text. */
export function bold(text: string): string {
  return `{bold}${text}{/bold}`;
}

/** The visible length of tagged text (tags removed, `{open}`/`{close}` counted as one character). */
export function visibleLength(text: string): number {
  return text.replace(/\{(open|close)\}/g, '_').replace(/\{\/?[a-z-]*\}/g, '').length;
}

/** Cuts plain text to `width` columns with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/** Pads or cuts plain text to exactly `width` columns. */
export function fit(text: string, width: number): string {
  return truncate(text, width).padEnd(width);
}
