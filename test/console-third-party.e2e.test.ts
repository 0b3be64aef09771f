import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type PtySession } from './support/console.js';
import { answerPrompt, replaceAnswer, runCopiedLine, setFilter, viaPalette, watchScreen } from './support/console-flows.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type RecordedRequest, type Upstream, type UpstreamHandler } from './support/upstream.js';
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

/** The third party's normal answer: 200, echoing the request ID the Gateway sent, so the test can find the call in Audit. */
const echoRequestId: UpstreamHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, request_id: req.headers['x-request-id'] }));
};

let stack: Stack;
let thirdParty: Upstream;
let tty: PtySession | undefined;

beforeAll(async () => {
  [stack, thirdParty] = await Promise.all([
    startStack(),
    startUpstream({ handle: echoRequestId }),
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
  // The filtered list, not the unfiltered one still on screen while it reloads (where the same
  // row may show unselected): exactly one event row, this one.
  await session.waitFor((screen) => screen.includes(`${requestId} resource://weather-api`) && (screen.match(/^ ?\d\d:\d\d:\d\d /gm) ?? []).length === 1);
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

  it('Providers and Resources views: Zones returns to the view asked for; replace a credential (masked, used at once), create, edit and delete', async () => {
    const NEW_KEY = `tpk_live_${randomBytes(18).toString('hex')}`;
    const NEWS_TOKEN = `news_${randomBytes(18).toString('hex')}`;
    // A second zone and no remembered one: the console starts without a zone.
    await stack.adminOk('POST', '/v1/zones', { name: 'views-e2e' });
    tty = startConsole({ env: { ...env, CARACAL_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'caracal-config-')) }, cols: 120, rows: 36 });
    const watches = [watchScreen(tty, NEW_KEY), watchScreen(tty, NEWS_TOKEN)];
    await tty.waitFor('no zone');
    // Providers needs a zone: the shell opens Zones first.
    await viaPalette(tty, 'providers', /Home › Zones\s*$/m);
    await setFilter(tty, 'third-party-e2e');
    await tty.waitFor((screen) => screen.includes('third-party-e2e') && !screen.includes('views-e2e  '));
    tty.press('enter');
    // Back on the way it was going: Providers of the picked zone, Zones gone from the breadcrumb.
    await tty.waitFor((screen) => /Home › Providers\s*$/m.test(screen) && screen.includes('zone third-party-e2e'));
    await tty.waitFor(/weather\s+prv_\w+\s+api-key/);

    tty.press('c');
    await answerPrompt(tty, /^Credential:/m, NEW_KEY);
    await tty.waitFor('replaced the credential of weather');

    tty.press('n');
    await tty.waitFor('New provider · Provider kind');
    await answerPrompt(tty, /^Provider kind:/m, 'token');
    await tty.waitFor('choose one of api-key, bearer, basic, oauth2-client-credentials');
    tty.press('ctrl-u');
    tty.type('bea');
    tty.press('tab', 'enter');
    await answerPrompt(tty, /^Provider name:/m, 'news');
    await tty.waitFor('so far: kind bearer · name news');
    await answerPrompt(tty, /^Auth scheme:/m, '');
    await answerPrompt(tty, /^Allowed hosts:/m, '');
    await answerPrompt(tty, /^Credential:/m, NEWS_TOKEN);
    await tty.waitFor(/created provider news \(prv_\w+\)/);
    await tty.waitFor(/news\s+prv_\w+\s+bearer\s+token/);

    // An API refusal lands in the status line: weather is still used by resource://weather-api.
    await setFilter(tty, 'weather');
    tty.press('D');
    await tty.waitFor('Delete provider weather and its stored credential? (y/n)');
    tty.press('y');
    await tty.waitFor(/is still used by resource:\/\/weather-api\. — Point those resources/);

    await viaPalette(tty, 'resources', 'Home › Providers /weather › Resources');
    tty.press('n');
    await answerPrompt(tty, /^Resource ID:/m, 'News API');
    await tty.waitFor('use resource://<slug> or a bare slug');
    replaceAnswer(tty, 'news-api');
    await answerPrompt(tty, /^Scopes:/m, 'news:read');
    await answerPrompt(tty, /^Upstream URL:/m, `${thirdParty.url}/`);
    await tty.waitFor('New resource · Provider (optional: enter skips)');
    tty.type('ne');
    tty.press('tab', 'enter');
    await tty.waitFor('created resource://news-api');
    const news = await stack.adminOk<{ upstream_url: string; provider_id: string; scopes: string[] }>('GET', '/v1/zones/third-party-e2e/resources/news-api');
    const newsProvider = await stack.adminOk<{ id: string; kind: string; credential_keys: string[]; config: Record<string, unknown> }>('GET', '/v1/zones/third-party-e2e/providers/news');
    expect(news).toMatchObject({ upstream_url: thirdParty.url, provider_id: newsProvider.id, scopes: ['news:read'] });
    expect(newsProvider).toMatchObject({ kind: 'bearer', credential_keys: ['token'], config: { header: 'authorization', scheme: 'Bearer' } });

    await setFilter(tty, 'news-api');
    await tty.waitFor((screen) => screen.includes('resource://news-api') && !screen.includes('resource://weather-api'));
    tty.press('e');
    await answerPrompt(tty, /^Upstream URL: http/m, `${thirdParty.url}/v2`);
    await tty.waitFor(`resource://news-api now forwards to ${thirdParty.url}/v2`);
    tty.press('D');
    await tty.waitFor('Delete resource resource://news-api? Calls naming it are refused (404) from now on. (y/n)');
    tty.press('y');
    await tty.waitFor('deleted resource://news-api');
    expect((await stack.admin('GET', '/v1/zones/third-party-e2e/resources/news-api')).status).toBe(404);

    await viaPalette(tty, 'providers', /› Resources \/news-api › Providers\s*$/m);
    await setFilter(tty, 'news');
    await tty.waitFor((screen) => /news\s+prv_/.test(screen) && !/weather\s+prv_/.test(screen));
    tty.press('D');
    await tty.waitFor('Delete provider news and its stored credential? (y/n)');
    tty.press('y');
    await tty.waitFor('deleted provider news');
    expect((await stack.admin('GET', '/v1/zones/third-party-e2e/providers/news')).status).toBe(404);
    await tty.close();
    for (const watch of watches) expect(watch.leak(), 'a credential typed into the console was drawn').toBeUndefined();

    // The replaced key is what the third party gets now (the Gateway picks it up within a second).
    thirdParty.setHandler(echoRequestId);
    const deadline = Date.now() + 5_000;
    let received: string | string[] | undefined;
    do {
      thirdParty.reset();
      await runCopiedLine(curlLine);
      received = thirdParty.requests[0]?.headers['x-api-key'];
    } while (received !== NEW_KEY && Date.now() < deadline);
    expect(received).toBe(NEW_KEY);
    expect(readFileSync(stack.databasePath).includes(NEW_KEY)).toBe(false);
  });
});
