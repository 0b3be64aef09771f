import { afterEach, describe, expect, it } from 'vitest';
import { startInPty, type PtySession } from './console.js';

/**
 * The pseudo-terminal driver against tiny real programs (node -e), so it is proven before the
 * console uses it: the screen is what a terminal shows, keys arrive as a terminal sends them,
 * waits fail with the screen, and close() catches a program that leaves the terminal broken.
 */

// A full-screen program in miniature: alternate screen, hidden cursor, raw keys echoed as their
// escaped form, the size on SIGWINCH, `q` restores the terminal (or not, with BROKEN=1) and exits.
const FULL_SCREEN = `
const out = process.stdout;
out.write('\\x1b[?1049h\\x1b[?25l\\x1b[H\\x1b[2J');
out.write('ready ' + out.columns + 'x' + out.rows + '\\r\\n');
process.stdin.setRawMode(true);
process.stdin.on('data', (d) => {
  const s = d.toString();
  if (s === 'q') {
    if (!process.env.BROKEN) out.write('\\x1b[?25h\\x1b[?1049l');
    out.write('bye\\r\\n', () => process.exit(3));
    return;
  }
  out.write('key ' + JSON.stringify(s) + '\\r\\n');
});
process.on('SIGWINCH', () => out.write('size ' + out.columns + 'x' + out.rows + '\\r\\n'));
`;

let session: PtySession | undefined;
afterEach(() => session?.dispose());

const run = (script: string, options: Parameters<typeof startInPty>[2] = {}) => (session = startInPty(process.execPath, ['-e', script], options));

describe('pseudo-terminal driver', () => {
  it('shows what the program printed on a screen of the given size, and reports the exit', async () => {
    const tty = run('console.log("hello from a tty:", process.stdout.isTTY, process.stdout.columns, process.stdout.rows)', { cols: 90, rows: 20 });
    await tty.waitFor('hello from a tty: true 90 20');
    expect(await tty.exited()).toEqual({ exitCode: 0, signal: 0 });
    expect(tty.screen()).toHaveLength(20);
    expect(tty.screen()[0]).toBe('hello from a tty: true 90 20');
  });

  it('passes only the environment it was given (plus PATH, HOME, TERM, LANG)', async () => {
    process.env.CARACAL_DRIVER_LEAK = 'leaked';
    try {
      const tty = run('console.log("env", process.env.TERM, process.env.ONLY ?? "-", process.env.CARACAL_DRIVER_LEAK ?? "clean")', { env: { ONLY: 'given' } });
      await tty.waitFor('env xterm-256color given clean');
    } finally {
      delete process.env.CARACAL_DRIVER_LEAK;
    }
  });

  it('sends named keys and typed text as a terminal does', async () => {
    const tty = run(FULL_SCREEN);
    await tty.waitFor('ready 100x30');
    tty.press('up', 'enter');
    await tty.waitFor('key "\\u001b[A\\r"');
    tty.press('esc');
    await tty.waitFor('key "\\u001b"');
    tty.press('ctrl-c');
    await tty.waitFor('key "\\u0003"');
    tty.type('abc');
    await tty.waitFor(/key "abc"/);
    expect(tty.state()).toEqual({ cursorVisible: false, alternateScreen: true, mouseTracking: false });
    expect(await tty.close()).toEqual({ exitCode: 3, signal: 0 });
    expect(tty.text()).toContain('bye');
  });

  it('resizes the terminal and the emulator together (the program sees SIGWINCH)', async () => {
    const tty = run(FULL_SCREEN, { cols: 80, rows: 24 });
    await tty.waitFor('ready 80x24');
    tty.resize(200, 60);
    await tty.waitFor('size 200x60');
    expect(tty.screen()).toHaveLength(60);
    await tty.close();
  });

  it('fails a wait with a dump of the screen when the text never appears', async () => {
    const tty = run(FULL_SCREEN);
    await tty.waitFor('ready');
    const failure = await tty.waitFor('never shown', { timeout: 200 }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/waited 200 ms for "never shown"/);
    expect((failure as Error).message).toContain('|ready 100x30');
    expect((failure as Error).message).toContain('cursor hidden, alternate screen');
    await tty.close();
  });

  it('fails a wait at once when the program exits first', async () => {
    const tty = run('console.log("short-lived")');
    const started = Date.now();
    await expect(tty.waitFor('something else', { timeout: 5000 })).rejects.toThrow(/exited first[\s\S]*short-lived/);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('close() refuses a program that left the terminal in the alternate screen with the cursor hidden', async () => {
    const tty = run(FULL_SCREEN, { env: { BROKEN: '1' } });
    await tty.waitFor('ready');
    await expect(tty.close()).rejects.toThrow(/not restored: the alternate screen is still active, the cursor is still hidden/);
  });

  it('reports the rows drawn in inverse video (a list selection)', async () => {
    const tty = run(`process.stdout.write('plain\\r\\n\\x1b[7mselected\\x1b[27m\\r\\nplain\\r\\n')`);
    await tty.waitFor('selected');
    expect(tty.inverseRows()).toEqual([1]);
  });

  it('records what the program copies to the clipboard with OSC 52', async () => {
    const tty = run(`process.stdout.write('\\x1b]52;c;' + Buffer.from('copied ✓').toString('base64') + '\\x07' + 'sent\\r\\n')`);
    expect(tty.clipboard()).toBeUndefined();
    await tty.waitFor('sent');
    expect(tty.clipboard()).toBe('copied ✓');
  });

  it('reports a signal that ended the program', async () => {
    const tty = run(FULL_SCREEN);
    await tty.waitFor('ready');
    tty.kill('SIGKILL');
    expect((await tty.exited()).signal).toBe(9);
  });
});
