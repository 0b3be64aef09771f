import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, type HttpReply } from './support/http.js';
import { readLedger, type GatewayRow } from './support/ledger.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, ROOT } from './support/workload.js';

/**
 * The `identify` hook end to end (DESIGN.md §5, §9; docs/plugins.md): the fixture plugin in
 * test/fixtures/plugin-identify, installed with `caracal plugin add` into a real stack's home,
 * vouches for API keys. A key it knows reaches the upstream under its identity, without the
 * headers that carried it; the policy still decides with that identity's app, scopes, method and
 * path, so a plugin never widens access; an identity for another resource, expired, revoked, of an
 * unknown app or of an app outside its zone is refused; a throwing or stalled plugin, or an
 * unusable answer, fails closed naming the plugin; a Caracal JWT never reaches the plugin, valid,
 * forged or malformed; and the audit event carries the plugin identity's zone and app, never the key.
 */

const FIXTURE = join(ROOT, 'test/fixtures/plugin-identify');
const npmEnv = { NO_COLOR: '1', npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const POLL_MS = 50;
const WITHIN_MS = 10_000;
const IDENTIFY_TIMEOUT_MS = 2_000;
/** A key sent as the whole Authorization header, longer than any scheme (lower case, as a scheme would be recorded). */
const RAW_KEY = 'sk_live_rawfixturekey0123456789';
const NOWHERE = 'zn_01NOWHERE0000000000000000';

let work: string;
let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'caracal-identify-'));
  const home = join(work, 'home');
  const added = await caracal(['--home', home, 'plugin', 'add', FIXTURE], npmEnv, { cwd: work });
  if (added.code !== 0) throw new Error(`caracal plugin add failed:\n${added.stderr}`);
  [stack, upstream] = await Promise.all([startStack({ home }), startUpstream()]);
  seeded = await stack.seedInternalApi({
    upstreamUrl: upstream.url,
    scopes: ['billing:read', 'billing:write'],
    rules: () => [{ id: 'read', effect: 'allow', scopes: ['billing:read'], methods: ['GET'], paths: ['/v1/**'] }],
  });
  const Z = `/v1/zones/${seeded.zoneName}`;
  await stack.adminOk('POST', `${Z}/resources`, { id: 'ledger-api', scopes: ['billing:read'], upstream_url: upstream.url });
  const outsider = await stack.adminOk<{ id: string }>('POST', `${Z}/apps`, { name: 'outsider' });
  const killed = await stack.adminOk<{ id: string }>('POST', `${Z}/apps`, { name: 'killed' });
  await stack.adminOk('POST', '/v1/zones', { name: 'elsewhere' });
  const stranger = await stack.adminOk<{ id: string }>('POST', '/v1/zones/elsewhere/apps', { name: 'stranger' });
  await stack.adminOk('POST', '/v1/revocations', { kind: 'app', app: 'killed', zone: seeded.zoneName, reason: 'kill switch' });
  await stack.adminOk('POST', '/v1/revocations', { kind: 'jti', value: 'plg_revoked', zone: seeded.zoneName, reason: 'leaked' });
  token = await stack.mint({ appId: seeded.appId, clientSecret: seeded.clientSecret, resourceId: seeded.resourceId, scopes: ['billing:read'] });

  const now = Math.floor(Date.now() / 1000);
  const base = { zoneId: seeded.zoneId, appId: seeded.appId, scopes: ['billing:read'], resourceId: seeded.resourceId };
  const { resourceId: _none, ...noResource } = base;
  writeFileSync(
    join(home, 'identify-keys.json'),
    JSON.stringify({
      good: { ...base, jti: 'plg_good', expiresAt: now + 3600 },
      'bare-slug': { ...base, resourceId: 'billing-api' },
      wide: { ...base, scopes: ['billing:write', 'billing:admin'] },
      outsider: { ...base, appId: outsider.id },
      'other-resource': { ...base, resourceId: 'resource://ledger-api' },
      'no-resource': noResource,
      'not-an-identity': 'yes',
      expired: { ...base, expiresAt: now - 60 },
      ghost: { ...base, appId: 'app_01GHOSTGHOSTGHOSTGHOSTGHOST' },
      killed: { ...base, appId: killed.id },
      'revoked-jti': { ...base, jti: 'plg_revoked' },
      [RAW_KEY]: base,
      'foreign-app': { ...base, appId: stranger.id },
      'nowhere-zone': { ...base, zoneId: NOWHERE },
    }),
  );
  // The Gateway learns of the seeded app and policy, then of the later apps and revocations, from
  // the store within a second: wait for the last write (the jti revocation) to be in force too.
  await until(() => call({ authorization: 'ApiKey good' }), (reply) => reply.status === 200);
  await until(() => call({ authorization: 'ApiKey revoked-jti' }), (reply) => reply.status === 401);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Calls GET /v1/items (or `method`) on the seeded resource with these headers. */
function call(headers: Record<string, string>, options: { method?: string; resource?: string; requestId?: string } = {}): Promise<HttpReply> {
  return send(`${stack.gatewayUrl}/v1/items`, {
    method: options.method ?? 'GET',
    headers: { 'x-caracal-resource': options.resource ?? seeded.resourceId, ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }), ...headers },
    timeoutMs: 10_000,
  });
}

async function until<T>(get: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WITHIN_MS;
  for (;;) {
    const value = await get();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${WITHIN_MS} ms; last: ${JSON.stringify(value)}\ngateway log:\n${stack.logs().gateway}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** How many times the fixture's identify hook has been called. */
function identifyCalls(): number {
  const log = join(stack.home, 'identify-calls.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** The ledger row of one request, once the Gateway's audit thread has written it. */
function row(requestId: string): Promise<GatewayRow> {
  return until(
    () => Promise.resolve(readLedger(stack.databasePath).find((r) => r.request_id === requestId)),
    (found) => found !== undefined,
  ) as Promise<GatewayRow>;
}

function detail(r: GatewayRow): Record<string, unknown> {
  return JSON.parse(r.detail) as Record<string, unknown>;
}

interface Case {
  readonly name: string;
  readonly headers: () => Record<string, string>;
  readonly method?: string;
  readonly status: number;
  /** The refusal reason, or undefined for a forwarded request. */
  readonly reason?: string;
  /** Whether the request reaches the identify plugin. */
  readonly asks: boolean;
  /** A request header (lower case) that carried the credential: the upstream must not receive it. */
  readonly stripped?: string;
}

const apiKey = (key: string) => () => ({ authorization: `ApiKey ${key}` });

const cases: readonly Case[] = [
  { name: 'a known key with the ApiKey scheme is forwarded', headers: apiKey('good'), status: 200, asks: true },
  { name: 'a known key as an opaque bearer value is forwarded', headers: () => ({ authorization: 'Bearer good' }), status: 200, asks: true },
  { name: 'a known key as the whole Authorization header (no scheme) is forwarded', headers: () => ({ authorization: RAW_KEY }), status: 200, asks: true },
  { name: 'a known key in another header, without Authorization, is forwarded without that header', headers: () => ({ 'x-fixture-key': 'good' }), status: 200, asks: true, stripped: 'x-fixture-key' },
  { name: 'an identity naming the resource by its bare slug is forwarded', headers: apiKey('bare-slug'), status: 200, asks: true },
  { name: 'the policy still decides the method for a plugin identity', headers: apiKey('good'), method: 'DELETE', status: 403, reason: 'method_not_allowed', asks: true },
  { name: 'scopes the policy does not grant are refused (a plugin cannot widen access)', headers: apiKey('wide'), status: 403, reason: 'scope_not_granted', asks: true },
  { name: 'an app no rule names is refused', headers: apiKey('outsider'), status: 403, reason: 'no_matching_rule', asks: true },
  { name: 'an identity for another resource is refused', headers: apiKey('other-resource'), status: 401, reason: 'audience_mismatch', asks: true },
  { name: 'an identity naming no resource is refused', headers: apiKey('no-resource'), status: 403, reason: 'plugin_denied', asks: true },
  { name: 'an answer that is not an identity is refused', headers: apiKey('not-an-identity'), status: 403, reason: 'plugin_denied', asks: true },
  { name: 'an expired identity is refused', headers: apiKey('expired'), status: 401, reason: 'token_expired', asks: true },
  { name: 'an identity of an unknown app is refused', headers: apiKey('ghost'), status: 401, reason: 'app_unknown', asks: true },
  { name: 'an identity pairing an app with a zone it does not belong to is refused', headers: apiKey('foreign-app'), status: 401, reason: 'app_unknown', asks: true },
  { name: 'an identity naming a zone that does not exist is refused', headers: apiKey('nowhere-zone'), status: 401, reason: 'app_unknown', asks: true },
  { name: 'an identity of a killed app is refused', headers: apiKey('killed'), status: 401, reason: 'app_revoked', asks: true },
  { name: 'an identity whose jti was revoked is refused', headers: apiKey('revoked-jti'), status: 401, reason: 'token_revoked', asks: true },
  { name: 'an unknown key is refused as without a plugin', headers: apiKey('nobody'), status: 401, reason: 'token_missing', asks: true },
  { name: 'an unknown opaque bearer value is refused as malformed', headers: () => ({ authorization: 'Bearer nobody' }), status: 401, reason: 'token_malformed', asks: true },
  { name: 'a throwing plugin fails closed', headers: apiKey('boom'), status: 403, reason: 'plugin_denied', asks: true },
  { name: 'a Caracal token is verified by the Gateway and never reaches the plugin', headers: () => ({ authorization: `Bearer ${token}` }), status: 200, asks: false },
  {
    name: 'a forged Caracal token is refused and never reaches the plugin',
    headers: () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      return { authorization: `Bearer ${h}.${p}.${[...s].reverse().join('')}` };
    },
    status: 401,
    reason: 'signature_invalid',
    asks: false,
  },
  {
    name: 'a Caracal token with a critical header extension is refused as malformed and never reaches the plugin',
    headers: () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      const header = { ...(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as object), crit: ['exp'] };
      return { authorization: `Bearer ${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}.${s}` };
    },
    status: 401,
    reason: 'token_malformed',
    asks: false,
  },
  {
    name: 'a Caracal token whose payload is not JSON is refused as malformed and never reaches the plugin',
    headers: () => {
      const [h, , s] = token.split('.') as [string, string, string];
      return { authorization: `Bearer ${h}.${Buffer.from('not json').toString('base64url')}.${s}` };
    },
    status: 401,
    reason: 'token_malformed',
    asks: false,
  },
];

describe('identify plugins (a real stack, the fixture plugin installed with caracal plugin add)', () => {
  it.each(cases)('$name', async (c) => {
    const calls = identifyCalls();
    const hits = upstream.hits();
    const reply = await call(c.headers(), c.method === undefined ? {} : { method: c.method });
    expect(reply.status, reply.body.toString()).toBe(c.status);
    if (c.reason !== undefined) expect(reply.json).toMatchObject({ reason: c.reason });
    expect(upstream.hits() - hits, 'requests that reached the upstream').toBe(c.status === 200 ? 1 : 0);
    expect(identifyCalls() - calls, 'identify calls').toBe(c.asks ? 1 : 0);
    if (c.stripped !== undefined) {
      const seen = upstream.requests.at(-1);
      expect(seen?.headers[c.stripped], `${c.stripped} at the upstream`).toBeUndefined();
      expect(seen?.rawHeaders.map((name) => name.toLowerCase())).not.toContain(c.stripped);
    }
  });

  it('a Caracal token for another resource keeps its refusal, and the plugin is not asked', async () => {
    const calls = identifyCalls();
    const reply = await call({ authorization: `Bearer ${token}` }, { resource: 'ledger-api' });
    expect(reply.json).toMatchObject({ reason: 'audience_mismatch' });
    expect(identifyCalls()).toBe(calls);
  });

  it('forwards a plugin-identified request without its credential, and records the identity', async () => {
    const reply = await call({ authorization: 'ApiKey good' }, { requestId: 'identify-good-1' });
    expect(reply.status).toBe(200);
    const seen = upstream.requests.at(-1);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.rawHeaders.join('\n')).not.toContain('ApiKey');
    const recorded = await row('identify-good-1');
    expect(recorded).toMatchObject({ zone: seeded.zoneId, app: seeded.appId, resource: seeded.resourceId, decision: 'allow', reason: 'ok', token_jti: 'plg_good' });
    expect(detail(recorded)).toMatchObject({ identity: 'plugin', scheme: 'apikey' });
  });

  it('never records a raw key sent as the whole Authorization header (it is no scheme)', async () => {
    const reply = await call({ authorization: RAW_KEY }, { requestId: 'identify-raw-1' });
    expect(reply.status).toBe(200);
    const recorded = await row('identify-raw-1');
    expect(recorded).toMatchObject({ zone: seeded.zoneId, app: seeded.appId, decision: 'allow' });
    expect(detail(recorded)).toEqual({ identity: 'plugin', scheme: '' });
    expect(JSON.stringify(recorded)).not.toContain(RAW_KEY);
  });

  it('records an identity naming a zone that does not exist without its zone or app, opening no audit chain', async () => {
    const reply = await call({ authorization: 'ApiKey nowhere-zone' }, { requestId: 'identify-nowhere-1' });
    expect(reply.json).toMatchObject({ reason: 'app_unknown' });
    expect(await row('identify-nowhere-1')).toMatchObject({ zone: null, app: null, decision: 'deny', reason: 'app_unknown' });
    expect(readLedger(stack.databasePath).filter((r) => r.zone === NOWHERE)).toEqual([]);
  });

  it('records the plugin that gave an unusable answer by name', async () => {
    const reply = await call({ authorization: 'ApiKey not-an-identity' }, { requestId: 'identify-unusable-1' });
    expect(reply.json).toMatchObject({ reason: 'plugin_denied', message: 'plugin "identify-fixture" returned an unusable answer from hook identify: it is not an object' });
    const recorded = await row('identify-unusable-1');
    expect(recorded).toMatchObject({ zone: null, app: null, decision: 'deny', reason: 'plugin_denied' });
    expect(detail(recorded)).toMatchObject({ hook: 'identify', plugin: 'identify-fixture', error: 'identity_malformed' });
  });

  it('records a plugin identity refused by the policy with its zone and app', async () => {
    await call({ authorization: 'ApiKey wide' }, { requestId: 'identify-wide-1' });
    expect(await row('identify-wide-1')).toMatchObject({ zone: seeded.zoneId, app: seeded.appId, decision: 'deny', reason: 'scope_not_granted', category: 'policy' });
  });

  it('records a throwing plugin by name, and never shows its error text to the caller', async () => {
    const reply = await call({ authorization: 'ApiKey boom' }, { requestId: 'identify-boom-1' });
    expect(reply.status).toBe(403);
    expect(reply.json?.message).toContain('identify-fixture');
    expect(reply.body.toString()).not.toContain('key service is down');
    const recorded = await row('identify-boom-1');
    expect(recorded).toMatchObject({ zone: null, app: null, decision: 'deny', reason: 'plugin_denied' });
    expect(detail(recorded)).toMatchObject({ hook: 'identify', plugin: 'identify-fixture', error: 'plugin_error' });
  });

  it(
    'fails closed when the plugin does not answer within its timeout, and records it',
    async () => {
      const started = Date.now();
      const reply = await call({ authorization: 'ApiKey stall' }, { requestId: 'identify-stall-1' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(IDENTIFY_TIMEOUT_MS - 50);
      expect(reply.status).toBe(403);
      expect(reply.json).toMatchObject({ reason: 'plugin_denied', message: `plugin "identify-fixture" did not finish hook identify within ${IDENTIFY_TIMEOUT_MS} ms` });
      const recorded = await row('identify-stall-1');
      expect(recorded).toMatchObject({ decision: 'deny', reason: 'plugin_denied' });
      expect(detail(recorded)).toMatchObject({ hook: 'identify', plugin: 'identify-fixture', error: 'plugin_timeout' });
    },
    IDENTIFY_TIMEOUT_MS + 10_000,
  );
});
