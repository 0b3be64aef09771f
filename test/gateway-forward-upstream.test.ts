import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import type { GatewayRow } from './support/ledger.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { ledgerEvents } from './support/workload.js';

/**
 * What reaches the upstream, and how (DESIGN.md §5), against a real stack: a client's repeated
 * header lines reach the upstream as repeated lines on a provider route (where a prepareUpstream
 * plugin edits the headers); sequential calls share one keep-alive upstream connection; and an
 * upstream that goes quiet mid-body is cut at the idle limit, recorded as upstream_timeout.
 */

const IDLE_TIMEOUT_MS = 400;
const SEQUENTIAL_CALLS = 8;

let stack: Stack;
let upstream: Upstream;
let plain: Seeded;
let plainToken: string;
let provided: Seeded;
let providedToken: string;

beforeAll(async () => {
  upstream = await startUpstream({
    handle(req, res, recorded) {
      if (req.url?.startsWith('/v1/stall')) {
        // Headers and a tenth of the body, then silence: the Gateway's idle (body) timeout fires.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('x'.repeat(100));
        return;
      }
      const body = JSON.stringify({ ok: true, url: recorded.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  });
  stack = await startStack({ gatewayEnv: { CARACAL_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) } });
  plain = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
  plainToken = await stack.mint(plain);
  // Its own zone: a zone has one active policy set, and seeding activates the seeded one.
  await stack.adminOk('POST', '/v1/zones', { name: 'saas' });
  await stack.adminOk('POST', '/v1/zones/saas/providers', { name: 'saas-key', kind: 'api-key', config: { header: 'X-Api-Key' }, credentials: { api_key: 'provider-key-1' } });
  provided = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['api:read'], zone: 'saas', resource: 'saas-api', provider: 'saas-key' });
  providedToken = await stack.mint(provided);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

/** The ledger row of one request, once the Gateway's audit thread has written it. */
async function row(requestId: string): Promise<GatewayRow | undefined> {
  return (await ledgerEvents(stack.databasePath, 'gateway.request', (r) => r.request_id === requestId))[0];
}

describe('repeated request headers', () => {
  it('reach the upstream of a provider route as the client sent them, beside the injected credential', async () => {
    // A flat list goes out exactly as written (node:http adds no Host to it).
    const headers = [
      'Host',
      new URL(stack.gatewayUrl).host,
      ...Object.entries(stack.gatewayHeaders(provided, providedToken)).flat(),
      ...['X-Custom', 'a', 'X-Custom', 'b', 'Cookie', 'c=1', 'Cookie', 'd=2', 'X-Api-Key', 'from-caller', 'x-api-key', 'also-from-caller'],
    ];
    const before = upstream.hits();
    const reply = await send(`${stack.gatewayUrl}/v1/items`, { headers });
    expect(reply.status, reply.body.toString()).toBe(200);
    expect(upstream.hits() - before).toBe(1);
    const seen = upstream.requests.at(-1);
    const lines = (name: string) => {
      const raw = seen?.rawHeaders ?? [];
      const values: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) values.push(raw[i + 1] as string);
      return values;
    };
    expect(lines('x-custom')).toEqual(['a', 'b']);
    expect(lines('cookie')).toEqual(['c=1', 'd=2']);
    // The credential's header is replaced, every caller line of it: never sent beside it.
    expect(lines('x-api-key')).toEqual(['provider-key-1']);
  });
});

describe('upstream connections', () => {
  it(`reuses one keep-alive connection for ${SEQUENTIAL_CALLS} sequential calls`, async () => {
    // A first call opens the connection (or reuses one left by an earlier test): count from here.
    expect((await send(`${stack.gatewayUrl}/v1/warm`, { headers: stack.gatewayHeaders(plain, plainToken) })).status).toBe(200);
    const connections = upstream.connections();
    const before = upstream.hits();
    for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
      const reply = await send(`${stack.gatewayUrl}/v1/items/${i}`, { headers: stack.gatewayHeaders(plain, plainToken) });
      expect(reply.status).toBe(200);
    }
    expect(upstream.hits() - before).toBe(SEQUENTIAL_CALLS);
    expect(upstream.connections() - connections, 'new upstream connections').toBe(0);
    expect(upstream.openSockets()).toBe(1);
  });

  it('cuts the client connection when the upstream goes idle mid-body, and records upstream_timeout', async () => {
    const requestId = 'stall-mid-body-1';
    const started = Date.now();
    const outcome = await new Promise<{ status: number; bytes: number; cut: boolean }>((resolve, reject) => {
      const url = new URL(`${stack.gatewayUrl}/v1/stall`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, agent: false, headers: { ...stack.gatewayHeaders(plain, plainToken), 'x-request-id': requestId } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, cut: false }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, bytes, cut: true }));
      });
      req.setTimeout(10_000, () => reject(new Error('the Gateway neither finished nor cut the response')));
      req.on('error', reject);
      req.end();
    });
    expect(outcome).toEqual({ status: 200, bytes: 100, cut: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
    expect(await row(requestId)).toMatchObject({ decision: 'error', reason: 'upstream_timeout', category: 'upstream', http_status: 200, http_upstream_status: 200 });
  });
});
