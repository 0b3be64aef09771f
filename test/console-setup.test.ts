import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type PtySession } from './support/console.js';
import { replaceAnswer, runCopiedLine, setFilter, viaPalette } from './support/console-flows.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { ledgerEvents, workloadEnv } from './support/workload.js';

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

describe('guided setup in the console', () => {
  let configDir: string;
  let env: Record<string, string>;
  let curlLine = '';

  beforeAll(() => {
    ({ configDir, env } = workloadEnv(stack));
  });

  it('walks the internal HTTP API scenario, writes the profile, and shows what caracal setup prints', async () => {
    tty = startConsole({ env, cols: 100, rows: 30 });
    await tty.waitFor('Home');
    await viaPalette(tty, 'setup', 'Guided setup: choose a scenario');
    await tty.waitFor(/▸ Internal HTTP API\s+internal-http-api · built in/);
    tty.press('enter');

    await tty.waitFor('Step 1 of 5: Zone');
    replaceAnswer(tty, 'console-e2e');
    await tty.waitFor('Step 2 of 5: Agent app');
    tty.press('enter'); // the default, agent
    await tty.waitFor('Step 3 of 5: Resource');
    // Validation in place: a bad resource ID is refused with the scenario's own message.
    replaceAnswer(tty, 'Billing API');
    tty.press('pagedown');
    await tty.waitFor('✖ use resource://<slug>');
    tty.press('up', 'up');
    replaceAnswer(tty, 'billing-api');
    await tty.waitFor((s) => !s.includes('✖ use resource://'));
    replaceAnswer(tty, 'billing:read');
    replaceAnswer(tty, upstream.url);
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

    tty.press('w');
    await tty.waitFor('save to:');
    tty.press('enter'); // the default: beside the profile
    const saved = join(configDir, `setup-${/app_\w+/.exec(profile)?.[0] ?? ''}.txt`);
    await tty.waitFor(`saved to ${saved} (0600)`);
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(readFileSync(saved, 'utf8')).toContain(`client secret  ${secret}  (shown only this once)`);

    tty.press('l');
    await tty.waitFor('copied the curl line');
    const curl = tty.clipboard() ?? '';
    expect(curl).toMatch(/^CARACAL_CONFIG=\S+ caracal run -- sh -c /);
    expect(JSON.parse(await runCopiedLine(curl))).toMatchObject({ ok: true, method: 'GET', url: '/' });
    curlLine = curl;
    await tty.close();
  });

  it('finds that call in Audit; Enter explains it as allowed', async () => {
    const [call] = await ledgerEvents(stack.databasePath, 'gateway.request', (row) => row.decision === 'allow');
    expect(call, 'the Gateway recorded the call').toBeDefined();
    const requestId = call?.request_id ?? '';
    tty = startConsole({ env, cols: 120, rows: 36 });
    await tty.waitFor('zone console-e2e');
    await viaPalette(tty, 'audit', 'REQUEST ID');
    await setFilter(tty, requestId);
    await tty.waitFor((screen) => screen.includes(`${requestId} resource://billing-api`) && !screen.includes('token.issued'));
    tty.press('enter');
    const screen = await tty.waitFor('✔ allowed');
    expect(screen).toContain(`GET /  ${requestId}`);
    expect(screen).toMatch(/resource\s+resource:\/\/billing-api/);
    expect(screen).toMatch(/gateway\s+status 200 · upstream 200/);
    expect(screen).not.toContain('to fix:');
    await tty.close();
  });

  it('explains a call the policy denies, with category policy', async () => {
    // The operator narrows the starter policy to GET (through the admin API, as the Policies view would).
    const Z = '/v1/zones/console-e2e';
    const app = (await stack.adminOk<{ items: { id: string }[] }>('GET', `${Z}/apps`)).items[0]?.id ?? '';
    const rules = [{ id: 'starter', effect: 'allow', apps: [app], resources: ['resource://billing-api'], scopes: ['billing:read'], methods: ['GET'], paths: ['/**'] }];
    const version = await stack.adminOk<{ version: number }>('POST', `${Z}/policies/starter-agent-billing-api/versions`, { format: 'json', source: JSON.stringify({ rules }) });
    const set = await stack.adminOk<{ version: number }>('POST', `${Z}/policy-sets/starter/versions`, { policies: [{ policy: 'starter-agent-billing-api', version: version.version }] });
    await stack.adminOk('POST', `${Z}/policy-sets/starter/activate`, { version: set.version });

    // Activation reaches the Gateway within a second (DESIGN.md §6): call until it refuses.
    const post = curlLine.replace('curl -sS', 'curl -sS -X POST');
    let denied = JSON.parse(await runCopiedLine(post)) as { request_id?: string; category?: string };
    for (const deadline = Date.now() + 5000; denied.category !== 'policy' && Date.now() < deadline; ) denied = JSON.parse(await runCopiedLine(post)) as typeof denied;
    expect(denied).toMatchObject({ category: 'policy', request_id: expect.stringMatching(/^req_/) as unknown });
    await ledgerEvents(stack.databasePath, 'gateway.request', (row) => row.request_id === denied.request_id);
    const requestId = denied.request_id ?? '';

    tty = startConsole({ env, cols: 120, rows: 36 });
    await tty.waitFor('zone console-e2e');
    await viaPalette(tty, 'audit', 'REQUEST ID');
    // A list that ends in the past (here: now, just after the denied call) is not live; one without `until` is.
    const until = new Date().toISOString();
    await setFilter(tty, `decision:deny until:${until}`);
    await tty.waitFor((screen) => screen.includes(`Audit /decision:deny until:${until}`) && screen.includes(`deny   ${requestId}`));
    await setFilter(tty, 'decision:deny');
    await tty.waitFor((screen) => screen.includes('Audit (live) /decision:deny') && screen.includes(`deny   ${requestId}`) && !screen.includes('allow '));
    tty.press('enter');
    const screen = await tty.waitFor('✖ denied');
    expect(screen).toContain(`POST /  ${requestId}`);
    expect(screen).toMatch(/to fix: policy/);
    expect(screen).toMatch(/nearest: rule `starter` .* allows GET but the request was POST/);
    await tty.close();
  });

  it('shows a refusal with its advice, and retries with a new secret for the existing app once confirmed', async () => {
    tty = startConsole({ env, cols: 100, rows: 30 });
    await tty.waitFor('Home');
    await viaPalette(tty, 'setup internal-http-api', 'Step 1 of 5: Zone');
    replaceAnswer(tty, 'console-e2e');
    await tty.waitFor('Step 2 of 5');
    tty.press('enter');
    await tty.waitFor('Step 3 of 5');
    replaceAnswer(tty, 'billing-api');
    replaceAnswer(tty, 'billing:read');
    replaceAnswer(tty, upstream.url);
    tty.press('enter');
    await tty.waitFor('Step 4 of 5');
    tty.press('enter');
    await tty.waitFor('Step 5 of 5: Review');
    tty.press('enter');
    const refused = (await tty.waitFor('✖ app "agent"')).replace(/\s*\n\s*/g, ' ');
    expect(refused).toMatch(/already exists in zone console-e2e; its client secret was shown once/);
    expect(refused).toContain('R retries with a new secret');
    tty.press('R');
    await tty.waitFor('Its old secret stops working at once. (y/n)');
    tty.press('y');
    const screen = await tty.waitFor('Setup complete');
    expect(screen).toMatch(/app +agent +rotated/);
    expect(screen).toMatch(/zone +console-e2e +reused/);
    await tty.close();
  });
});
