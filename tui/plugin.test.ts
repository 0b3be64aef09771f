import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { hasTerminal } from './plugin.js';

describe('caracal console', () => {
  it('refuses to start without a terminal, with one clear line and the usage exit code', async () => {
    const result = await execa('node', ['bin/caracal.js', 'console'], { reject: false, stdin: 'pipe', env: { CARACAL_HOME: '/nonexistent-caracal-home' } });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/caracal console needs an interactive terminal \(stdin and stdout must be a TTY\)/);
    expect(result.stderr).not.toContain('\u001b[?1049h');
  });

  it('needs both ends to be terminals', () => {
    expect(hasTerminal({ isTTY: true }, { isTTY: true })).toBe(true);
    expect(hasTerminal({ isTTY: true }, {})).toBe(false);
    expect(hasTerminal({}, { isTTY: true })).toBe(false);
  });
});
