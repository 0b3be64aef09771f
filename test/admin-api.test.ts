import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { open } from '../core/crypto/seal.js';
import { verifySecret } from '../core/crypto/secrets.js';
import { createAdminClient } from '../core/control/admin-client.js';
import { startTestControl, type TestControl } from '../core/control/routes/test-support/start-control.js';
import { CaracalError } from '../core/errors.js';

/**
 * The admin API (docs/admin-api.md) against a real control plane: fastify on port 0, SQLite in a
 * temp home, the real audit log writing to the ledger, logs captured from pino.
 */

let control: TestControl;
/** Every secret handed out; none may show up anywhere after its one response. */
const secrets: string[] = [];
/** The text of every response that is not allowed to carry a secret. */
const otherResponses: string[] = [];

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
  readonly headers: Headers;
}

async function call(method: string, path: string, body?: unknown, init: { headers?: Record<string, string>; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${control.adminToken}`, ...init.headers };
  let payload: string | undefined = init.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(control.url + path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A call whose response must not carry any secret. */
async function api(method: string, path: string, body?: unknown, init: { headers?: Record<string, string>; raw?: string } = {}): Promise<Reply> {
  const reply = await call(method, path, body, init);
  otherResponses.push(reply.text);
  return reply;
}

function items(reply: Reply): Record<string, unknown>[] {
  return reply.body.items as Record<string, unknown>[];
}

const Z = '/v1/zones/eval';

beforeAll(async () => {
  control = await startTestControl();
  const zone = await api('POST', '/v1/zones', { name: 'eval' });
  expect(zone.status).toBe(201);
  const prod = await api('POST', '/v1/zones', { name: 'prod', kind: 'production', allowed_private_hosts: ['10.1.2.3', '192.168.7.0/24'] });
  expect(prod.status).toBe(201);
});

afterAll(async () => {
  await control?.close();
});

describe('admin authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer cat_wrong' }],
    ['a non-bearer scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
  ])('refuses %s with 401 and a JSON error', async (_name, headers) => {
    const response = await fetch(`${control.url}${Z}/apps`, { headers });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(401);
    expect(body.error).toBe('CRC_UNAUTHORIZED');
    expect(typeof body.request_id).toBe('string');
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
  });
});

describe('request refusals', () => {
  it('answers malformed JSON with 400', async () => {
    const reply = await api('POST', `${Z}/apps`, undefined, { raw: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('CRC_BAD_REQUEST');
    expect(reply.body.request_id).toBe(reply.headers.get('x-request-id'));
  });

  it('answers a wrong content type with 415', async () => {
    const reply = await api('POST', `${Z}/apps`, undefined, { raw: 'name=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(reply.status).toBe(415);
    expect(reply.body.error).toBe('CRC_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an oversized body with 413', async () => {
    const reply = await api('POST', `${Z}/apps`, { name: 'big', description: 'x'.repeat(2 * 1024 * 1024) });
    expect(reply.status).toBe(413);
    expect(reply.body.error).toBe('CRC_PAYLOAD_TOO_LARGE');
  });

  it('answers a body of the wrong shape with 422 naming every bad field', async () => {
    const reply = await api('POST', `${Z}/apps`, { name: '', colour: 'red' });
    expect(reply.status).toBe(422);
    expect(reply.body.error).toBe('CRC_VALIDATION');
    const paths = (reply.body.details as { path: string }[]).map((d) => d.path);
    expect(paths).toContain('name');
    expect(reply.body.message).toContain('colour');
  });

  it('answers an unknown zone with 404 and a hint', async () => {
    const reply = await api('GET', '/v1/zones/nowhere/apps');
    expect(reply.status).toBe(404);
    expect(reply.body.message).toContain('nowhere');
    expect(reply.body.hint).toContain('caracal zones list');
  });

  it('answers a bad page cursor with 400 and a bad limit with 422', async () => {
    expect((await api('GET', `${Z}/apps?cursor=bogus`)).status).toBe(400);
    expect((await api('GET', `${Z}/apps?limit=0`)).status).toBe(422);
    expect((await api('GET', `${Z}/apps?disabled=maybe`)).status).toBe(422);
  });
});

describe('apps', () => {
  let appId = '';
  let firstSecret = '';

  it('creates an app and returns its client secret once (201)', async () => {
    const reply = await call('POST', `${Z}/apps`, { name: 'billing-agent', description: 'reads invoices' });
    expect(reply.status).toBe(201);
    expect(reply.body.client_secret).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    expect(reply.body.id).toMatch(/^app_/);
    expect(reply.body.disabled).toBe(false);
    expect(JSON.stringify(reply.body)).not.toContain('hmac');
    appId = reply.body.id as string;
    firstSecret = reply.body.client_secret as string;
    secrets.push(firstSecret);
    const stored = await control.store.getAppById(appId);
    expect(verifySecret(firstSecret, stored?.secretHash ?? '', control.subkeys.secretHash)).toBe(true);
  });

  it('refuses a second app with the same name (409)', async () => {
    const reply = await api('POST', `${Z}/apps`, { name: 'billing-agent' });
    expect(reply.status).toBe(409);
    expect(reply.body.error).toBe('CRC_CONFLICT');
    expect(reply.body.message).toContain('billing-agent');
  });

  it('gets an app by ID or by name, never with its secret or hash', async () => {
    for (const ref of [appId, 'billing-agent']) {
      const reply = await api('GET', `${Z}/apps/${ref}`);
      expect(reply.status).toBe(200);
      expect(reply.body.id).toBe(appId);
      expect(reply.body).not.toHaveProperty('client_secret');
      expect(reply.body).not.toHaveProperty('secret_hash');
    }
    expect((await api('GET', `${Z}/apps/ghost`)).status).toBe(404);
  });

  it('updates, disables and enables an app, and filters the list by disabled', async () => {
    await call('POST', `${Z}/apps`, { name: 'other-agent' }).then((r) => secrets.push(r.body.client_secret as string));
    const patched = await api('PATCH', `${Z}/apps/${appId}`, { description: 'reads and pays invoices' });
    expect(patched.status).toBe(200);
    expect(patched.body.description).toBe('reads and pays invoices');

    const disabled = await api('POST', `${Z}/apps/billing-agent/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled).toBe(true);
    expect(items(await api('GET', `${Z}/apps?disabled=true`)).map((a) => a.name)).toEqual(['billing-agent']);
    expect(items(await api('GET', `${Z}/apps?disabled=false`)).map((a) => a.name)).toEqual(['other-agent']);

    const enabled = await api('POST', `${Z}/apps/billing-agent/enable`);
    expect(enabled.body.disabled).toBe(false);
    expect(items(await api('GET', `${Z}/apps`))).toHaveLength(2);
  });

  it('pages a list with limit and cursor', async () => {
    const first = await api('GET', `${Z}/apps?limit=1`);
    expect(items(first)).toHaveLength(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await api('GET', `${Z}/apps?limit=1&cursor=${encodeURIComponent(first.body.next_cursor as string)}`);
    expect(items(second)).toHaveLength(1);
    expect(items(second)[0]?.id).not.toBe(items(first)[0]?.id);
    expect(second.body.next_cursor).toBeNull();
  });

  it('rotates the secret: a new one is returned once and the old one stops matching', async () => {
    const reply = await call('POST', `${Z}/apps/${appId}/rotate-secret`);
    expect(reply.status).toBe(200);
    const next = reply.body.client_secret as string;
    secrets.push(next);
    expect(next).toMatch(/^cs_/);
    expect(next).not.toBe(firstSecret);
    const stored = await control.store.getAppById(appId);
    expect(verifySecret(next, stored?.secretHash ?? '', control.subkeys.secretHash)).toBe(true);
    expect(verifySecret(firstSecret, stored?.secretHash ?? '', control.subkeys.secretHash)).toBe(false);
  });

  it('deletes an app (204), then it is gone (404)', async () => {
    const created = await call('POST', `${Z}/apps`, { name: 'short-lived' });
    secrets.push(created.body.client_secret as string);
    expect((await api('DELETE', `${Z}/apps/short-lived`)).status).toBe(204);
    expect((await api('GET', `${Z}/apps/short-lived`)).status).toBe(404);
    expect((await api('DELETE', `${Z}/apps/short-lived`)).status).toBe(404);
  });
});

describe('resources', () => {
  it('creates a resource from a bare slug and normalises its ID (201)', async () => {
    const reply = await api('POST', `${Z}/resources`, { id: 'billing-api', scopes: ['billing:read', 'billing:write'], upstream_url: 'http://127.0.0.1:9000/api' });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ id: 'resource://billing-api', name: 'billing-api', scopes: ['billing:read', 'billing:write'], provider_id: null });
  });

  it('reads a resource by slug or by its URL-encoded ID', async () => {
    for (const ref of ['billing-api', encodeURIComponent('resource://billing-api')]) {
      const reply = await api('GET', `${Z}/resources/${ref}`);
      expect(reply.status).toBe(200);
      expect(reply.body.id).toBe('resource://billing-api');
    }
    expect((await api('GET', `${Z}/resources/nothing-here`)).status).toBe(404);
  });

  it('refuses the same resource ID twice (409)', async () => {
    const reply = await api('POST', `${Z}/resources`, { id: 'resource://billing-api', scopes: ['a'], upstream_url: 'https://example.com' });
    expect(reply.status).toBe(409);
  });

  it.each([
    ['not a URL', 'example.com/api', 'not an absolute URL'],
    ['another scheme', 'ftp://example.com/', 'http or https'],
    ['credentials in the URL', 'https://user:hunter2@example.com/', 'user name or password'],
    ['a fragment', 'https://example.com/api#top', 'fragment'],
    ['a query', 'https://example.com/api?x=1', 'query string'],
  ])('refuses an upstream URL with %s (422, clear message)', async (_name, url, words) => {
    const reply = await api('POST', `${Z}/resources`, { id: 'bad-upstream', scopes: ['a'], upstream_url: url });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain(words);
    expect(reply.text).not.toContain('hunter2');
  });

  it.each([
    ['a scope with a space', ['billing read']],
    ['a scope with a quote', ['a"b']],
    ['no scope', []],
    ['51 scopes', Array.from({ length: 51 }, (_, i) => `s${i}`)],
    ['a repeated scope', ['a', 'a']],
  ])('refuses %s (422)', async (_name, scopes) => {
    const reply = await api('POST', `${Z}/resources`, { id: 'bad-scopes', scopes, upstream_url: 'https://example.com' });
    expect(reply.status).toBe(422);
    expect((reply.body.details as { path: string }[]).some((d) => d.path.startsWith('scopes'))).toBe(true);
  });

  it('refuses a resource ID that is not a slug (422)', async () => {
    expect((await api('POST', `${Z}/resources`, { id: 'Billing API', scopes: ['a'], upstream_url: 'https://example.com' })).status).toBe(422);
  });

  it('refuses private upstreams in a production zone unless the zone lists them', async () => {
    const refused = await api('POST', '/v1/zones/prod/resources', { id: 'local', scopes: ['a'], upstream_url: 'http://127.0.0.1:8080' });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain('production zone prod');
    for (const [id, url] of [['listed-host', 'http://10.1.2.3/'], ['listed-cidr', 'http://192.168.7.20:81'], ['public', 'https://api.example.com/v1']]) {
      expect((await api('POST', '/v1/zones/prod/resources', { id, scopes: ['a'], upstream_url: url })).status).toBe(201);
    }
  });

  it('updates and deletes a resource', async () => {
    const patched = await api('PATCH', `${Z}/resources/billing-api`, { scopes: ['billing:read'], upstream_url: 'http://127.0.0.1:9001' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ scopes: ['billing:read'], upstream_url: 'http://127.0.0.1:9001' });
    expect((await api('PATCH', `${Z}/resources/billing-api`, { id: 'renamed' })).status).toBe(422);
    await api('POST', `${Z}/resources`, { id: 'temp', scopes: ['a'], upstream_url: 'https://example.com' });
    expect((await api('DELETE', `${Z}/resources/temp`)).status).toBe(204);
    expect((await api('GET', `${Z}/resources/temp`)).status).toBe(404);
  });

  it('refuses a resource naming a provider the zone does not have (422)', async () => {
    const reply = await api('POST', `${Z}/resources`, { id: 'with-ghost', scopes: ['a'], upstream_url: 'https://example.com', provider: 'ghost' });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain('ghost');
  });
});

describe('providers', () => {
  const cases = [
    { name: 'stripe', kind: 'api-key', config: { header: 'X-Api-Key' }, credentials: { api_key: 'sk_live_provider_key_1' }, keys: ['api_key'] },
    { name: 'github', kind: 'bearer', config: {}, credentials: { token: 'ghp_provider_token_2' }, keys: ['token'] },
    { name: 'legacy', kind: 'basic', config: { allowed_hosts: ['legacy.example.com'] }, credentials: { username: 'svc', password: 'basic-pass-3' }, keys: ['password', 'username'] },
    {
      name: 'salesforce',
      kind: 'oauth2-client-credentials',
      config: { token_url: 'https://login.example.com/oauth2/token', client_id: 'cid', scopes: ['api'] },
      credentials: { client_secret: 'oauth-client-secret-4' },
      keys: ['client_secret'],
    },
  ];

  it.each(cases)('creates a $kind provider; responses list credential keys only', async ({ name, kind, config, credentials, keys }) => {
    secrets.push(...Object.values(credentials).filter((v) => v.length > 8));
    const reply = await api('POST', `${Z}/providers`, { name, kind, config, credentials });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ name, kind, credential_keys: keys });
    expect(reply.body).not.toHaveProperty('credentials');
    const stored = await control.store.getProvider(reply.body.zone_id as string, name);
    expect(JSON.parse(open(stored?.credentialsSealed ?? '', control.subkeys.seal).toString('utf8'))).toEqual(credentials);
  });

  it('fills in the defaults of a kind', async () => {
    const reply = await api('GET', `${Z}/providers/github`);
    expect(reply.body.config).toEqual({ header: 'authorization', scheme: 'Bearer', allowed_hosts: [] });
  });

  it.each([
    ['an api-key with both header and query', 'api-key', { header: 'x-k', query: 'k' }, { api_key: 'v' }, 'exactly one'],
    ['an api-key with neither', 'api-key', {}, { api_key: 'v' }, 'exactly one'],
    ['oauth2 without a token URL', 'oauth2-client-credentials', { client_id: 'c' }, { client_secret: 'v' }, 'config.token_url'],
    ['a missing credential field', 'basic', {}, { username: 'u' }, 'credentials.password'],
    ['an unknown credential field', 'bearer', {}, { token: 't', extra: 'x' }, 'extra'],
    ['an unknown kind', 'mtls', {}, { cert: 'x' }, 'kind must be one of'],
  ])('refuses %s (422)', async (_name, kind, config, credentials, words) => {
    const reply = await api('POST', `${Z}/providers`, { name: 'broken', kind, config, credentials });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain(words);
  });

  it('never echoes a credential value in a validation error', async () => {
    const reply = await api('POST', `${Z}/providers`, { name: 'leaky', kind: 'basic', credentials: { username: 'has:colon-secret-5', password: 'p' } });
    expect(reply.status).toBe(422);
    expect(reply.text).not.toContain('colon-secret-5');
  });

  it('replaces credentials with PUT and updates config with PATCH', async () => {
    secrets.push('sk_live_provider_key_rotated');
    const put = await api('PUT', `${Z}/providers/stripe/credentials`, { api_key: 'sk_live_provider_key_rotated' });
    expect(put.status).toBe(200);
    expect(put.body.credential_keys).toEqual(['api_key']);
    const stored = await control.store.getProvider(put.body.zone_id as string, 'stripe');
    expect(open(stored?.credentialsSealed ?? '', control.subkeys.seal).toString('utf8')).toContain('sk_live_provider_key_rotated');

    const patched = await api('PATCH', `${Z}/providers/stripe`, { config: { query: 'api_key' } });
    expect(patched.status).toBe(200);
    expect(patched.body.config).toEqual({ query: 'api_key', allowed_hosts: [] });
    expect((await api('PATCH', `${Z}/providers/stripe`, { config: { query: 'bad name!' } })).status).toBe(422);
  });

  it('links a resource to a provider and refuses deleting a provider in use (409)', async () => {
    const resource = await api('POST', `${Z}/resources`, { id: 'payments', scopes: ['pay'], upstream_url: 'https://api.stripe.example', provider: 'stripe' });
    expect(resource.status).toBe(201);
    expect(resource.body.provider_id).toMatch(/^prv_/);
    expect((await api('DELETE', `${Z}/providers/stripe`)).status).toBe(409);
    expect((await api('DELETE', `${Z}/providers/legacy`)).status).toBe(204);
    expect((await api('GET', `${Z}/providers/legacy`)).status).toBe(404);
  });
});

const VALID_POLICY = (app: string) => `version = 1

[[rules]]
id = "read"
effect = "allow"
apps = ["${app}"]
resources = ["billing-api"]
scopes = ["billing:read"]
methods = ["GET"]
paths = ["/invoices/**"]
`;

const INVALID_POLICY = `version = 1

[[rules]]
id = "read"
effect = "permit"
apps = ["*"]
resources = ["billing-api"]
scopes = ["billing:read"]
methods = ["FETCH"]
`;

describe('policies', () => {
  let appId = '';
  beforeAll(async () => {
    appId = (await api('GET', `${Z}/apps/billing-agent`)).body.id as string;
  });

  it('validates a document without storing anything (dry run)', async () => {
    const ok = await api('POST', `${Z}/policies/validate`, { format: 'toml', source: VALID_POLICY(appId) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, rule_count: 1 });
    const bad = await api('POST', `${Z}/policies/validate`, { format: 'toml', source: INVALID_POLICY });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toBe('CRC_POLICY_INVALID');
    const lines = (bad.body.details as { line: number; pointer: string }[]).map((d) => [d.line, d.pointer]);
    expect(lines).toEqual([
      [5, '/rules/0/effect'],
      [9, '/rules/0/methods/0'],
    ]);
    expect(items(await api('GET', `${Z}/policies`))).toHaveLength(0);
  });

  it('refuses to create a policy whose first document is invalid, storing nothing', async () => {
    const reply = await api('POST', `${Z}/policies`, { name: 'broken', document: INVALID_POLICY });
    expect(reply.status).toBe(422);
    expect(reply.body.message).toContain('line 5');
    expect((await api('GET', `${Z}/policies/broken`)).status).toBe(404);
  });

  it('creates a policy with its first version (201) and one without', async () => {
    const withDoc = await api('POST', `${Z}/policies`, { name: 'billing', document: VALID_POLICY(appId), format: 'toml' });
    expect(withDoc.status).toBe(201);
    expect(withDoc.body).toMatchObject({ name: 'billing', latest_version: 1, created_version: { version: 1, format: 'toml' } });
    const empty = await api('POST', `${Z}/policies`, { name: 'later', description: 'to be written' });
    expect(empty.status).toBe(201);
    expect(empty.body).toMatchObject({ latest_version: 0, created_version: null });
    expect((await api('POST', `${Z}/policies`, { name: 'billing' })).status).toBe(409);
  });

  it('adds versions; an invalid one is refused with line numbers and not stored', async () => {
    const json = JSON.stringify({ rules: [{ id: 'write', effect: 'allow', apps: [appId], resources: ['billing-api'], scopes: ['billing:write'] }] }, null, 2);
    const added = await api('POST', `${Z}/policies/billing/versions`, { format: 'json', source: json });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ version: 2, format: 'json', source: json });

    const refused = await api('POST', `${Z}/policies/billing/versions`, { format: 'toml', source: INVALID_POLICY });
    expect(refused.status).toBe(422);
    expect((refused.body.details as { line: number }[])[0]?.line).toBe(5);
    expect((await api('GET', `${Z}/policies/billing`)).body.latest_version).toBe(2);
    expect(items(await api('GET', `${Z}/policies/billing/versions`)).map((v) => v.version)).toEqual([1, 2]);
  });

  it('reads a version, and 404s one that does not exist', async () => {
    const v1 = await api('GET', `${Z}/policies/billing/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.source).toBe(VALID_POLICY(appId));
    expect((await api('GET', `${Z}/policies/billing/versions/9`)).status).toBe(404);
    expect((await api('GET', `${Z}/policies/billing/versions/x`)).status).toBe(400);
  });
});

describe('policy sets, activation, rollback and simulation', () => {
  let appId = '';
  beforeAll(async () => {
    appId = (await api('GET', `${Z}/apps/billing-agent`)).body.id as string;
  });

  it('has no active set at first, and denies everything in simulation', async () => {
    expect((await api('GET', `${Z}/policy/active`)).body).toEqual({ active: null });
    const sim = await api('POST', `${Z}/policy/simulate`, { app: 'billing-agent', resource: 'billing-api', scopes: ['billing:read'], method: 'GET', path: '/invoices/1' });
    expect(sim.status).toBe(200);
    expect(sim.body.decision).toMatchObject({ effect: 'deny', reason: 'no_active_policy' });
  });

  it('creates a set with its first version, and refuses unknown members (422) storing nothing', async () => {
    const refused = await api('POST', `${Z}/policy-sets`, { name: 'ghostly', policies: [{ policy: 'ghost' }] });
    expect(refused.status).toBe(422);
    expect((await api('GET', `${Z}/policy-sets/ghostly`)).status).toBe(404);
    expect((await api('POST', `${Z}/policy-sets`, { name: 'empty-member', policies: [{ policy: 'later' }] })).status).toBe(422);
    const twice = await api('POST', `${Z}/policy-sets`, { name: 'twice', policies: [{ policy: 'billing', version: 1 }, { policy: 'billing' }] });
    expect(twice.status).toBe(422);
    expect((await api('GET', `${Z}/policy-sets/twice`)).status).toBe(404);

    const created = await api('POST', `${Z}/policy-sets`, { name: 'main', policies: [{ policy: 'billing', version: 1 }] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'main', latest_version: 1, created_version: { version: 1 } });
    const v2 = await api('POST', `${Z}/policy-sets/main/versions`, { policies: [{ policy: 'billing' }] });
    expect(v2.status).toBe(201);
    expect((v2.body.policies as { version: number }[])[0]?.version).toBe(2);
    expect(items(await api('GET', `${Z}/policy-sets/main/versions`))).toHaveLength(2);
    expect((await api('GET', `${Z}/policy-sets/main/versions/2`)).status).toBe(200);
  });

  it('activates versions, returning the previous pointer, and rolls back', async () => {
    const first = await api('POST', `${Z}/policy-sets/main/activate`, { version: 1 });
    expect(first.status).toBe(200);
    expect(first.body.previous).toBeNull();
    expect(first.body.active).toMatchObject({ version: 1 });

    const second = await api('POST', `${Z}/policy-sets/main/activate`, { version: 2 });
    expect(second.body.previous).toMatchObject({ version: 1 });
    expect((await api('GET', `${Z}/policy/active`)).body.active).toMatchObject({ version: 2 });

    const back = await api('POST', `${Z}/policy/rollback`);
    expect(back.status).toBe(200);
    expect(back.body.active).toMatchObject({ version: 1 });
    expect(back.body.previous).toMatchObject({ version: 2 });
    expect((await api('POST', `${Z}/policy-sets/main/activate`, { version: 7 })).status).toBe(404);
  });

  it('simulates against the active version, and against another version without changing anything', async () => {
    const eventsBefore = (await control.audit.flush(), await control.store.queryAudit({ limit: 500 })).items.length;
    const allow = await api('POST', `${Z}/policy/simulate`, { app: appId, resource: 'resource://billing-api', scopes: ['billing:read'], method: 'GET', path: '/invoices/42' });
    expect(allow.body.decision).toMatchObject({ effect: 'allow', rules: ['read'], policy_set_version: 1, diagnosis: null });
    expect(allow.body.mint).toMatchObject({ effect: 'allow', scopes: { granted: ['billing:read'], denied: [] } });

    const deny = await api('POST', `${Z}/policy/simulate`, { app: 'billing-agent', resource: 'billing-api', scopes: ['billing:read'], method: 'POST', path: '/invoices/42' });
    expect(deny.body.decision).toMatchObject({ effect: 'deny', reason: 'method_not_allowed' });
    const diagnosis = (deny.body.decision as { diagnosis: { summary: string; nearest: { rule: string; failed: { clause: string }[] }[] } }).diagnosis;
    expect(diagnosis.nearest[0]?.rule).toBe('read');
    expect(diagnosis.nearest[0]?.failed.map((f) => f.clause)).toEqual(['method']);

    const other = await api('POST', `${Z}/policy/simulate`, { app: 'billing-agent', resource: 'billing-api', scopes: ['billing:write'], method: 'POST', path: '/x', policy_set: 'main', version: 2 });
    expect(other.body.decision).toMatchObject({ effect: 'allow', policy_set_version: 2 });
    expect((await api('GET', `${Z}/policy/active`)).body.active).toMatchObject({ version: 1 });
    await control.audit.flush();
    expect((await control.store.queryAudit({ limit: 500 })).items.length).toBe(eventsBefore);

    expect((await api('POST', `${Z}/policy/simulate`, { app: 'nobody', resource: 'billing-api', scopes: ['a'] })).status).toBe(422);
    expect((await api('POST', `${Z}/policy/simulate`, { app: appId, resource: 'Not A Slug', scopes: ['a'] })).status).toBe(422);
  });

  it('refuses rollback when there is nothing to roll back to (409)', async () => {
    const zone = await api('POST', '/v1/zones', { name: 'fresh' });
    expect(zone.status).toBe(201);
    expect((await api('POST', '/v1/zones/fresh/policy/rollback')).status).toBe(409);
  });
});

describe('revocations (DESIGN.md §4)', () => {
  it('revokes one token by jti (201) and lists it', async () => {
    const reply = await api('POST', '/v1/revocations', { kind: 'jti', value: 'tok_01JABC', zone: 'eval', reason: 'leaked in a log' });
    expect(reply.status).toBe(201);
    expect(reply.body.app).toBeNull();
    expect(reply.body.revocation).toMatchObject({ kind: 'jti', value: 'tok_01JABC', reason: 'leaked in a log' });
    const list = await api('GET', '/v1/revocations?zone=eval');
    expect(items(list).map((r) => r.value)).toContain('tok_01JABC');
    expect(items(await api('GET', '/v1/revocations?zone=prod'))).toHaveLength(0);
  });

  it('kill switch: revokes every live token of an app and rotates its secret, returned once', async () => {
    const before = await control.store.getApp((await api('GET', `${Z}`)).body.id as string, 'other-agent');
    const reply = await call('POST', '/v1/revocations', { kind: 'app', app: 'other-agent', zone: 'eval' });
    expect(reply.status).toBe(201);
    const app = reply.body.app as { id: string; client_secret: string };
    secrets.push(app.client_secret);
    expect(app.client_secret).toMatch(/^cs_/);
    expect(reply.body.revocation).toMatchObject({ kind: 'app', value: before?.id });
    const revocation = reply.body.revocation as { not_before: string; expires_at: string };
    expect(Date.parse(revocation.expires_at) - Date.parse(revocation.not_before)).toBeGreaterThanOrEqual(3600_000);
    const after = await control.store.getAppById(before?.id ?? '');
    expect(after?.secretHash).not.toBe(before?.secretHash);
    expect(verifySecret(app.client_secret, after?.secretHash ?? '', control.subkeys.secretHash)).toBe(true);
  });

  it.each([
    ['an unknown kind', { kind: 'policy', value: 'x', zone: 'eval' }, 422],
    ['an unknown zone', { kind: 'jti', value: 'x', zone: 'nowhere' }, 404],
    ['an unknown app', { kind: 'app', app: 'ghost', zone: 'eval' }, 404],
    ['a jti without value', { kind: 'jti', zone: 'eval' }, 422],
  ])('refuses %s', async (_name, body, status) => {
    expect((await api('POST', '/v1/revocations', body)).status).toBe(status);
  });
});

describe('signing keys', () => {
  it('rotates a zone key, keeps the retired one published until retire_after, and shows public parts only', async () => {
    const first = await api('POST', `${Z}/keys/rotate`);
    expect(first.status).toBe(200);
    expect(first.body.retired).toBeNull();
    const second = await api('POST', `${Z}/keys/rotate`);
    const retired = second.body.retired as { kid: string; status: string; retire_after: string };
    expect(retired.kid).toBe((first.body.active as { kid: string }).kid);
    expect(retired.status).toBe('retired');
    expect(Date.parse(retired.retire_after)).toBeGreaterThan(Date.now() + 3600_000);

    const list = await api('GET', `${Z}/keys`);
    expect(items(list).map((k) => k.status).sort()).toEqual(['active', 'retired']);
    for (const key of items(list)) {
      expect(Object.keys(key.public_jwk as object).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    }
    expect(list.text).not.toMatch(/"d"|sealed|private/);
    expect((await api('POST', '/v1/zones/nowhere/keys/rotate')).status).toBe(404);
  });
});

describe('admin.change events, secrets, logs', () => {
  it('records an admin.change event for every change', async () => {
    await control.audit.flush();
    const events = (await control.store.queryAudit({ type: 'admin.change', limit: 500 })).items;
    const actions = new Set(events.map((e) => e.reason));
    for (const action of [
      'zone.create',
      'app.create',
      'app.update',
      'app.disable',
      'app.enable',
      'app.rotate_secret',
      'app.delete',
      'resource.create',
      'resource.update',
      'resource.delete',
      'provider.create',
      'provider.update',
      'provider.credentials.replace',
      'provider.delete',
      'policy.create',
      'policy.version.create',
      'policy_set.create',
      'policy_set.version.create',
      'policy_set.activate',
      'policy_set.rollback',
      'revocation.jti',
      'revocation.app',
      'key.rotate',
    ]) {
      expect(actions, action).toContain(action);
    }
    expect(events.every((e) => e.decision === 'allow' && e.detail.actor === 'admin')).toBe(true);
  });

  it('never puts a secret in a later response, an audit event or a log line', async () => {
    await control.audit.flush();
    const audit = JSON.stringify((await control.store.queryAudit({ limit: 500 })).items);
    const logs = control.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const secret of [...secrets, control.adminToken]) {
      expect(audit).not.toContain(secret);
      expect(logs).not.toContain(secret);
      for (const text of otherResponses) expect(text).not.toContain(secret);
    }
    expect(audit).not.toContain('hmac-sha256:');
    expect(logs).not.toContain('hmac-sha256:');
  });
});

describe('admin client', () => {
  it('turns API errors into CaracalErrors with the API code and message', async () => {
    const client = createAdminClient({ controlUrl: control.url, adminToken: control.adminToken });
    const zones = await client.zones.list();
    expect(zones.items.map((z) => z.name)).toContain('eval');
    const error = await client.apps.get('eval', 'ghost').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaracalError);
    expect((error as CaracalError).code).toBe('CRC_NOT_FOUND');
    expect((error as CaracalError).message).toContain('ghost');
    expect((error as CaracalError).exitCode).toBe(3);

    const invalid = await client.policies.validate('eval', { source: INVALID_POLICY }).catch((e: unknown) => e);
    expect((invalid as CaracalError).code).toBe('CRC_POLICY_INVALID');
    expect(((invalid as CaracalError).details as { line: number }[]).map((d) => d.line)).toEqual([5, 9]);

    const wrong = createAdminClient({ controlUrl: control.url, adminToken: 'cat_wrong' });
    expect(((await wrong.zones.list().catch((e: unknown) => e)) as CaracalError).code).toBe('CRC_UNAUTHORIZED');
  });

  it('says how to start the control plane when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const client = createAdminClient({ controlUrl: `http://127.0.0.1:${port}`, adminToken: 'cat_x' });
    const error = (await client.zones.list().catch((e: unknown) => e)) as CaracalError;
    expect(error.code).toBe('CRC_SERVICE_UNAVAILABLE');
    expect(error.message).toBe(`control plane not reachable at http://127.0.0.1:${port}; start it with \`caracal up\``);
  });
});
