import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { send, type HttpReply } from './support/http.js';
import { freePort, startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type RecordedRequest, type Upstream } from './support/upstream.js';

/**
 * Third-party providers end to end (issue #10): a real stack, a real node:http server as the
 * third-party API and another as its OAuth token endpoint. Each provider kind's credential reaches
 * the API and the Caracal token never does; OAuth tokens are fetched once under concurrent load
 * and refreshed once near expiry; a rotated credential takes effect without a restart; hosts and
 * addresses a provider or zone does not allow are refused (resource_routing); explain names a
 * rejected credential and a failing token endpoint.
 */

const POLL_MS = 25;
const WITHIN_MS = 5_000;

/** A real OAuth 2.0 token endpoint (client credentials) that counts what it issued. */
interface TokenEndpoint {
  readonly url: string;
  /** Every token request, oldest first: client authentication and form, as received. */
  readonly requests: { authorization: string | undefined; form: URLSearchParams }[];
  /** Lifetime (s) of the tokens it issues; status to answer instead (e.g. 401). */
  set(options: { expiresIn?: number; status?: number }): void;
  close(): Promise<void>;
}

async function startTokenEndpoint(): Promise<TokenEndpoint> {
  const requests: TokenEndpoint['requests'] = [];
  let expiresIn = 3600;
  let status = 200;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      requests.push({ authorization: req.headers.authorization, form });
      // Answer a little later, so concurrent Gateway requests overlap with the token request.
      setTimeout(() => {
        const body =
          status === 200
            ? { access_token: `upstream-token-${requests.length}`, token_type: 'Bearer', expires_in: expiresIn }
            : { error: 'invalid_client', error_description: 'bad client' };
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      }, 50);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`,
    requests,
    set(options) {
      if (options.expiresIn !== undefined) expiresIn = options.expiresIn;
      if (options.status !== undefined) status = options.status;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      if (server.listening) await once(server, 'close');
    },
  };
}

let stack: Stack;
let api: Upstream;
let tokens: TokenEndpoint;
let counter = 0;

beforeAll(async () => {
  api = await startUpstream({
    handle: (req, res, recorded) => {
      // The third-party API refuses one key, as a real API refuses a revoked one.
      const rejected = recorded.headers['x-api-key'] === 'revoked-key';
      res.writeHead(rejected ? 401 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: !rejected, url: req.url }));
    },
  });
  tokens = await startTokenEndpoint();
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await api?.close();
  await tokens?.close();
});

interface ProviderRoute {
  readonly seeded: Seeded;
  readonly token: string;
  readonly provider: string;
}

/** A provider, an app and a resource using it, an active policy, and a token: through the admin API. */
async function providerRoute(kind: string, config: Record<string, unknown>, credentials: Record<string, string>, zone = 'demo'): Promise<ProviderRoute> {
  counter++;
  const provider = `prov-${counter}`;
  const slug = `api-${counter}`;
  if ((await stack.admin('GET', `/v1/zones/${zone}`)).status === 404) await stack.adminOk('POST', '/v1/zones', { name: zone });
  await stack.adminOk('POST', `/v1/zones/${zone}/providers`, { name: provider, kind, config, credentials });
  const seeded = await stack.seedInternalApi({ upstreamUrl: api.url, scopes: ['api:read'], zone, app: `agent-${counter}`, resource: slug, provider });
  return { seeded, token: await stack.mint(seeded), provider };
}

/** Calls through the Gateway (path and query as given) until `done` holds; fails after WITHIN_MS. */
async function callUntil(route: ProviderRoute, path: string, done: (reply: HttpReply) => boolean): Promise<HttpReply> {
  const deadline = Date.now() + WITHIN_MS;
  let reply = await call(route, path);
  while (!done(reply)) {
    if (Date.now() > deadline) throw new Error(`no expected answer within ${WITHIN_MS} ms; last: ${reply.status} ${reply.body.toString()}\ngateway log:\n${stack.logs().gateway}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    reply = await call(route, path);
  }
  return reply;
}

function call(route: ProviderRoute, path = '/v1/items', extra: Record<string, string> = {}): Promise<HttpReply> {
  return send(`${stack.gatewayUrl}${path}`, { headers: { ...stack.gatewayHeaders(route.seeded, route.token), ...extra } });
}

/** The last request the third-party API received. */
function lastSeen(): RecordedRequest {
  const seen = api.requests.at(-1);
  if (seen === undefined) throw new Error('the API received nothing');
  return seen;
}

/** Asserts that nothing of the Caracal side (its token, its headers) reached the API. */
function expectNoCaracalToken(seen: RecordedRequest, token: string): void {
  expect(seen.rawHeaders.join('\n')).not.toContain(token);
  expect(seen.url).not.toContain(token);
  expect(Object.keys(seen.headers).filter((h) => h.startsWith('x-caracal-'))).toEqual([]);
}

/** Polls the explanation of a request until the Gateway's audit event has landed. */
async function explain(requestId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + WITHIN_MS;
  for (;;) {
    const reply = await stack.admin<Record<string, unknown>>('GET', `/v1/requests/${requestId}/explain`);
    if (reply.status === 200 && reply.body.kind === 'gateway.request') return reply.body;
    if (Date.now() > deadline) throw new Error(`no explanation of ${requestId}: ${reply.status} ${JSON.stringify(reply.body)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe('each provider kind injects its credential and the Caracal token never reaches the API', () => {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const cases: { name: string; kind: string; config: Record<string, unknown>; credentials: Record<string, string>; expect: (seen: RecordedRequest) => void }[] = [
    {
      name: 'api-key in a named header',
      kind: 'api-key',
      config: { header: 'X-Api-Key' },
      credentials: { api_key: 'key-header-1' },
      expect: (seen) => {
        expect(seen.headers['x-api-key']).toBe('key-header-1');
        expect(seen.headers.authorization).toBeUndefined();
      },
    },
    {
      name: 'api-key in a header with a scheme',
      kind: 'api-key',
      config: { header: 'Authorization', scheme: 'Token' },
      credentials: { api_key: 'key-scheme-1' },
      expect: (seen) => expect(seen.headers.authorization).toBe('Token key-scheme-1'),
    },
    {
      name: 'api-key in a query parameter (a caller-sent one is replaced, other parameters kept byte for byte)',
      kind: 'api-key',
      config: { query: 'api_key' },
      credentials: { api_key: 'key/query 1' },
      expect: (seen) => {
        expect(seen.url).toBe('/v1/items?q=a%20b&api_key=key%2Fquery%201');
        expect(seen.headers.authorization).toBeUndefined();
      },
    },
    {
      name: 'bearer',
      kind: 'bearer',
      config: {},
      credentials: { token: 'static-bearer-1' },
      expect: (seen) => expect(seen.headers.authorization).toBe('Bearer static-bearer-1'),
    },
    {
      name: 'HTTP basic',
      kind: 'basic',
      config: {},
      credentials: { username: 'svc', password: 'p@ss:word' },
      expect: (seen) => expect(seen.headers.authorization).toBe(basic('svc', 'p@ss:word')),
    },
  ];

  it.each(cases)('$name', async (c) => {
    const route = await providerRoute(c.kind, c.config, c.credentials);
    const path = c.config.query === undefined ? '/v1/items' : '/v1/items?q=a%20b&api_key=from-caller';
    const reply = await call(route, path, { 'x-api-key': 'from-caller' });
    expect(reply.status, reply.body.toString()).toBe(200);
    const seen = lastSeen();
    c.expect(seen);
    if (c.config.header !== 'X-Api-Key') expect(seen.headers['x-api-key']).toBe('from-caller');
    expectNoCaracalToken(seen, route.token);
  });

  it.each(['client_secret_basic', 'client_secret_post'])('OAuth 2.0 client credentials (%s) with scopes and audience', async (method) => {
    const before = tokens.requests.length;
    const route = await providerRoute(
      'oauth2-client-credentials',
      { token_url: tokens.url, client_id: 'client one', scopes: ['read', 'write'], audience: 'https://api.example.com', auth_method: method },
      { client_secret: 'secret+one' },
    );
    const reply = await call(route);
    expect(reply.status, reply.body.toString()).toBe(200);
    expect(tokens.requests.length).toBe(before + 1);
    const asked = tokens.requests.at(-1);
    expect(asked?.form.get('grant_type')).toBe('client_credentials');
    expect(asked?.form.get('scope')).toBe('read write');
    expect(asked?.form.get('audience')).toBe('https://api.example.com');
    if (method === 'client_secret_basic') {
      // RFC 6749 §2.3.1: form-encoded, then base64.
      expect(asked?.authorization).toBe(`Basic ${Buffer.from('client+one:secret%2Bone').toString('base64')}`);
      expect(asked?.form.get('client_secret')).toBeNull();
    } else {
      expect(asked?.authorization).toBeUndefined();
      expect([asked?.form.get('client_id'), asked?.form.get('client_secret')]).toEqual(['client one', 'secret+one']);
    }
    expect(lastSeen().headers.authorization).toBe(`Bearer upstream-token-${tokens.requests.length}`);
    expectNoCaracalToken(lastSeen(), route.token);
  });

  it('never logs a credential', () => {
    const logs = `${stack.logs().gateway}\n${stack.logs().control}`;
    for (const secret of ['key-header-1', 'key-scheme-1', 'static-bearer-1', 'p@ss:word', 'secret+one']) expect(logs).not.toContain(secret);
  });
});

describe('OAuth 2.0 tokens under concurrent load', () => {
  it('fetches one token for 50 concurrent calls, then refreshes it once near expiry', async () => {
    tokens.set({ expiresIn: 3 });
    onTestFinished(() => tokens.set({ expiresIn: 3600 }));
    const route = await providerRoute('oauth2-client-credentials', { token_url: tokens.url, client_id: 'load' }, { client_secret: 'load-secret' });
    const before = tokens.requests.length;
    const burst = async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, () => call(route)));
      expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    };
    await burst();
    expect(tokens.requests.length - before).toBe(1);
    const first = lastSeen().headers.authorization;

    // Near expiry (the last fifth of its 3 s life) a burst starts exactly one refresh; callers
    // keep the current token until the new one arrives.
    const refreshed = `Bearer upstream-token-${before + 2}`;
    const deadline = Date.now() + WITHIN_MS;
    while (lastSeen().headers.authorization !== refreshed) {
      if (Date.now() > deadline) throw new Error(`the token was not refreshed before it expired (${tokens.requests.length - before} token requests)`);
      await burst();
      expect(tokens.requests.length - before).toBeLessThanOrEqual(2);
    }
    await burst();
    expect(tokens.requests.length - before).toBe(2);
    expect(lastSeen().headers.authorization).not.toBe(first);
  });
});

describe('a rotated credential takes effect without a restart', () => {
  it('api-key: the next calls carry the new key', async () => {
    const route = await providerRoute('api-key', { header: 'X-Api-Key' }, { api_key: 'rotate-old' });
    expect((await call(route)).status).toBe(200);
    expect(lastSeen().headers['x-api-key']).toBe('rotate-old');
    await stack.adminOk('PUT', `/v1/zones/demo/providers/${route.provider}/credentials`, { api_key: 'rotate-new' });
    await callUntil(route, '/v1/items', () => lastSeen().headers['x-api-key'] === 'rotate-new');
  });

  it('OAuth: the cached token is dropped and a new one is fetched with the new secret', async () => {
    const route = await providerRoute('oauth2-client-credentials', { token_url: tokens.url, client_id: 'rot', auth_method: 'client_secret_post' }, { client_secret: 'old-secret' });
    expect((await call(route)).status).toBe(200);
    const cached = lastSeen().headers.authorization;
    expect((await call(route)).status).toBe(200);
    expect(lastSeen().headers.authorization).toBe(cached);
    await stack.adminOk('PUT', `/v1/zones/demo/providers/${route.provider}/credentials`, { client_secret: 'new-secret' });
    await callUntil(route, '/v1/items', () => lastSeen().headers.authorization !== cached);
    expect(tokens.requests.at(-1)?.form.get('client_secret')).toBe('new-secret');
  });
});

describe('hosts and addresses a provider or zone does not allow are refused (resource_routing)', () => {
  it('refuses at creation a resource whose upstream host is not an allowed host of its provider (422 naming host and fix)', async () => {
    await stack.adminOk('POST', '/v1/zones/demo/providers', { name: 'narrow', kind: 'bearer', config: { allowed_hosts: ['api.example.com'] }, credentials: { token: 't' } });
    const reply = await stack.admin<{ message: string; hint: string }>('POST', '/v1/zones/demo/resources', { id: 'narrow-api', scopes: ['a'], upstream_url: api.url, provider: 'narrow' });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain(`127.0.0.1:${api.port} is not an allowed host of provider narrow`);
    expect(reply.body.hint).toContain(`caracal providers update narrow --allowed-hosts api.example.com,127.0.0.1:${api.port} --zone demo`);
    // The same on update: pointing an existing resource with that provider elsewhere.
    await stack.adminOk('POST', '/v1/zones/demo/resources', { id: 'narrow-ok', scopes: ['a'], upstream_url: 'https://api.example.com/v1', provider: 'narrow' });
    expect((await stack.admin('PATCH', '/v1/zones/demo/resources/narrow-ok', { upstream_url: api.url })).status).toBe(422);
  });

  it('refuses at call time once the provider no longer allows the host', async () => {
    const route = await providerRoute('api-key', { header: 'X-Api-Key', allowed_hosts: [`127.0.0.1:${api.port}`] }, { api_key: 'host-key' });
    expect((await call(route)).status).toBe(200);
    await stack.adminOk('PATCH', `/v1/zones/demo/providers/${route.provider}`, { config: { header: 'X-Api-Key', allowed_hosts: ['api.example.com'] } });
    await callUntil(route, '/v1/items', (r) => r.status !== 200);
    const hits = api.hits();
    const reply = await call(route);
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ reason: 'host_not_allowed', category: 'resource_routing' });
    expect(String(reply.json?.message)).toContain(`127.0.0.1:${api.port}`);
    expect(api.hits()).toBe(hits);
  });

  it('refuses link-local, metadata, multicast and unspecified upstreams and token endpoints at creation, in any zone', async () => {
    for (const host of ['169.254.169.254', '[fd00:ec2::254]', '224.0.0.1', '0.0.0.0', '[::]', '[fe80::1]']) {
      const resource = await stack.admin<{ message: string }>('POST', '/v1/zones/demo/resources', { id: 'meta', scopes: ['a'], upstream_url: `http://${host}/latest` });
      expect(resource.status, host).toBe(422);
      expect(resource.body.message).toContain('which Caracal never connects to');
    }
    const provider = await stack.admin<{ message: string }>('POST', '/v1/zones/demo/providers', {
      name: 'meta-oauth',
      kind: 'oauth2-client-credentials',
      config: { token_url: 'http://169.254.169.254/token', client_id: 'c' },
      credentials: { client_secret: 's' },
    });
    expect(provider.status).toBe(422);
    expect(provider.body.message).toContain('config.token_url points at 169.254.169.254, a cloud metadata address');
  });

  /** A production zone that lists `localhost`, with one provider route whose upstream or token endpoint is on localhost. */
  async function productionRoute(zone: string, kind: string, config: Record<string, unknown>, credentials: Record<string, string>, upstreamUrl: string): Promise<ProviderRoute> {
    await stack.adminOk('POST', '/v1/zones', { name: zone, kind: 'production', allowed_private_hosts: ['localhost'] });
    await stack.adminOk('POST', `/v1/zones/${zone}/providers`, { name: `${zone}-provider`, kind, config, credentials });
    const seeded = await stack.seedInternalApi({ upstreamUrl, scopes: ['api:read'], zone, app: `${zone}-agent`, resource: `${zone}-api`, provider: `${zone}-provider` });
    return { seeded, token: await stack.mint(seeded), provider: `${zone}-provider` };
  }

  it('checks the address at connect time: a name a production zone stops listing is refused, for the upstream and the token endpoint', async () => {
    const tokenPort = new URL(tokens.url).port;
    const route = await productionRoute('prod', 'api-key', { header: 'X-Api-Key' }, { api_key: 'prod-key' }, `http://localhost:${api.port}`);
    await callUntil(route, '/v1/items', (r) => r.status === 200);
    expect(lastSeen().headers['x-api-key']).toBe('prod-key');
    const oauth = await productionRoute(
      'prod-oauth',
      'oauth2-client-credentials',
      { token_url: `http://localhost:${tokenPort}/oauth/token`, client_id: 'c' },
      { client_secret: 's' },
      `http://localhost:${api.port}`,
    );
    await callUntil(oauth, '/v1/items', (r) => r.status === 200);

    // localhost (127.0.0.1) is no longer listed: the names pass, the addresses do not.
    await stack.adminOk('PATCH', '/v1/zones/prod', { allowed_private_hosts: ['10.0.0.0/8'] });
    expect(await stack.adminOk('GET', '/v1/zones/prod')).toMatchObject({ kind: 'production', allowed_private_hosts: ['10.0.0.0/8'] });
    await callUntil(route, '/v1/items', (r) => r.status !== 200);
    const hits = api.hits();
    const refused = await call(route);
    expect(refused.status).toBe(502);
    expect(refused.json).toMatchObject({ reason: 'address_not_allowed', category: 'resource_routing' });
    expect(String(refused.json?.message)).toContain('localhost, which resolves to');
    expect(api.hits()).toBe(hits);

    // The token endpoint: a rotation drops the cached token, so the next call must fetch one.
    await stack.adminOk('PATCH', '/v1/zones/prod-oauth', { allowed_private_hosts: [`127.0.0.2`] });
    await stack.adminOk('PUT', '/v1/zones/prod-oauth/providers/prod-oauth-provider/credentials', { client_secret: 's2' });
    const fetched = tokens.requests.length;
    const tokenRefused = await callUntil(oauth, '/v1/items', (r) => r.status !== 200);
    expect(tokenRefused.json).toMatchObject({ reason: 'address_not_allowed', category: 'resource_routing' });
    expect(String(tokenRefused.json?.message)).toContain(`the token endpoint http://localhost:${tokenPort} of provider prod-oauth-provider`);
    expect(tokens.requests.length).toBe(fetched);
  });
});

describe('explain understands provider failures', () => {
  it('an upstream 401 to the injected credential: the provider credential was rejected, replace it (resource_routing)', async () => {
    const route = await providerRoute('api-key', { header: 'X-Api-Key' }, { api_key: 'revoked-key' });
    const reply = await call(route);
    expect(reply.status).toBe(401);
    const explained = await explain(String(reply.headers['x-request-id']));
    expect(explained).toMatchObject({ final_decision: 'allow', category: 'resource_routing', reason: 'provider_credential_rejected', gateway: { status: 401, upstream_status: 401 } });
    expect(String(explained.summary)).toContain('the upstream rejected it');
    expect(String(explained.hint)).toContain(`the credential of provider ${route.provider} was rejected`);
    expect(String(explained.hint)).toContain(`caracal providers set-credentials ${route.provider}`);
  });

  it('a token endpoint that is down: upstream category, with the hint to check it', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/token`;
    const route = await providerRoute('oauth2-client-credentials', { token_url: closed, client_id: 'c' }, { client_secret: 's' });
    const reply = await call(route);
    expect(reply.status).toBe(502);
    expect(reply.json).toMatchObject({ reason: 'provider_token_unavailable', category: 'upstream' });
    expect(String(reply.json?.message)).toContain('could not be reached (ECONNREFUSED)');
    const explained = await explain(String(reply.headers['x-request-id']));
    expect(explained).toMatchObject({ category: 'upstream', reason: 'provider_token_unavailable' });
    expect(String(explained.hint)).toContain(`token endpoint of provider ${route.provider}`);
  });

  it('a token endpoint that refuses the client: upstream category, replace the client secret', async () => {
    tokens.set({ status: 401 });
    onTestFinished(() => tokens.set({ status: 200 }));
    const route = await providerRoute('oauth2-client-credentials', { token_url: tokens.url, client_id: 'c' }, { client_secret: 'wrong' });
    const reply = await call(route);
    expect(reply.status).toBe(502);
    expect(reply.json).toMatchObject({ reason: 'provider_token_refused', category: 'upstream' });
    expect(String(reply.json?.message)).toContain('refused the client credentials with 401 (invalid_client)');
    const explained = await explain(String(reply.headers['x-request-id']));
    expect(String(explained.hint)).toContain(`caracal providers set-credentials ${route.provider}`);
  });
});
