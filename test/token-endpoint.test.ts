import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControl, type TestControl } from '../core/control/routes/test-support/start-control.js';

/**
 * The token service as an ordinary OAuth 2.0 client sees it (DESIGN.md §4): client credentials
 * with HTTP Basic, RFC 8707 resource, scopes granted by policy, and a JWT verified against the
 * published JWKS with jose used the ordinary way.
 */

let control: TestControl;
let appId = '';
let secret = '';
let otherAppId = '';
let otherSecret = '';

async function admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${control.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${control.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function basic(id: string, pw: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(pw)}`).toString('base64')}`;
}

async function token(form: Record<string, string | string[]>, authorization?: string, contentType = 'application/x-www-form-urlencoded') {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  const res = await fetch(`${control.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(authorization ? { authorization } : {}) },
    body: params.toString(),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  control = await startTestControl();
  await admin('POST', '/v1/zones', { name: 'demo' });
  const app = await admin('POST', '/v1/zones/demo/apps', { name: 'agent' });
  appId = app.id as string;
  secret = app.client_secret as string;
  const other = await admin('POST', '/v1/zones/demo/apps', { name: 'other' });
  otherAppId = other.id as string;
  otherSecret = other.client_secret as string;
  await admin('POST', '/v1/zones/demo/resources', { id: 'billing-api', scopes: ['billing:read', 'billing:write'], upstream_url: 'http://127.0.0.1:9/api' });
  await admin('POST', '/v1/zones/demo/resources', { id: 'crm', scopes: ['crm:read'], upstream_url: 'http://127.0.0.1:9/crm' });
  const document = `[[rules]]\nid = "starter"\neffect = "allow"\napps = ["${appId}"]\nresources = ["resource://billing-api"]\nscopes = ["billing:read"]\n`;
  await admin('POST', '/v1/zones/demo/policies', { name: 'starter', format: 'toml', document });
  await admin('POST', '/v1/zones/demo/policy-sets', { name: 'main' });
  await admin('POST', '/v1/zones/demo/policy-sets/main/versions', { policies: [{ policy: 'starter', version: 1 }] });
  await admin('POST', '/v1/zones/demo/policy-sets/main/activate', { version: 1 });
});

afterAll(async () => {
  await control?.close();
});

describe('POST /oauth2/token', () => {
  it('issues an RFC 9068 access token that jose verifies against the published JWKS', async () => {
    const res = await token({ grant_type: 'client_credentials', resource: 'resource://billing-api', scope: 'billing:read' }, basic(appId, secret));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'billing:read' });
    const jwt = res.json.access_token as string;

    const metadata = (await (await fetch(`${control.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
    expect(metadata.issuer).toBe(control.url);
    expect(metadata.token_endpoint).toBe(`${control.url}/oauth2/token`);
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri as string));
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
      issuer: control.url,
      audience: 'resource://billing-api',
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(protectedHeader.kid).toMatch(/^key_/);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub', 'zone'].sort());
    expect(payload).toMatchObject({ sub: appId, client_id: appId, aud: 'resource://billing-api', scope: 'billing:read' });
    expect(payload.zone).toMatch(/^zn_/);
    expect(payload.jti).toMatch(/^tok_/);
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
  });

  it('accepts client_secret_post and defaults the scope to what the policy grants', async () => {
    const res = await token({ grant_type: 'client_credentials', resource: 'billing-api', client_id: appId, client_secret: secret });
    expect(res.status).toBe(200);
    expect(res.json.scope).toBe('billing:read');
  });

  it('records token.issued with the policy version and token.denied with the reason', async () => {
    const denied = await token({ grant_type: 'client_credentials', resource: 'billing-api', scope: 'billing:write' }, basic(appId, secret));
    expect(denied.status).toBe(400);
    await control.audit.flush();
    const issued = await control.store.queryAudit({ type: 'token.issued', limit: 1 });
    expect(issued.items[0]).toMatchObject({ app: appId, resource: 'resource://billing-api', decision: 'allow', reason: 'ok' });
    expect(issued.items[0]?.policy?.set_version).toBe(1);
    expect(issued.items[0]?.token?.jti).toMatch(/^tok_/);
    const deniedEvents = await control.store.queryAudit({ type: 'token.denied', requestId: denied.json.request_id as string });
    expect(deniedEvents.items[0]).toMatchObject({ app: appId, decision: 'deny', reason: 'scope_not_granted', category: 'policy' });
    const unknownScope = await token({ grant_type: 'client_credentials', resource: 'billing-api', scope: 'nope' }, basic(appId, secret));
    const wrongSecret = await token({ grant_type: 'client_credentials', resource: 'billing-api' }, basic(appId, 'cs_wrong'));
    await control.audit.flush();
    const [scopeEvent] = (await control.store.queryAudit({ requestId: unknownScope.json.request_id as string })).items;
    const [clientEvent] = (await control.store.queryAudit({ requestId: wrongSecret.json.request_id as string })).items;
    expect(scopeEvent).toMatchObject({ reason: 'scope_unknown', category: 'resource_routing' });
    expect(clientEvent).toMatchObject({ reason: 'invalid_client', category: 'runtime_config' });
  });

  it.each([
    ['a scope the policy does not grant', { grant_type: 'client_credentials', resource: 'billing-api', scope: 'billing:write' }, 'app', 400, 'invalid_scope'],
    ['a scope the resource does not define', { grant_type: 'client_credentials', resource: 'billing-api', scope: 'nope' }, 'app', 400, 'invalid_scope'],
    ['an app the policy does not name', { grant_type: 'client_credentials', resource: 'billing-api', scope: 'billing:read' }, 'other', 400, 'invalid_scope'],
    ['a resource the policy does not cover', { grant_type: 'client_credentials', resource: 'crm', scope: 'crm:read' }, 'app', 400, 'invalid_scope'],
    ['an unknown resource', { grant_type: 'client_credentials', resource: 'nowhere', scope: 'x' }, 'app', 400, 'invalid_target'],
    ['no resource', { grant_type: 'client_credentials', scope: 'billing:read' }, 'app', 400, 'invalid_target'],
    ['two resources', { grant_type: 'client_credentials', resource: ['billing-api', 'crm'], scope: 'billing:read' }, 'app', 400, 'invalid_target'],
    ['a malformed resource', { grant_type: 'client_credentials', resource: 'Bad Resource!', scope: 'x' }, 'app', 400, 'invalid_target'],
    ['another grant type', { grant_type: 'password', resource: 'billing-api' }, 'app', 400, 'unsupported_grant_type'],
    ['no grant type', { resource: 'billing-api' }, 'app', 400, 'invalid_request'],
    ['a duplicated grant type', { grant_type: ['client_credentials', 'client_credentials'], resource: 'billing-api' }, 'app', 400, 'invalid_request'],
    ['a duplicated scope', { grant_type: 'client_credentials', resource: 'billing-api', scope: ['billing:read', 'billing:read'] }, 'app', 400, 'invalid_request'],
    ['a wrong secret', { grant_type: 'client_credentials', resource: 'billing-api' }, 'wrong', 401, 'invalid_client'],
    ['an unknown client', { grant_type: 'client_credentials', resource: 'billing-api' }, 'unknown', 401, 'invalid_client'],
    ['no client authentication', { grant_type: 'client_credentials', resource: 'billing-api' }, 'none', 401, 'invalid_client'],
  ] as const)('refuses %s with an RFC 6749 error and a request ID', async (_name, form, who, status, error) => {
    const auth = who === 'app' ? basic(appId, secret) : who === 'other' ? basic(otherAppId, otherSecret) : who === 'wrong' ? basic(appId, 'cs_wrong') : who === 'unknown' ? basic('app_01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'cs_x') : undefined;
    const res = await token(form as Record<string, string | string[]>, auth);
    expect(res.status).toBe(status);
    expect(res.json.error).toBe(error);
    expect(res.json.request_id).toMatch(/^req_/);
    expect(typeof res.json.error_description).toBe('string');
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(JSON.stringify(res.json)).not.toContain(secret);
  });

  it.each([
    ['JSON', 'application/json', '{"grant_type":"client_credentials"}', 400],
    ['plain text', 'text/plain', 'grant_type=client_credentials', 400],
    ['an oversized form', 'application/x-www-form-urlencoded', `grant_type=client_credentials&x=${'a'.repeat(20_000)}`, 413],
    ['a form of garbage', 'application/x-www-form-urlencoded', '%%%%', 400],
  ])('refuses %s without a 500', async (_name, type, body, status) => {
    const res = await fetch(`${control.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': type, authorization: basic(appId, secret) }, body });
    expect(res.status).toBe(status);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.request_id).toMatch(/^req_/);
  });

  it('keeps tokens of a rotated key valid until they expire, and signs new ones with the new key', async () => {
    const before = await token({ grant_type: 'client_credentials', resource: 'billing-api' }, basic(appId, secret));
    const oldKid = decodeProtectedHeader(before.json.access_token as string).kid;
    await admin('POST', '/v1/zones/demo/keys/rotate');
    const after = await token({ grant_type: 'client_credentials', resource: 'billing-api' }, basic(appId, secret));
    const newKid = decodeProtectedHeader(after.json.access_token as string).kid;
    expect(newKid).not.toBe(oldKid);
    const jwks = createRemoteJWKSet(new URL(`${control.url}/.well-known/jwks.json`));
    for (const jwt of [before.json.access_token, after.json.access_token] as string[]) {
      await expect(jwtVerify(jwt, jwks, { issuer: control.url, audience: 'resource://billing-api' })).resolves.toBeTruthy();
    }
    const published = (await (await fetch(`${control.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(published.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(published.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('never writes a client secret or an access token to the log', async () => {
    const res = await token({ grant_type: 'client_credentials', resource: 'billing-api' }, basic(appId, secret));
    expect(res.status).toBe(200);
    const logs = control.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(secret);
    expect(logs).not.toContain(res.json.access_token as string);
    await control.audit.flush();
    const events = await control.store.queryAudit({ limit: 500 });
    const dump = JSON.stringify(events.items);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(res.json.access_token as string);
  });
  it('exposes Prometheus metrics: requests by route and mints by outcome', async () => {
    const res = await fetch(`${control.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/caracal_control_token_requests_total\{outcome="issued"\} [1-9]/);
    expect(text).toMatch(/caracal_control_token_requests_total\{outcome="invalid_scope"\} [1-9]/);
    expect(text).toMatch(/caracal_control_requests_total\{method="POST",route="\/oauth2\/token",status="200"\} [1-9]/);
    expect(text).toContain('caracal_control_request_duration_seconds_bucket');
  });

  // Last: the brake also counts failures per address, so it would slow the tests after it.
  it('brakes repeated failed authentication per client and answers 429 with a retry time', async () => {
    const probeId = otherAppId;
    let last = 0;
    for (let i = 0; i < 12; i++) {
      last = (await token({ grant_type: 'client_credentials', resource: 'billing-api' }, basic(probeId, 'cs_guess'))).status;
    }
    expect(last).toBe(429);
    // Even the right secret is braked while the window lasts: a guesser learns nothing from timing it.
    const right = await token({ grant_type: 'client_credentials', resource: 'billing-api' }, basic(probeId, otherSecret));
    expect(right.status).toBe(429);
  });
});
