import { describe, expect, it } from 'vitest';
import { exitCodeOf, runChild } from './child.js';

describe('exitCodeOf', () => {
  it.each([
    [0, null, 0],
    [3, null, 3],
    [null, 'SIGTERM', 143],
    [null, 'SIGINT', 130],
    [null, 'SIGKILL', 137],
    [null, 'SIGHUP', 129],
  ] as const)('code %s, signal %s → %i', (code, signal, expected) => {
    expect(exitCodeOf(code, signal)).toBe(expected);
  });
});

describe('runChild', () => {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' };

  it('returns the child\'s exit code and passes its arguments unchanged', async () => {
    expect(await runChild(process.execPath, ['-e', 'process.exit(process.argv[1] === "a b" ? 42 : 1)', 'a b'], env, () => undefined)).toBe(42);
  });

  it('returns 127 with a clear message for a command that does not exist', async () => {
    const reports: string[] = [];
    expect(await runChild('caracal-no-such-command-xyz', [], env, (m) => reports.push(m))).toBe(127);
    expect(reports).toEqual(['command not found: caracal-no-such-command-xyz (not on PATH, or the file does not exist)']);
  });

  it('returns 126 for a file that is not executable', async () => {
    const reports: string[] = [];
    expect(await runChild(new URL(import.meta.url).pathname, [], env, (m) => reports.push(m))).toBe(126);
    expect(reports[0]).toMatch(/not executable/);
  });

  it('returns 128 + N when signal N ends the child', async () => {
    expect(await runChild('sh', ['-c', 'kill -INT $$'], env, () => undefined)).toBe(130);
  });

  it('stops listening for signals once the child has exited', async () => {
    const before = process.listenerCount('SIGTERM');
    await runChild('true', [], env, () => undefined);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
