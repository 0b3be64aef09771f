import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { decodeJws } from './support/tokens.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * Changes made through the admin API reach the running Gateway within a second, without a
 * restart (DESIGN.md §3, §4, §6): revocations, policy activations, resource upstreams.
 */

const WITHIN_MS = 1000;
const POLL_MS = 20;

let stack: Stack;
let upstream: Upstream;
let moved: Upstream;
let seeded: Seeded;

beforeAll(async () => {
  upstream = await startUpstream();
  moved = await startUpstream({ handle: (_req, res) => res.end('moved') });
  stack = await startStack();
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  await moved?.close();
});

const call = (token: string, path = '/v1/x') => send(`${stack.gatewayUrl}${path}`, { headers: stack.gatewayHeaders(seeded, token) });

/**
 * Calls until `done(reply)` holds and returns how long that took after `since`; fails after
 * WITHIN_MS plus one poll interval.
 */
async function msUntil(token: string, since: number, done: (status: number, body: string) => boolean, path?: string): Promise<number> {
  const deadline = since + WITHIN_MS + POLL_MS;
  let last = '';
  while (Date.now() <= deadline) {
    const reply = await call(token, path);
    last = `${reply.status} ${reply.body.toString()}`;
    if (done(reply.status, reply.body.toString())) return Date.now() - since;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`the change did not reach the Gateway within ${WITHIN_MS} ms; last answer: ${last}`);
}

describe('changes reach the running Gateway within a second', () => {
  it('a revoked token is refused', async () => {
    const token = await stack.mint(seeded);
    expect((await call(token)).status).toBe(200);
    await stack.adminOk('POST', '/v1/revocations', { kind: 'jti', value: decodeJws(token).payload.jti, zone: seeded.zoneName });
    const since = Date.now();
    expect(await msUntil(token, since, (status, body) => status === 401 && body.includes('token_revoked'))).toBeLessThanOrEqual(WITHIN_MS + POLL_MS);
    // And it stays refused.
    expect((await call(token)).status).toBe(401);
  });

  it('a narrower policy set version denies, and the broader one allows again', async () => {
    const token = await stack.mint(seeded);
    expect((await call(token, '/v1/invoices')).status).toBe(200);
    await stack.replaceRules(seeded, [{ id: 'public-only', effect: 'allow', scopes: ['billing:read'], paths: ['/public/**'] }]);
    let since = Date.now();
    await msUntil(token, since, (status, body) => status === 403 && body.includes('path_not_allowed'), '/v1/invoices');
    expect((await call(token, '/public/prices')).status).toBe(200);
    await stack.replaceRules(seeded, [{ id: 'everything', effect: 'allow', scopes: ['billing:read'], paths: ['/**'] }]);
    since = Date.now();
    await msUntil(token, since, (status) => status === 200, '/v1/invoices');
  });

  it('a deny rule added to the active set takes effect for tokens already issued', async () => {
    const token = await stack.mint(seeded);
    expect((await call(token, '/v1/payouts')).status).toBe(200);
    await stack.replaceRules(seeded, [
      { id: 'everything', effect: 'allow', scopes: ['billing:read'], paths: ['/**'] },
      { id: 'no-payouts', effect: 'deny', scopes: ['*'], paths: ['/v1/payouts/**', '/v1/payouts'] },
    ]);
    await msUntil(token, Date.now(), (status, body) => status === 403 && body.includes('denied_by_rule'), '/v1/payouts');
    expect((await call(token, '/v1/invoices')).status).toBe(200);
  });

  it('a resource moved to another upstream is forwarded there', async () => {
    const token = await stack.mint(seeded);
    await stack.adminOk('PATCH', `/v1/zones/${seeded.zoneName}/resources/billing-api`, { upstream_url: moved.url });
    await msUntil(token, Date.now(), (status, body) => status === 200 && body === 'moved');
    expect(moved.hits()).toBeGreaterThan(0);
  });

  it('a disabled app is refused and an enabled one served again', async () => {
    const token = await stack.mint(seeded);
    await stack.adminOk('POST', `/v1/zones/${seeded.zoneName}/apps/${seeded.appId}/disable`);
    await msUntil(token, Date.now(), (status, body) => status === 401 && body.includes('app_disabled'));
    await stack.adminOk('POST', `/v1/zones/${seeded.zoneName}/apps/${seeded.appId}/enable`);
    await msUntil(token, Date.now(), (status) => status === 200);
  });
});
