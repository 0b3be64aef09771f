import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type PtySession } from './support/console.js';
import { replaceAnswer, runCopiedLine, setFilter, viaPalette, watchScreen } from './support/console-flows.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type RecordedRequest, type Upstream } from './support/upstream.js';
import { workloadEnv } from './support/workload.js';

/**
 * Issue #10, end to end in the real console: the guided setup of the `third-party-provider`
 * scenario with an API-key provider (the key typed into the masked field, never drawn), profile
 * written; the curl line copied from the result run for real; the third-party API — a real local
 * server recording what it receives — gets the key in its header and never the Caracal token;
 * Audit → Enter explains the call (allowed, resource and provider); and when the third party
 * answers 401, Explain says the provider credential was rejected (resource routing).
 */

const API_KEY = `tpk_live_${randomBytes(18).toString('hex')}`;

let stack: Stack;
let thirdParty: Upstream;
let tty: PtySession | undefined;

beforeAll(async () => {
  [stack, thirdParty] = await Promise.all([
    startStack(),
    // Echoes the request ID the Gateway sent, so the test can find the call in Audit.
    startUpstream({
      handle: (req, res) => {
        const body = JSON.stringify({ ok: true, request_id: req.headers['x-request-id'] });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      },
    }),
  ]);
});

afterAll(async () => {
  await thirdParty?.close();
  await stack?.stop();
});

afterEach(() => tty?.dispose());

/** The request ID the Gateway gave a call, as the third party received it. */
function requestIdOf(request: RecordedRequest | undefined): string {
  const id = request?.headers['x-request-id'];
  if (typeof id !== 'string') throw new Error(`the third party got no X-Request-Id: ${JSON.stringify(request?.headers)}`);
  return id;
}

/** Opens Audit, narrows it to one request, waits for its gateway.request row and explains it. */
async function explainInConsole(session: PtySession, requestId: string, outcome: string): Promise<string> {
  await viaPalette(session, 'audit', 'REQUEST ID');
  await setFilter(session, `${requestId} type:gateway.request`);
  await session.waitFor(`${requestId} resource://weather-api`);
  session.press('enter');
  return session.waitFor(outcome);
}

describe('third-party provider in the console', () => {
  let configDir: string;
  let env: Record<string, string>;
  let curlLine = '';

  beforeAll(() => {
    ({ configDir, env } = workloadEnv(stack));
  });

  it('walks the third-party-provider scenario with an API-key provider; the key is never drawn', async () => {
    // 120 columns: at 100, Review cuts the resource line before its provider.
    tty = startConsole({ env, cols: 120, rows: 32 });
    const watch = watchScreen(tty, API_KEY);
    await tty.waitFor('Home');
    await viaPalette(tty, 'setup third-party-provider', 'Step 1 of 6: Zone');
    replaceAnswer(tty, 'third-party-e2e');
    await tty.waitFor('Step 2 of 6: Agent app');
    tty.press('enter'); // the default, agent
    await tty.waitFor('Step 3 of 6: Resource');
    replaceAnswer(tty, 'weather-api');
    replaceAnswer(tty, 'weather:read');
    replaceAnswer(tty, thirdParty.url);
    tty.press('enter'); // first request path: the default, /
    await tty.waitFor('Step 4 of 6: Provider');
    // Before a kind is chosen, no kind-specific field is offered.
    expect(tty.text()).not.toContain('API key header');
    tty.press('space');
    await tty.waitFor('‹ api-key ›');
    await tty.waitFor('API key header');
    expect(tty.text()).not.toContain('Token URL');
    tty.press('enter');
    replaceAnswer(tty, 'weather'); // provider name
    replaceAnswer(tty, 'X-Api-Key'); // header
    tty.press('enter'); // no query parameter
    tty.press('enter'); // no scheme
    tty.press('enter'); // allowed hosts: the upstream's own
    await tty.waitFor(/▸ Credential/);
    tty.type(API_KEY);
    await tty.waitFor('•'.repeat(20));
    tty.press('enter');
    await tty.waitFor('Step 5 of 6: Access policy');
    tty.press('enter');
    await tty.waitFor('Step 6 of 6: Review');
    await tty.waitFor(/provider\s+weather\s+\(api-key\)/);
    await tty.waitFor(/resource\s+resource:\/\/weather-api .*provider weather/);
    tty.press('space'); // write the profile
    await tty.waitFor(`profile → ${join(configDir, 'caracal.toml')}`);
    tty.press('enter');

    const screen = await tty.waitFor('Setup complete', { timeout: 20_000 });
    expect(screen).toMatch(/client secret\s+cs_•{8,}/);
    const profile = readFileSync(join(configDir, 'caracal.toml'), 'utf8');
    expect(profile).toContain('resource = "resource://weather-api"');
    expect(profile).not.toContain(API_KEY);
    const secretFile = /client_secret_file = "([^"]+)"/.exec(profile)?.[1] ?? '';
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    // The key is sealed at rest: the database holds no clear copy.
    expect(readFileSync(stack.databasePath).includes(API_KEY)).toBe(false);

    tty.press('l');
    await tty.waitFor('copied the curl line');
    curlLine = tty.clipboard() ?? '';
    expect(curlLine).toMatch(/^CARACAL_CONFIG=\S+ caracal run -- sh -c /);
    await tty.close();
    expect(watch.frames()).toBeGreaterThan(20);
    expect(watch.leak(), 'the API key was drawn on the screen').toBeUndefined();
  });

  it('a call with the written profile reaches the third party with the key in its header, never the Caracal token', async () => {
    thirdParty.reset();
    const answer = JSON.parse(await runCopiedLine(curlLine)) as { ok: boolean; request_id: string };
    expect(answer.ok).toBe(true);
    expect(thirdParty.requests).toHaveLength(1);
    const received = thirdParty.requests[0];
    expect(received?.headers['x-api-key']).toBe(API_KEY);
    expect(received?.headers.authorization).toBeUndefined();
    expect(Object.keys(received?.headers ?? {}).filter((h) => h.startsWith('x-caracal'))).toEqual([]);
    expect(JSON.stringify(received?.rawHeaders)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(answer.request_id).toBe(requestIdOf(received));
  });

  it('Audit → Enter explains that call: allowed, with its resource and provider', async () => {
    const requestId = requestIdOf(thirdParty.requests[0]);
    tty = startConsole({ env, cols: 120, rows: 36 });
    await tty.waitFor('zone third-party-e2e');
    const screen = await explainInConsole(tty, requestId, '✔ allowed');
    expect(screen).toContain(`GET /  ${requestId}`);
    expect(screen).toMatch(/resource\s+resource:\/\/weather-api/);
    expect(screen).toMatch(/provider\s+weather \(api-key, prv_\w+\)/);
    expect(screen).toMatch(/gateway\s+status 200 · upstream 200/);
    expect(screen).not.toContain('to fix:');
    await tty.close();
  });

  it('a 401 from the third party is explained as a rejected provider credential (resource routing)', async () => {
    thirdParty.reset();
    thirdParty.setHandler((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'x-seen-request': String(req.headers['x-request-id']) });
      res.end(JSON.stringify({ error: 'invalid_api_key' }));
    });
    expect(JSON.parse(await runCopiedLine(curlLine))).toEqual({ error: 'invalid_api_key' });
    const requestId = requestIdOf(thirdParty.requests[0]);

    tty = startConsole({ env, cols: 120, rows: 36 });
    await tty.waitFor('zone third-party-e2e');
    const screen = await explainInConsole(tty, requestId, 'to fix: resource routing');
    expect(screen).toMatch(/gateway\s+status 401 · upstream 401/);
    expect(screen).toMatch(/provider\s+weather \(api-key/);
    expect(screen).toContain('hint: the credential of provider weather was rejected (the upstream answered 401)');
    await tty.close();
  });
});
