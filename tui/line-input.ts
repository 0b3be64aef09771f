/**
 * A one-line text editor as a pure state machine, for the prompt bar, the palette and the `/`
 * filter. The shell feeds it blessed key events; keeping it pure avoids blessed's textbox (which
 * grabs every key and submits twice on a carriage return) and makes typing testable.
 */

/** The text and the cursor position in it. */
export interface LineState {
  readonly text: string;
  readonly cursor: number;
}

/** What a key did to the line. */
export type LineResult =
  | { readonly kind: 'edit'; readonly state: LineState }
  | { readonly kind: 'submit'; readonly text: string }
  | { readonly kind: 'cancel' }
  | { readonly kind: 'complete'; readonly state: LineState };

/** The parts of a blessed key event the editor reads. */
export interface KeyEvent {
  readonly full: string;
  readonly ch?: string | undefined;
}

/** A line holding `text`, cursor at its end. */
export function lineState(text = ''): LineState {
  return { text, cursor: text.length };
}

const MAX_LENGTH = 4096;

/** Applies one key to the line. */
export function applyKey(state: LineState, key: KeyEvent): LineResult {
  const { text, cursor } = state;
  const edit = (t: string, c: number): LineResult => ({ kind: 'edit', state: { text: t, cursor: Math.max(0, Math.min(c, t.length)) } });
  switch (key.full) {
    case 'enter':
      return { kind: 'submit', text };
    case 'escape':
      return { kind: 'cancel' };
    case 'tab':
      return { kind: 'complete', state };
    case 'backspace':
      return cursor === 0 ? edit(text, 0) : edit(text.slice(0, cursor - 1) + text.slice(cursor), cursor - 1);
    case 'delete':
    case 'C-d':
      return edit(text.slice(0, cursor) + text.slice(cursor + 1), cursor);
    case 'left':
    case 'C-b':
      return edit(text, cursor - 1);
    case 'right':
    case 'C-f':
      return edit(text, cursor + 1);
    case 'home':
    case 'C-a':
      return edit(text, 0);
    case 'end':
    case 'C-e':
      return edit(text, text.length);
    case 'C-u':
      return edit(text.slice(cursor), 0);
    case 'C-k':
      return edit(text.slice(0, cursor), cursor);
    case 'C-w': {
      const before = text.slice(0, cursor).replace(/\S+\s*$/, '');
      return edit(before + text.slice(cursor), before.length);
    }
    default: {
      const ch = key.ch;
      // Printable characters only (a paste arrives as several of them); control keys are ignored.
      if (ch === undefined || ch.length === 0 || hasControl(ch) || text.length + ch.length > MAX_LENGTH) return edit(text, cursor);
      return edit(text.slice(0, cursor) + ch + text.slice(cursor), cursor + ch.length);
    }
  }
}

/** Whether text holds a control character (C0 or DEL). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** How the line is drawn: masked when secret, and scrolled so the cursor stays inside `width`. */
export function visibleLine(state: LineState, width: number, secret = false): { text: string; cursor: number } {
  const shown = secret ? '•'.repeat(state.text.length) : state.text;
  const room = Math.max(1, width - 1);
  const start = Math.max(0, state.cursor - room);
  return { text: shown.slice(start, start + room + 1), cursor: state.cursor - start };
}
