import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type PtySession } from './support/console.js';
import { viaPalette } from './support/console-flows.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, workloadEnv } from './support/workload.js';

/**
 * `caracal console` as a whole, in a pseudo-terminal against a real stack: it refuses without a
 * terminal, always gives the terminal back (q, Ctrl-C, SIGTERM), and every view shows its key
 * content at 80x24 and uses the room at 200x60 (DESIGN.md §10).
 */

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let requestId: string;
let env: Record<string, string>;
let tty: PtySession | undefined;

beforeAll(async () => {
  [stack, upstream] = await Promise.all([startStack(), startUpstream()]);
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
  const response = await fetch(`${stack.gatewayUrl}/v1/invoices`, { headers: stack.gatewayHeaders(seeded, await stack.mint(seeded)) });
  await response.text();
  requestId = response.headers.get('x-request-id') ?? '';
  ({ env } = workloadEnv(stack));
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
});

afterEach(() => tty?.dispose());

const all =
  (...parts: (string | RegExp)[]) =>
  (screen: string) =>
    parts.every((p) => (typeof p === 'string' ? screen.includes(p) : p.test(screen)));

describe('caracal console outside a terminal', () => {
  it('refuses with one line that says why, and a non-zero exit', async () => {
    const run = await caracal(['console'], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'error [CRC_USAGE] caracal console needs an interactive terminal (stdin and stdout must be a TTY); in scripts use caracal setup, status, audit list and explain',
    ]);
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe('caracal console gives the terminal back', () => {
  it.each([
    ['q', ['q'], 0],
    ['Ctrl-C', ['\u0003'], 0],
  ] as const)('after %s: normal screen, cursor shown', async (_name, keys, code) => {
    tty = startConsole({ env, cols: 80, rows: 24 });
    await tty.waitFor(all('Home', 'control ✔'));
    expect(tty.state()).toMatchObject({ alternateScreen: true, cursorVisible: false });
    expect((await tty.close(keys)).exitCode).toBe(code);
  });

  it('after SIGTERM (exit 143), also from inside a text field of the guided setup', async () => {
    tty = startConsole({ env, cols: 80, rows: 24 });
    await tty.waitFor('Home');
    await viaPalette(tty, 'setup internal-http-api', all('Step 1 of 5: Zone'));
    // In a text field q is text: the hint bar offers ^C to quit, not q.
    const field = await tty.waitFor('^C quit');
    expect(field).not.toMatch(/\bq quit\b/);
    tty.kill('SIGTERM');
    expect((await tty.close()).exitCode).toBe(143);
  });
});

describe.each([
  [80, 24],
  [200, 60],
])('every view at %ix%i', (cols, rows) => {
  it('shows its key content', async () => {
    const wide = cols >= 200;
    tty = startConsole({ env, cols, rows });
    const home = await tty.waitFor(all('Home', 'control', 'gateway', 'Guided setup', `zone ${seeded.zoneName}`));
    expect(home).toMatch(/✔ control +http:\/\/127\.0\.0\.1:\d+ +ready/);
    // The header names the zone's ID where there is room for it.
    expect(home.includes(seeded.zoneId)).toBe(wide);

    await viaPalette(tty, 'setup', all('Guided setup: choose a scenario', 'Internal HTTP API', 'Third-party provider'));
    tty.press('enter');
    await tty.waitFor('Step 1 of 5: Zone');
    tty.press('enter', 'enter');
    const resource = await tty.waitFor(all('Step 3 of 5: Resource', '▸ Resource ID *', 'Upstream URL *'));
    // Help is cut for fields without focus at 80 columns, whole at 200.
    expect(resource.includes('Where the Gateway forwards calls for this resource, e.g. http://127.0.0.1:4780 (caracal demo-upstream)')).toBe(wide);
    tty.press('esc');
    await tty.waitFor((s) => !s.includes('Step 3 of 5'));

    await viaPalette(tty, 'zones', all(seeded.zoneName, seeded.zoneId, 'evaluation'));
    await viaPalette(tty, 'apps', all('agent', seeded.appId, 'active'));
    // What an action says stays on the status line after the list reloads (it used to give way to "loading…").
    tty.press('d');
    await tty.waitFor('Disable agent?');
    tty.press('y');
    await tty.waitFor(all('agent is disabled', 'disabled  '));
    tty.press('d');
    await tty.waitFor((s) => s.includes('agent is enabled') && s.includes('active'));
    await viaPalette(tty, 'resources', all('resource://billing-api', 'billing:read', 'http://127.0.0.1:'));
    await viaPalette(tty, 'providers', all('no provider in this zone'));
    await viaPalette(tty, 'policies', all(seeded.policyName));
    const audit = await viaPalette(tty, 'audit', all(requestId, 'GET /v1/inv', 'token.issued'));
    expect(audit.includes('RESOURCE')).toBe(wide);
    await viaPalette(tty, 'plugins', all('scenario-internal-http-api', 'loaded'));
    await viaPalette(tty, `explain ${requestId}`, all('✔ allowed', 'GET /v1/invoices', 'rules starter', 'status 200'));
    await tty.close();
  });
});

describe('a resize', () => {
  it('repaints the guided setup for the new size, both ways', async () => {
    tty = startConsole({ env, cols: 80, rows: 24 });
    await tty.waitFor('Home');
    await viaPalette(tty, 'setup internal-http-api', all('Step 1 of 5: Zone'));
    tty.press('enter', 'enter');
    const fullHelp = 'The scopes the resource defines and the app gets, comma-separated, e.g. billing:read,billing:write';
    await tty.waitFor(all('Step 3 of 5: Resource', 'The scopes the resource defines'));
    expect(tty.text()).not.toContain(fullHelp);
    tty.resize(200, 60);
    await tty.waitFor(fullHelp);
    tty.resize(80, 24);
    await tty.waitFor((s) => s.includes('Step 3 of 5: Resource') && !s.includes(fullHelp));
    // q is text in a field (the focused Resource ID); Ctrl-C quits from anywhere.
    tty.type('q');
    await tty.waitFor(/▸ Resource ID \* +q/);
    expect(tty.state().alternateScreen).toBe(true);
    await tty.close(['\u0003']);
  });
});
