import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpPost } from './http-post.js';
import { createTokenClient, refreshTime, TokenRequestError } from './token-client.js';

const SECRET = `cs_${'s'.repeat(43)}`;

/** A token endpoint on port 0 that answers as told and records what it received. */
async function tokenEndpoint(answer: (n: number) => { status: number; body: unknown; delayMs?: number }) {
  const seen: { authorization: string | undefined; requestId: string | undefined; form: URLSearchParams }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, requestId: req.headers['x-request-id'] as string | undefined, form: new URLSearchParams(body) });
      const a = answer(seen.length);
      setTimeout(() => {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body));
      }, a.delayMs ?? 0);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const ok = (n: number) => ({ status: 200, body: { access_token: `tok-${n}`, token_type: 'Bearer', expires_in: 600, scope: 'billing:read' } });

describe.each([
  ['global fetch', undefined],
  ['node:http', httpPost],
] as const)('createTokenClient over %s', (_name, post) => {
  it('sends the client credentials by HTTP Basic with the resource, scopes and request ID', async () => {
    const endpoint = await tokenEndpoint(ok);
    const client = createTokenClient({ controlUrl: endpoint.url, clientId: 'app_1', clientSecret: SECRET, requestId: 'req_run', ...(post ? { post } : {}) });
    const token = await client.token('resource://billing-api', ['billing:read', 'billing:write']);
    expect(token).toMatchObject({ accessToken: 'tok-1', resource: 'resource://billing-api', scopes: ['billing:read'] });
    expect(token.expiresAt - token.issuedAt).toBe(600_000);
    const [request] = endpoint.seen;
    expect(request?.authorization).toBe(`Basic ${Buffer.from(`app_1:${SECRET}`).toString('base64')}`);
    expect(request?.requestId).toBe('req_run');
    expect(Object.fromEntries(request?.form ?? [])).toEqual({ grant_type: 'client_credentials', resource: 'resource://billing-api', scope: 'billing:read billing:write' });
  });

  it('caches per resource, fetches once for many concurrent callers, and again once the refresh time has come', async () => {
    const endpoint = await tokenEndpoint((n) => ({ ...ok(n), delayMs: 20 }));
    let now = 1_000_000;
    const client = createTokenClient({ controlUrl: endpoint.url, clientId: 'app_1', clientSecret: SECRET, now: () => now, ...(post ? { post } : {}) });
    const first = await Promise.all(Array.from({ length: 20 }, () => client.token('resource://a')));
    expect(new Set(first.map((t) => t.accessToken))).toEqual(new Set(['tok-1']));
    expect(endpoint.seen).toHaveLength(1);
    await client.token('resource://b');
    expect(endpoint.seen).toHaveLength(2);
    now = (first[0]?.refreshAt ?? 0) - 1;
    expect((await client.token('resource://a')).accessToken).toBe('tok-1');
    now = first[0]?.refreshAt ?? 0;
    const renewed = await Promise.all([client.token('resource://a'), client.token('resource://a')]);
    expect(renewed.map((t) => t.accessToken)).toEqual(['tok-3', 'tok-3']);
    client.invalidate('resource://a');
    expect((await client.token('resource://a')).accessToken).toBe('tok-4');
  });

  it('names the app and the fix for a refused secret, never the secret', async () => {
    const endpoint = await tokenEndpoint(() => ({ status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed', request_id: 'req_x' } }));
    const client = createTokenClient({ controlUrl: endpoint.url, clientId: 'app_1', clientSecret: SECRET, ...(post ? { post } : {}) });
    const error = await client.token('resource://a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'CRC_UNAUTHORIZED', error: 'invalid_client', requestId: 'req_x', httpStatus: 401 });
    expect((error as Error).message).toMatch(/refused the client secret of app app_1 \(invalid_client\) \(request req_x\)/);
    expect(JSON.stringify(error) + (error as Error).message + (error as TokenRequestError).hint).not.toContain(SECRET);
  });

  it('passes a policy refusal on with the service\'s words and the explain hint', async () => {
    const endpoint = await tokenEndpoint(() => ({ status: 400, body: { error: 'invalid_scope', error_description: 'no rule grants billing:write', request_id: 'req_y' } }));
    const client = createTokenClient({ controlUrl: endpoint.url, clientId: 'app_1', clientSecret: SECRET, ...(post ? { post } : {}) });
    await expect(client.token('resource://a')).rejects.toThrow('no token for resource://a: no rule grants billing:write (invalid_scope) (request req_y)');
    await expect(client.token('resource://a')).rejects.toMatchObject({ hint: expect.stringContaining('caracal explain req_y') as unknown });
  });

  it('says the control plane is not reachable, and how to start it', async () => {
    const endpoint = await tokenEndpoint(ok);
    for (const s of servers.splice(0)) s.close();
    const client = createTokenClient({ controlUrl: endpoint.url, clientId: 'app_1', clientSecret: SECRET, ...(post ? { post } : {}) });
    await expect(client.token('resource://a')).rejects.toMatchObject({ code: 'CRC_SERVICE_UNAVAILABLE', error: 'unreachable', message: `the control plane is not reachable at ${endpoint.url} (ECONNREFUSED)` });
  });
});

describe('refreshTime', () => {
  it.each([
    [600_000, 480_000],
    [3_600_000, 2_880_000],
    [20_000, 15_000],
    [4_000, 2_000],
  ])('a token living %i ms is replaced after %i ms', (lifetime, after) => {
    expect(refreshTime(1_000, 1_000 + lifetime) - 1_000).toBe(after);
  });
});
