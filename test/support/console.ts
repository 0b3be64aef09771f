/**
 * Driving a real program in a pseudo-terminal for end-to-end tests and benchmarks: node-pty runs
 * it, and everything it prints is fed into an @xterm/headless terminal of the same size, so tests
 * read the screen a person would see, not the raw escape sequences.
 *
 *   const tty = startConsole({ env: { CARACAL_HOME: home } });
 *   await tty.waitFor('Home');
 *   tty.press('down', 'enter');
 *   await tty.waitFor(/Explain/);
 *   await tty.close();   // quits with `q` first if you did not, then asserts the terminal was restored
 *
 * Waits are event-driven (checked after each chunk of output is parsed, no fixed sleeps); a wait
 * that times out, or whose program exits first, throws with a dump of the screen.
 */
import { tmpdir } from 'node:os';
import xterm from '@xterm/headless';
import { spawn, type IPty } from 'node-pty';
import { BIN, ROOT } from './workload.js';
const DEFAULT_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 10_000;
/** Raw output kept for failure messages (the screen shows only the last state). */
const RAW_TAIL_CHARS = 4_000;

/** Named keys `press()` understands; any other string is sent as typed. */
const KEYS = {
  enter: '\r',
  esc: '\x1b',
  tab: '\t',
  'shift-tab': '\x1b[Z',
  backspace: '\x7f',
  space: ' ',
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  home: '\x1b[H',
  end: '\x1b[F',
  pageup: '\x1b[5~',
  pagedown: '\x1b[6~',
  'ctrl-c': '\x03',
  'ctrl-d': '\x04',
  'ctrl-u': '\x15',
} as const;

export type KeyName = keyof typeof KEYS;

/** What a wait looks for: text on the screen, a pattern, or any condition on the screen text. */
export type ScreenMatch = string | RegExp | ((screen: string) => boolean);

export interface PtyOptions {
  /** Environment added to PATH, HOME, TERM and LANG (nothing else is inherited). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cols?: number;
  readonly rows?: number;
  readonly cwd?: string;
}

/** How the program ended. */
export interface PtyExit {
  readonly exitCode: number;
  /** The signal number that ended it, or 0. */
  readonly signal: number;
}

export interface PtySession {
  readonly pid: number;
  /** The visible lines, trailing spaces removed. */
  screen(): string[];
  /** The visible lines joined by newlines. */
  text(): string;
  /** The rows (0-based) drawn in inverse video: where lists show their selection. */
  inverseRows(): number[];
  /** Resolves with the screen text once `match` holds; throws with a screen dump on timeout or exit. */
  waitFor(match: ScreenMatch, options?: { timeout?: number }): Promise<string>;
  /** Sends named keys (`enter`, `esc`, `tab`, arrows, `ctrl-c`, …) or literal text, in order. */
  press(...keys: readonly (KeyName | (string & {}))[]): void;
  /** Types text as a person would (one write; blessed reads it as separate key presses). */
  type(text: string): void;
  /** Resizes the pseudo-terminal and the emulator together (the program gets SIGWINCH). */
  resize(cols: number, rows: number): void;
  /** What the program last put on the clipboard with OSC 52 (decoded), if anything. */
  clipboard(): string | undefined;
  /** Whether the program has hidden the cursor / switched to the alternate screen right now. */
  state(): { readonly cursorVisible: boolean; readonly alternateScreen: boolean; readonly mouseTracking: boolean };
  /** Resolves when the program has exited and its last output is on the screen. */
  exited(options?: { timeout?: number }): Promise<PtyExit>;
  /** Sends a signal to the program (e.g. SIGTERM). */
  kill(signal?: NodeJS.Signals): void;
  /**
   * Ends the session: presses `quitKeys` unless the program has already exited, waits for the
   * exit, and throws with a screen dump unless the terminal was restored (normal screen, cursor
   * shown, mouse tracking off). Resolves with how the program ended.
   */
  close(quitKeys?: readonly string[]): Promise<PtyExit>;
  /** Kills the program if it still runs, without assertions (for afterEach after a failed test). */
  dispose(): void;
  /** A readable dump of the screen and the program's state, for failure messages. */
  dump(): string;
}

/** Runs `file args…` in a pseudo-terminal of cols×rows (default 100×30) read through a headless terminal. */
export function startInPty(file: string, args: readonly string[], options: PtyOptions = {}): PtySession {
  const cols = options.cols ?? 100;
  const rows = options.rows ?? 30;
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
  const modes = { cursorVisible: true };
  // xterm's public modes do not include cursor visibility (DECTCEM), so watch `CSI ? 25 h/l`.
  for (const final of ['h', 'l'] as const) {
    term.parser.registerCsiHandler({ prefix: '?', final }, (params) => {
      if (params.includes(25)) modes.cursorVisible = final === 'h';
      return false; // let xterm apply the sequence too
    });
  }
  // OSC 52 (`ESC ] 52 ; c ; <base64> BEL`) is how the console copies: record what it copies.
  let clipboard: string | undefined;
  term.parser.registerOscHandler(52, (data) => {
    const payload = data.slice(data.indexOf(';') + 1);
    if (payload !== '?') clipboard = Buffer.from(payload, 'base64').toString('utf8');
    return true;
  });
  const child: IPty = spawn(file, [...args], {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), TERM: 'xterm-256color', LANG: 'C.UTF-8', ...options.env },
  });

  let raw = '';
  let pending = 0;
  let exit: PtyExit | undefined;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of [...waiters]) check();
  };
  child.onData((data) => {
    raw = (raw + data).slice(-RAW_TAIL_CHARS);
    pending++;
    term.write(data, () => {
      pending--;
      notify();
    });
  });
  // Output written just before the exit is parsed after it: report the exit once the screen caught up.
  const exitedPromise = new Promise<PtyExit>((resolve) => {
    child.onExit(({ exitCode, signal }) => {
      const settle = () => {
        exit = { exitCode, signal: signal ?? 0 };
        resolve(exit);
        notify();
      };
      if (pending === 0) settle();
      else term.write('', settle);
    });
  });

  const screen = (): string[] => {
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return lines;
  };
  const text = () => screen().join('\n');
  const inverseRows = (): number[] => {
    const buffer = term.buffer.active;
    const cell = buffer.getNullCell();
    const rowsWithInverse: number[] = [];
    for (let y = 0; y < term.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      for (let x = 0; line !== undefined && x < term.cols; x++) {
        if (line.getCell(x, cell)?.isInverse()) {
          rowsWithInverse.push(y);
          break;
        }
      }
    }
    return rowsWithInverse;
  };
  const state = () => ({
    cursorVisible: modes.cursorVisible,
    alternateScreen: term.buffer.active.type === 'alternate',
    mouseTracking: term.modes.mouseTrackingMode !== 'none',
  });
  const dump = (): string => {
    const lines = screen();
    const width = Math.max(term.cols, 10);
    const frame = `+${'-'.repeat(width)}+`;
    const s = state();
    return [
      `screen ${term.cols}x${term.rows} (cursor ${s.cursorVisible ? 'shown' : 'hidden'}, ${s.alternateScreen ? 'alternate' : 'normal'} screen, mouse ${s.mouseTracking ? 'on' : 'off'}, ${exit ? `exited ${exit.exitCode}/signal ${exit.signal}` : `pid ${child.pid} running`}):`,
      frame,
      ...lines.map((line, i) => `|${line.padEnd(width)}| ${String(i + 1).padStart(2)}`),
      frame,
      `last raw output: ${JSON.stringify(raw.slice(-600))}`,
    ].join('\n');
  };

  const waitFor = (match: ScreenMatch, { timeout = DEFAULT_TIMEOUT_MS }: { timeout?: number } = {}): Promise<string> => {
    const test = typeof match === 'string' ? (s: string) => s.includes(match) : match instanceof RegExp ? (s: string) => match.test(s) : match;
    const what = typeof match === 'function' ? 'the condition' : String(typeof match === 'string' ? JSON.stringify(match) : match);
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        waiters.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(text());
      };
      const check = () => {
        if (test(text())) finish();
        else if (exit !== undefined) finish(new Error(`waited for ${what}, but the program exited first\n${dump()}`));
      };
      const timer = setTimeout(() => finish(new Error(`waited ${timeout} ms for ${what} on the screen\n${dump()}`)), timeout);
      waiters.add(check);
      check();
    });
  };

  const exited = async ({ timeout = EXIT_TIMEOUT_MS }: { timeout?: number } = {}): Promise<PtyExit> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the program did not exit within ${timeout} ms\n${dump()}`)), timeout);
    });
    try {
      return await Promise.race([exitedPromise, late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const write = (data: string) => {
    if (exit === undefined) child.write(data);
  };

  return {
    pid: child.pid,
    screen,
    text,
    inverseRows,
    waitFor,
    press: (...keys) => write(keys.map((k) => (k in KEYS ? KEYS[k as KeyName] : k)).join('')),
    type: write,
    resize(newCols, newRows) {
      term.resize(newCols, newRows);
      if (exit === undefined) child.resize(newCols, newRows);
    },
    clipboard: () => clipboard,
    state,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (exit === undefined) child.kill(signal);
    },
    async close(quitKeys = ['q']) {
      if (exit === undefined) write(quitKeys.join(''));
      const result = await exited();
      const s = state();
      const problems = [
        s.alternateScreen ? 'the alternate screen is still active' : '',
        s.cursorVisible ? '' : 'the cursor is still hidden',
        s.mouseTracking ? 'mouse tracking is still on' : '',
      ].filter((p) => p !== '');
      if (problems.length > 0) throw new Error(`the terminal was not restored: ${problems.join(', ')}\n${dump()}`);
      return result;
    },
    dispose() {
      if (exit === undefined) child.kill('SIGKILL');
    },
    dump,
  };
}

/**
 * Runs the real `caracal console` (node bin/caracal.js against dist/) in a pseudo-terminal.
 * `bin` overrides the CLI's path (benchmarks run from dist/, where this file's idea of it is wrong).
 */
export function startConsole(options: PtyOptions & { readonly args?: readonly string[]; readonly bin?: string } = {}): PtySession {
  return startInPty(process.execPath, [options.bin ?? BIN, ...(options.args ?? ['console'])], options);
}
