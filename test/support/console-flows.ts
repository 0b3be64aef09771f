/**
 * Steps that console end-to-end tests take again and again, on top of the pty driver
 * (test/support/console.ts): open a view through the palette, set a list's `/` filter, answer a
 * field or prompt, run a line copied from the console as a person would paste it, and watch every
 * frame of the screen for text that must never be drawn (a secret).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PtySession, ScreenMatch } from './console.js';
import { BIN } from './workload.js';

/** Types `command` into the `:` palette and waits for `expected` (the view it opens). */
export async function viaPalette(session: PtySession, command: string, expected: ScreenMatch): Promise<string> {
  session.press(':');
  await session.waitFor(/^ ?: /m);
  session.type(command);
  session.press('enter');
  return session.waitFor(expected);
}

/** Replaces the `/` filter of the view on top with `text` (an empty text clears it). */
export async function setFilter(session: PtySession, text: string): Promise<void> {
  session.press('/');
  await session.waitFor(/^ ?\/ /m);
  session.press('ctrl-u');
  session.type(text);
  session.press('enter');
}

/** Replaces what the focused field or prompt holds (a default, an initial value) with `text`, then enter. */
export function replaceAnswer(session: PtySession, text: string): void {
  session.press('end', 'ctrl-u');
  session.type(text);
  session.press('enter');
}

/** Answers the prompt whose label matches `label` once it is on screen. */
export async function answerPrompt(session: PtySession, label: ScreenMatch, text: string): Promise<void> {
  await session.waitFor(label);
  replaceAnswer(session, text);
}

/**
 * Runs a shell line copied from the console (the curl or `caracal run` line) with `caracal` on
 * PATH, asynchronously (a server answering it may live in this process); resolves with stdout.
 */
export async function runCopiedLine(line: string): Promise<string> {
  const bin = mkdtempSync(join(tmpdir(), 'caracal-bin-'));
  symlinkSync(BIN, join(bin, 'caracal'));
  try {
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir() };
    return (await promisify(execFile)('sh', ['-c', line], { env, encoding: 'utf8' })).stdout;
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

/** What a screen watch found. */
export interface ScreenWatch {
  /** How many frames were checked so far. */
  frames(): number;
  /** The first frame that showed the text, if any (for the failure message). */
  leak(): string | undefined;
}

/**
 * Checks every frame the program draws from now until it exits for `text` (the pty driver
 * re-evaluates a wait after each chunk of output is parsed, so no intermediate frame is missed).
 */
export function watchScreen(session: PtySession, text: string): ScreenWatch {
  let frames = 0;
  let leak: string | undefined;
  session
    .waitFor(
      (screen) => {
        frames++;
        if (leak === undefined && screen.includes(text)) leak = screen;
        return false;
      },
      { timeout: 10 * 60_000 },
    )
    // The wait ends only with the program (or the timeout): that is the end of the watch, not an error.
    .catch(() => undefined);
  return { frames: () => frames, leak: () => leak };
}
