/**
 * Copying to the clipboard through the terminal (OSC 52), so it works over SSH and needs no
 * clipboard program. Terminals that do not support it (or forbid it) ignore the sequence; the
 * view says so and offers saving to a file instead. Inside tmux the sequence is passed through
 * (tmux needs `set -g allow-passthrough on` or `set-clipboard on`).
 */

/** The escape sequence that puts `text` on the system clipboard. */
export function osc52(text: string, tmux = false): string {
  const sequence = `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
  // tmux's DCS passthrough: the sequence inside, each ESC doubled.
  return tmux ? `\u001bPtmux;${sequence.replaceAll('\u001b', '\u001b\u001b')}\u001b\\` : sequence;
}
