import { createPublicKey } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActiveSigningKey } from '../core/token/keys.js';
import { parseRawResponse, send, sendRaw, type HttpReply } from './support/http.js';
import { readLedger } from './support/ledger.js';
import { freePort, startStack, type Seeded, type Stack } from './support/stack.js';
import { accessClaims, decodeJws, signEs256, signHs256, unsigned, nowSeconds, zoneSigningKey, type JsonObject } from './support/tokens.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * The Gateway's refusal matrix (DESIGN.md §5, §7), against a real stack: each way a request can be
 * refused or fail, with its status, public error code, stable reason and explain category. No
 * case answers 500, and none reaches the upstream unless it has to (the upstream counts hits).
 * Tokens with bad claims are signed with the zone's real key, so each case fails at the check it
 * is about and not earlier at the signature.
 */

const HEADERS_TIMEOUT_MS = 500;
const MiB = 1024 * 1024;

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let other: Seeded;
let key: ActiveSigningKey;
let otherKey: ActiveSigningKey;
let readToken: string;
let writeToken: string;
let ledgerToken: string;
let downToken: string;
let closedPort: number;

beforeAll(async () => {
  upstream = await startUpstream({
    readBody: false,
    handle(req, res) {
      const url = req.url ?? '';
      if (url.startsWith('/v1/slow')) return; // never answers: the headers timeout fires
      if (url.startsWith('/v1/reset-before')) return void req.socket.destroy();
      if (url.startsWith('/v1/reset-mid')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
        res.write('x'.repeat(1000));
        setTimeout(() => req.socket.destroy(), 50);
        return;
      }
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    },
  });
  closedPort = await freePort();
  stack = await startStack({ gatewayEnv: { CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) } });
  const scopes = ['billing:read', 'billing:write'];
  seeded = await stack.seedInternalApi({
    upstreamUrl: upstream.url,
    scopes,
    rules: () => [
      { id: 'read', effect: 'allow', apps: ['*'], resources: ['*'], scopes: ['billing:read'], methods: ['GET', 'HEAD'], paths: ['/v1/**'] },
      { id: 'write', effect: 'allow', apps: ['*'], resources: ['*'], scopes: ['billing:write'], methods: ['POST', 'PUT'], paths: ['/v1/**'] },
      { id: 'no-admin', effect: 'deny', apps: ['*'], resources: ['*'], scopes: ['*'], paths: ['/v1/admin/**'] },
    ],
  });
  const Z = `/v1/zones/${seeded.zoneName}`;
  await stack.adminOk('POST', `${Z}/resources`, { id: 'ledger-api', scopes, upstream_url: upstream.url });
  await stack.adminOk('POST', `${Z}/resources`, { id: 'down-api', scopes, upstream_url: `http://127.0.0.1:${closedPort}` });
  const app = { appId: seeded.appId, clientSecret: seeded.clientSecret };
  readToken = await stack.mint({ ...app, resourceId: seeded.resourceId, scopes: ['billing:read'] });
  writeToken = await stack.mint({ ...app, resourceId: seeded.resourceId, scopes: ['billing:write'] });
  ledgerToken = await stack.mint({ ...app, resourceId: 'resource://ledger-api', scopes: ['billing:read'] });
  downToken = await stack.mint({ ...app, resourceId: 'resource://down-api', scopes: ['billing:read'] });
  other = await stack.seedInternalApi({ zone: 'other', resource: 'other-api', upstreamUrl: upstream.url, scopes });
  await stack.mint(other); // creates the other zone's signing key
  key = await zoneSigningKey(stack.home, seeded.zoneId);
  otherKey = await zoneSigningKey(stack.home, other.zoneId);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

const now = nowSeconds;

/** Claims the Gateway accepts for the seeded app and resource, with `overrides` applied. */
const claims = (overrides: JsonObject = {}): JsonObject => accessClaims(stack.controlUrl, seeded, overrides);

function forged(overrides: JsonObject = {}, header: JsonObject = {}, signer: ActiveSigningKey = key): string {
  return signEs256(signer.privateKey, { alg: 'ES256', typ: 'at+jwt', kid: signer.kid, ...header }, claims(overrides));
}

/** What each case looks at: status, headers (lower-case) and the JSON body. */
interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
  readonly requestId: string | undefined;
  readonly wwwAuthenticate: string | undefined;
  readonly text: string;
}

function fromReply(reply: HttpReply): Answer {
  const www = reply.headers['www-authenticate'];
  return {
    status: reply.status,
    json: reply.json,
    requestId: reply.headers['x-request-id'] as string | undefined,
    wwwAuthenticate: typeof www === 'string' ? www : undefined,
    text: reply.body.toString('latin1'),
  };
}

function fromRaw(text: string): Answer {
  const parsed = parseRawResponse(text);
  return {
    status: parsed.status,
    json: parsed.json,
    requestId: /\r\nx-request-id: ([^\r]+)/i.exec(parsed.headers)?.[1],
    wwwAuthenticate: /\r\nwww-authenticate: ([^\r]+)/i.exec(parsed.headers)?.[1],
    text,
  };
}

const gw = (path: string) => `${stack.gatewayUrl}${path}`;
const withToken = (token: string, resource = 'resource://billing-api') => ({ authorization: `Bearer ${token}`, 'x-caracal-resource': resource });
const get = async (path: string, headers: Record<string, string>, method = 'GET') => fromReply(await send(gw(path), { method, headers }));

/**
 * Waits (at most a second: store changes reach the Gateway within one) until `token` is refused
 * with `reason`. Polls with DELETE, which the policy refuses anyway, so polling never reaches the
 * upstream; the case's own call then counts alone.
 */
async function untilRefused(token: string, reason: string): Promise<void> {
  const deadline = Date.now() + 1000;
  let last: Answer;
  do {
    last = await get('/v1/x', withToken(token), 'DELETE');
    if (last.json?.reason === reason) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  } while (Date.now() < deadline);
  throw new Error(`still not ${reason} after 1 s: ${last.text}`);
}

interface Case {
  readonly name: string;
  readonly call: () => Promise<Answer>;
  readonly status: number;
  readonly error: string;
  readonly reason: string;
  readonly category: string;
  /** How many requests the upstream receives (default 0). */
  readonly upstreamHits?: number;
}

const cases: readonly Case[] = [
  // identify: the token
  { name: 'no token', call: () => get('/v1/x', { 'x-caracal-resource': 'billing-api' }), status: 401, error: 'invalid_token', reason: 'token_missing', category: 'runtime_config' },
  { name: 'a non-Bearer scheme', call: () => get('/v1/x', { authorization: 'Basic YTpi', 'x-caracal-resource': 'billing-api' }), status: 401, error: 'invalid_token', reason: 'token_missing', category: 'runtime_config' },
  { name: 'a malformed token', call: () => get('/v1/x', withToken('not.a-jwt')), status: 401, error: 'invalid_token', reason: 'token_malformed', category: 'runtime_config' },
  { name: 'a token with two parts', call: () => get('/v1/x', withToken(readToken.split('.').slice(0, 2).join('.'))), status: 401, error: 'invalid_token', reason: 'token_malformed', category: 'runtime_config' },
  {
    name: 'alg: none',
    call: () => get('/v1/x', withToken(unsigned({ alg: 'none', typ: 'at+jwt', kid: key.kid }, claims()))),
    status: 401, error: 'invalid_token', reason: 'alg_not_allowed', category: 'runtime_config',
  },
  {
    name: 'HS256 keyed with the zone public key',
    call: () => {
      // The classic confusion: a verifier that follows the header would HMAC with the public key's PEM.
      const pem = createPublicKey(key.privateKey).export({ format: 'pem', type: 'spki' });
      return get('/v1/x', withToken(signHs256(pem, { alg: 'HS256', typ: 'at+jwt', kid: key.kid }, claims())));
    },
    status: 401, error: 'invalid_token', reason: 'alg_not_allowed', category: 'runtime_config',
  },
  { name: 'typ JWT (not an access token)', call: () => get('/v1/x', withToken(forged({}, { typ: 'JWT' }))), status: 401, error: 'invalid_token', reason: 'typ_invalid', category: 'runtime_config' },
  { name: 'an unknown kid', call: () => get('/v1/x', withToken(forged({}, { kid: 'kid-from-elsewhere' }))), status: 401, error: 'invalid_token', reason: 'kid_unknown', category: 'runtime_config' },
  {
    name: 'a tampered payload (scope widened)',
    call: () => {
      const [h, , s] = readToken.split('.');
      const payload = Buffer.from(JSON.stringify({ ...decodeJws(readToken).payload, scope: 'billing:read billing:write' })).toString('base64url');
      return get('/v1/x', withToken(`${h}.${payload}.${s}`));
    },
    status: 401, error: 'invalid_token', reason: 'signature_invalid', category: 'runtime_config',
  },
  { name: 'an expired token', call: () => get('/v1/x', withToken(forged({ iat: now() - 900, nbf: now() - 900, exp: now() - 120 }))), status: 401, error: 'invalid_token', reason: 'token_expired', category: 'runtime_config' },
  { name: 'a token not yet valid', call: () => get('/v1/x', withToken(forged({ nbf: now() + 600, exp: now() + 1200 }))), status: 401, error: 'invalid_token', reason: 'token_not_yet_valid', category: 'runtime_config' },
  { name: 'a wrong issuer', call: () => get('/v1/x', withToken(forged({ iss: 'http://evil.example' }))), status: 401, error: 'invalid_token', reason: 'issuer_invalid', category: 'runtime_config' },
  { name: 'a missing claim', call: () => get('/v1/x', withToken(forged({ jti: undefined }))), status: 401, error: 'invalid_token', reason: 'claims_invalid', category: 'runtime_config' },
  {
    name: 'a key of another zone (zone claim of this zone, signed by the other zone)',
    call: () => get('/v1/x', withToken(forged({}, {}, otherKey))),
    status: 401, error: 'invalid_token', reason: 'zone_mismatch', category: 'runtime_config',
  },
  {
    // The token's zone has no such resource: refused as unknown there (zones are separate).
    name: 'a real token of another zone, sent for this zone resource',
    call: async () => get('/v1/x', withToken(await stack.mint(other), seeded.resourceId)),
    status: 404, error: 'unknown_resource', reason: 'resource_unknown', category: 'resource_routing',
  },
  { name: 'a token for another resource', call: () => get('/v1/x', withToken(ledgerToken)), status: 401, error: 'invalid_token', reason: 'audience_mismatch', category: 'resource_routing' },
  { name: 'an oversized token', call: () => get('/v1/x', withToken('a'.repeat(5000))), status: 401, error: 'invalid_token', reason: 'token_too_large', category: 'runtime_config' },
  {
    name: 'a revoked jti',
    call: async () => {
      const token = await stack.mint({ ...seeded, scopes: ['billing:read'] });
      expect((await get('/v1/x', withToken(token))).status).toBe(200); // the one upstream hit
      await stack.adminOk('POST', '/v1/revocations', { kind: 'jti', value: decodeJws(token).payload.jti, zone: seeded.zoneName });
      await untilRefused(token, 'token_revoked');
      return get('/v1/x', withToken(token));
    },
    status: 401, error: 'invalid_token', reason: 'token_revoked', category: 'runtime_config', upstreamHits: 1,
  },
  {
    name: 'a revoked app (kill switch)',
    call: async () => {
      const doomed = await stack.adminOk<{ id: string; client_secret: string }>('POST', `/v1/zones/${seeded.zoneName}/apps`, { name: 'doomed' });
      const token = await stack.mint({ appId: doomed.id, clientSecret: doomed.client_secret, resourceId: seeded.resourceId, scopes: ['billing:read'] });
      expect((await get('/v1/x', withToken(token))).status).toBe(200); // the one upstream hit
      await stack.adminOk('POST', '/v1/revocations', { kind: 'app', app: doomed.id, zone: seeded.zoneName });
      await untilRefused(token, 'app_revoked');
      return get('/v1/x', withToken(token));
    },
    status: 401, error: 'invalid_token', reason: 'app_revoked', category: 'runtime_config', upstreamHits: 1,
  },
  {
    name: 'a disabled app',
    call: async () => {
      const sleepy = await stack.adminOk<{ id: string; client_secret: string }>('POST', `/v1/zones/${seeded.zoneName}/apps`, { name: 'sleepy' });
      const token = await stack.mint({ appId: sleepy.id, clientSecret: sleepy.client_secret, resourceId: seeded.resourceId, scopes: ['billing:read'] });
      await stack.adminOk('POST', `/v1/zones/${seeded.zoneName}/apps/${sleepy.id}/disable`);
      await untilRefused(token, 'app_disabled');
      return get('/v1/x', withToken(token));
    },
    status: 401, error: 'invalid_token', reason: 'app_disabled', category: 'runtime_config',
  },
  // route
  { name: 'no resource header', call: () => get('/v1/x', { authorization: `Bearer ${readToken}` }), status: 400, error: 'invalid_request', reason: 'resource_header_missing', category: 'resource_routing' },
  { name: 'a resource header that is no resource ID', call: () => get('/v1/x', withToken(readToken, 'Billing API!')), status: 400, error: 'invalid_request', reason: 'resource_header_invalid', category: 'resource_routing' },
  {
    name: 'an unknown resource (a valid token naming it)',
    call: () => get('/v1/x', withToken(forged({ aud: 'resource://nope-api' }), 'nope-api')),
    status: 404, error: 'unknown_resource', reason: 'resource_unknown', category: 'resource_routing',
  },
  // authorize
  { name: 'a policy deny by method', call: () => get('/v1/x', withToken(readToken), 'DELETE'), status: 403, error: 'access_denied', reason: 'method_not_allowed', category: 'policy' },
  { name: 'a policy deny by path', call: () => get('/v2/x', withToken(readToken)), status: 403, error: 'access_denied', reason: 'path_not_allowed', category: 'policy' },
  { name: 'a policy deny by scope', call: () => get('/v1/x', withToken(writeToken)), status: 403, error: 'insufficient_scope', reason: 'scope_not_granted', category: 'policy' },
  { name: 'a deny rule', call: () => get('/v1/admin/users', withToken(readToken)), status: 403, error: 'access_denied', reason: 'denied_by_rule', category: 'policy' },
  // receive: the request itself
  ...['/v1/../admin', '/v1/./x', '/v1/x/..', '/v1/%2e%2e/admin', '/v1/%2E/x', '/v1/.%2E/x', '/v1/..%2Fadmin', '/v1/a%2fb', '/v1/a%5Cb', '/v1\\..\\admin', '/v1/%00'].map(
    (path): Case => ({ name: `the path ${path}`, call: () => get(path, withToken(readToken)), status: 400, error: 'invalid_request', reason: 'path_invalid', category: 'resource_routing' }),
  ),
  {
    name: 'a bare CR inside a header value (raw socket)',
    call: async () => fromRaw(await sendRaw(port(), `GET /v1/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${readToken}\r\nX-Caracal-Resource: billing-api\r\nX-Evil: a\rInjected: yes\r\n\r\n`)),
    status: 400, error: 'invalid_request', reason: 'request_malformed', category: 'runtime_config',
  },
  {
    name: 'a bare LF inside a header value (raw socket)',
    call: async () => fromRaw(await sendRaw(port(), `GET /v1/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${readToken}\r\nX-Caracal-Resource: billing-api\r\nX-Evil: a\nInjected: yes\r\n\r\n`)),
    status: 400, error: 'invalid_request', reason: 'request_malformed', category: 'runtime_config',
  },
  ...[
    ['an obs-fold continuation line', 'X-Folded: a\r\n b\r\n'],
    ['a space before the colon', 'X-Caracal-Resource : billing-api\r\n'],
    ['Content-Length with Transfer-Encoding (smuggling)', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
    ['two Content-Length headers (smuggling)', 'Content-Length: 1\r\nContent-Length: 2\r\n'],
  ].map(
    ([name, lines]): Case => ({
      name: `${name as string} (raw socket)`,
      call: async () => fromRaw(await sendRaw(port(), `POST /v1/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${writeToken}\r\nX-Caracal-Resource: billing-api\r\n${lines as string}\r\n0\r\n\r\n`)),
      status: 400, error: 'invalid_request', reason: 'request_malformed', category: 'runtime_config',
    }),
  ),
  {
    name: 'no Host header on HTTP/1.1 (raw socket)',
    call: async () => fromRaw(await sendRaw(port(), `GET /v1/x HTTP/1.1\r\nAuthorization: Bearer ${readToken}\r\nX-Caracal-Resource: billing-api\r\nConnection: close\r\n\r\n`)),
    status: 400, error: 'invalid_request', reason: 'request_malformed', category: 'runtime_config',
  },
  {
    name: 'a header block over 16 KiB',
    call: () => get('/v1/x', { ...withToken(readToken), 'x-padding': 'p'.repeat(17 * 1024) }),
    status: 431, error: 'request_header_fields_too_large', reason: 'headers_too_large', category: 'runtime_config',
  },
  {
    name: 'a body over 10 MiB (Content-Length)',
    call: async () => fromReply(await send(gw('/v1/upload'), { method: 'POST', headers: withToken(writeToken), body: Buffer.alloc(10 * MiB + 1) })),
    status: 413, error: 'payload_too_large', reason: 'body_too_large', category: 'runtime_config',
  },
  {
    name: 'a body over 10 MiB (chunked)',
    call: async () => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      const body = Readable.from((function* () {
        for (let sent = 0; sent <= 10 * MiB; sent += chunk.length) yield chunk;
      })());
      return fromReply(await send(gw('/v1/upload'), { method: 'POST', headers: withToken(writeToken), body }));
    },
    // The upstream sees the request start (bodies are streamed), never its end: it is aborted.
    status: 413, error: 'payload_too_large', reason: 'body_too_large', category: 'runtime_config', upstreamHits: 1,
  },
  // forward: the upstream
  { name: 'an upstream that refuses connections', call: () => get('/v1/x', withToken(downToken, 'down-api')), status: 502, error: 'upstream_unreachable', reason: 'upstream_unreachable', category: 'upstream' },
  { name: 'an upstream that never answers', call: () => get('/v1/slow', withToken(readToken)), status: 504, error: 'upstream_timeout', reason: 'upstream_timeout', category: 'upstream', upstreamHits: 1 },
  { name: 'an upstream that resets before answering', call: () => get('/v1/reset-before', withToken(readToken)), status: 502, error: 'upstream_reset', reason: 'upstream_reset', category: 'upstream', upstreamHits: 1 },
];

const port = () => Number(new URL(stack.gatewayUrl).port);

/** request ID → the reason the answer named, checked against the ledger at the end. */
const answered = new Map<string, { reason: string; category: string; status: number }>();

describe('Gateway refusals', () => {
  it.each(cases)('refuses $name with $status $error ($reason, $category)', async (c) => {
    const before = upstream.hits();
    const answer = await c.call();
    expect(answer.status, answer.text).toBe(c.status);
    expect(answer.json).toMatchObject({ error: c.error, reason: c.reason, category: c.category });
    expect(typeof answer.json?.message).toBe('string');
    expect(typeof answer.json?.hint).toBe('string');
    expect(answer.json?.request_id).toBe(answer.requestId);
    expect(answer.text).not.toContain(readToken);
    expect(answer.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
    if (c.status === 401) expect(answer.wwwAuthenticate).toMatch(/^Bearer realm="caracal"/);
    if (c.error === 'insufficient_scope') expect(answer.wwwAuthenticate).toContain('error="insufficient_scope"');
    expect(upstream.hits() - before, 'requests that reached the upstream').toBe(c.upstreamHits ?? 0);
    answered.set(answer.requestId as string, { reason: c.reason, category: c.category, status: c.status });
  });

  it('cuts the client connection when the upstream resets mid-body, and records upstream_reset', async () => {
    const before = upstream.hits();
    const outcome = await send(gw('/v1/reset-mid'), { headers: { ...withToken(readToken), 'x-request-id': 'reset-mid-1' } }).then(
      (reply) => `complete ${reply.body.length}`,
      (error: Error) => `aborted: ${error.message}`,
    );
    expect(outcome).toMatch(/^aborted/);
    expect(upstream.hits() - before).toBe(1);
    answered.set('reset-mid-1', { reason: 'upstream_reset', category: 'upstream', status: 200 });
  });

  it('answers nothing with a 500 and the ledger holds every refusal with its reason and category', async () => {
    expect(await stack.stopGateway()).toBe(0);
    const rows = new Map(readLedger(stack.databasePath).map((row) => [row.request_id, row]));
    expect(answered.size).toBe(cases.length + 1);
    for (const [requestId, expected] of answered) {
      const row = rows.get(requestId);
      expect(row, requestId).toBeDefined();
      expect({ reason: row?.reason, category: row?.category, status: row?.http_status }, requestId).toEqual(expected);
    }
    expect([...rows.values()].filter((row) => (row.http_status ?? 0) >= 500 && row.category !== 'upstream')).toEqual([]);
  });
});
