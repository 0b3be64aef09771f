/**
 * Refused calls whose token is authentic are recorded in the token's zone (DESIGN.md §5, §7): an
 * audience mismatch or an expired token is a user mistake the zone's operator must see in
 * `GET /v1/audit?zone=…` (the console's Audit view and Home filter by zone). A token whose
 * signature does not verify stays zone-less: its claims are never trusted. A request naming a
 * resource the token's zone does not have is `resource_unknown` with a "did you mean".
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit/event.js';
import type { Explanation } from '../core/audit/explain.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { decodeJws, signEs256, zoneSigningKey } from './support/tokens.js';
import { startUpstream, type Upstream } from './support/upstream.js';

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let billingToken: string;
let ledgerToken: string;

beforeAll(async () => {
  upstream = await startUpstream({
    handle: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    },
  });
  stack = await startStack();
  seeded = await stack.seedInternalApi({
    upstreamUrl: upstream.url,
    scopes: ['billing:read'],
    rules: ({ resourceId }) => [{ id: 'starter', effect: 'allow', apps: ['*'], resources: [resourceId, 'resource://ledger-api'], scopes: ['billing:read', 'ledger:read'] }],
  });
  await stack.adminOk('POST', `/v1/zones/${seeded.zoneName}/resources`, { id: 'ledger-api', scopes: ['ledger:read'], upstream_url: upstream.url });
  const app = { appId: seeded.appId, clientSecret: seeded.clientSecret };
  billingToken = await stack.mint({ ...app, resourceId: seeded.resourceId, scopes: ['billing:read'] });
  ledgerToken = await stack.mint({ ...app, resourceId: 'resource://ledger-api', scopes: ['ledger:read'] });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

interface Refusal {
  readonly status: number;
  readonly id: string;
  readonly body: { reason: string; category: string; message: string; hint: string };
}

/** A Gateway call that is expected to be refused; returns status, request ID and the JSON body. */
async function call(token: string, resource: string): Promise<Refusal> {
  const response = await fetch(`${stack.gatewayUrl}/v1/invoices`, { headers: { authorization: `Bearer ${token}`, 'x-caracal-resource': resource } });
  const body = (await response.json()) as Refusal['body'];
  return { status: response.status, id: response.headers.get('x-request-id') ?? '', body };
}

/**
 * The `gateway.request` events with this request ID that `GET /v1/audit` lists under `filter`:
 * waits (up to 5 s) for the ledger to have them, unless `wait` is false (the event is known stored).
 */
async function listed(requestId: string, filter: Record<string, string> = {}, wait = true): Promise<AuditEvent[]> {
  const query = new URLSearchParams({ request_id: requestId, type: 'gateway.request', ...filter });
  const deadline = Date.now() + 5000;
  for (;;) {
    const page = await stack.adminOk<{ items: AuditEvent[] }>('GET', `/v1/audit?${query.toString()}`);
    if (page.items.length > 0 || !wait || Date.now() > deadline) return page.items;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The event of a request, waited for in the ledger (unfiltered). */
async function eventOf(requestId: string): Promise<AuditEvent> {
  const [event] = await listed(requestId);
  if (event === undefined) throw new Error(`no gateway.request event for ${requestId}`);
  return event;
}

/** A token signed by the zone's real key with the given changes to valid claims. */
async function signed(change: Record<string, unknown>): Promise<{ token: string; jti: string }> {
  const key = await zoneSigningKey(stack.home, seeded.zoneId);
  const t = Math.floor(Date.now() / 1000);
  const jti = randomUUID();
  const claims = { iss: stack.controlUrl, sub: seeded.appId, client_id: seeded.appId, aud: seeded.resourceId, scope: 'billing:read', zone: seeded.zoneId, jti, iat: t - 60, nbf: t - 60, exp: t + 600, ...change };
  return { token: signEs256(key.privateKey, { alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims), jti };
}

describe('a refused call with an authentic token is recorded in the token zone', () => {
  it('an audience mismatch (token for ledger-api, header billing-api) carries zone, app, jti and scopes, and is listed under the zone', async () => {
    const refusal = await call(ledgerToken, seeded.resourceId);
    expect(refusal.status).toBe(401);
    expect(refusal.body.reason).toBe('audience_mismatch');
    expect(refusal.body.message).toBe(`the token was issued for resource://ledger-api, not for ${seeded.resourceId}`);
    expect(refusal.body.hint).toContain('send X-Caracal-Resource: resource://ledger-api');
    const [event] = await listed(refusal.id, { zone: seeded.zoneName });
    expect(event).toMatchObject({
      zone: seeded.zoneId,
      app: seeded.appId,
      resource: seeded.resourceId,
      scopes: ['ledger:read'],
      decision: 'deny',
      reason: 'audience_mismatch',
      category: 'resource_routing',
      token: { jti: decodeJws(ledgerToken).payload.jti },
      detail: { issued_for: 'resource://ledger-api' },
    });
  });

  it('an expired token signed by the zone key carries zone, app, jti and scopes, and is listed under the zone', async () => {
    const t = Math.floor(Date.now() / 1000);
    const { token, jti } = await signed({ iat: t - 900, nbf: t - 900, exp: t - 120 });
    const refusal = await call(token, seeded.resourceId);
    expect(refusal.status).toBe(401);
    expect(refusal.body.reason).toBe('token_expired');
    const [event] = await listed(refusal.id, { zone: seeded.zoneId });
    expect(event).toMatchObject({ zone: seeded.zoneId, app: seeded.appId, scopes: ['billing:read'], reason: 'token_expired', token: { jti } });
  });

  it('a revoked token carries zone, app and jti, and is listed under the zone', async () => {
    const token = await stack.mint({ appId: seeded.appId, clientSecret: seeded.clientSecret, resourceId: seeded.resourceId, scopes: ['billing:read'] });
    const jti = decodeJws(token).payload.jti as string;
    await stack.adminOk('POST', '/v1/revocations', { kind: 'jti', value: jti, zone: seeded.zoneName });
    // The Gateway learns of the revocation through the store watcher, within a second or so.
    const deadline = Date.now() + 5000;
    let refusal = await call(token, seeded.resourceId);
    while (refusal.body.reason !== 'token_revoked' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      refusal = await call(token, seeded.resourceId);
    }
    expect(refusal.status).toBe(401);
    expect(refusal.body.reason).toBe('token_revoked');
    const [event] = await listed(refusal.id, { zone: seeded.zoneName });
    expect(event).toMatchObject({ zone: seeded.zoneId, app: seeded.appId, reason: 'token_revoked', token: { jti } });
  });

  it('a token whose signature does not verify stays zone-less (its claims are not trusted)', async () => {
    const [h, , s] = billingToken.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJws(billingToken).payload, scope: 'billing:read billing:write' })).toString('base64url');
    const refusal = await call(`${h}.${payload}.${s}`, seeded.resourceId);
    expect(refusal.status).toBe(401);
    expect(refusal.body.reason).toBe('signature_invalid');
    const event = await eventOf(refusal.id);
    expect(event).toMatchObject({ zone: null, app: null, scopes: [], token: null, reason: 'signature_invalid' });
    expect(await listed(refusal.id, { zone: 'global' }, false)).toHaveLength(1);
    expect(await listed(refusal.id, { zone: seeded.zoneName }, false)).toHaveLength(0);
  });
});

describe('a request naming a resource the token zone does not have', () => {
  it('is refused as resource_unknown (404) with a did-you-mean, recorded in the zone, and explained', async () => {
    const refusal = await call(billingToken, 'resource://billing');
    expect(refusal.status).toBe(404);
    expect(refusal.body).toMatchObject({ reason: 'resource_unknown', category: 'resource_routing' });
    expect(refusal.body.message).toContain('did you mean resource://billing-api?');
    expect(refusal.body.message).toContain('the token was issued for resource://billing-api');
    expect(refusal.body.hint).toContain('send X-Caracal-Resource: resource://billing-api');
    const [event] = await listed(refusal.id, { zone: seeded.zoneName });
    expect(event).toMatchObject({ zone: seeded.zoneId, app: seeded.appId, resource: 'resource://billing', reason: 'resource_unknown', detail: { did_you_mean: 'resource://billing-api' } });

    const e = await stack.adminOk<Explanation>('GET', `/v1/requests/${refusal.id}/explain`);
    expect(e).toMatchObject({ reason: 'resource_unknown', category: 'resource_routing', final_decision: 'deny', zone_id: seeded.zoneId, application_id: seeded.appId });
    expect(e.hint).toContain('no resource resource://billing exists');
    expect(e.hint).toContain('did you mean resource://billing-api?');
    expect(e.hint).toContain('caracal resources create --id resource://billing');
  });

  it('explains an audience mismatch between two existing resources by naming both', async () => {
    const refusal = await call(billingToken, 'resource://ledger-api');
    expect(refusal.body.reason).toBe('audience_mismatch');
    await eventOf(refusal.id);
    const e = await stack.adminOk<Explanation>('GET', `/v1/requests/${refusal.id}/explain`);
    expect(e).toMatchObject({ reason: 'audience_mismatch', category: 'resource_routing', zone_id: seeded.zoneId });
    expect(e.summary).toContain('carried a token issued for resource://billing-api');
    expect(e.hint).toContain('request a token for resource://ledger-api');
    expect(e.hint).toContain('send X-Caracal-Resource: resource://billing-api');
  });
});
