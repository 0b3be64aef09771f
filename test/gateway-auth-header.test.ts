import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActiveSigningKey } from '../core/token/keys.js';
import { send, type HttpReply } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { accessClaims, decodeJws, signEs256, nowSeconds, zoneSigningKey, type JsonObject } from './support/tokens.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * The Gateway's `WWW-Authenticate` header (RFC 6750 §3, DESIGN.md §5), value for value, against a
 * real stack. A request without any Bearer credential gets the challenge without an error code
 * (RFC 6750 §3.1: "SHOULD NOT include an error code"); every refused Bearer token gets
 * `error="invalid_token"`; a 403 for a missing scope gets `error="insufficient_scope"`; no other
 * answer carries the header. Each case also checks the body's reason, so it fails at the check it
 * is about.
 */

const CHALLENGE = 'Bearer realm="caracal"';
const INVALID_TOKEN = 'Bearer realm="caracal", error="invalid_token"';
const INSUFFICIENT_SCOPE = 'Bearer realm="caracal", error="insufficient_scope"';

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let key: ActiveSigningKey;
let readToken: string;
let writeToken: string;
/** A P-256 key no zone of this stack has. */
let strangerKey: KeyObject;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack();
  seeded = await stack.seedInternalApi({
    upstreamUrl: upstream.url,
    scopes: ['billing:read', 'billing:write'],
    rules: () => [
      { id: 'read', effect: 'allow', scopes: ['billing:read'], methods: ['GET'], paths: ['/v1/**'] },
      { id: 'write', effect: 'allow', scopes: ['billing:write'], methods: ['POST'], paths: ['/v1/**'] },
    ],
  });
  readToken = await stack.mint({ ...seeded, scopes: ['billing:read'] });
  writeToken = await stack.mint({ ...seeded, scopes: ['billing:write'] });
  key = await zoneSigningKey(stack.home, seeded.zoneId);
  strangerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

const now = nowSeconds;

/** Claims the Gateway accepts for the seeded app and resource, with `overrides` applied. */
const claims = (overrides: JsonObject = {}): JsonObject => accessClaims(stack.controlUrl, seeded, overrides);

const call = (headers: Record<string, string>, path = '/v1/x', method = 'GET') => send(`${stack.gatewayUrl}${path}`, { method, headers });
const withToken = (token: string) => ({ authorization: `Bearer ${token}`, 'x-caracal-resource': seeded.resourceId });

/** The header as received (Node joins repeated fields into one string). */
function wwwAuthenticate(reply: HttpReply): string | undefined {
  const value = reply.headers['www-authenticate'];
  return typeof value === 'string' ? value : undefined;
}

/** Polls (at most 2 s: store changes reach the Gateway within one) until `token` is refused with `reason`. */
async function untilRefused(token: string, reason: string): Promise<HttpReply> {
  const deadline = Date.now() + 2000;
  let last: HttpReply;
  do {
    last = await call(withToken(token));
    if (last.json?.reason === reason) return last;
    await new Promise((resolve) => setTimeout(resolve, 25));
  } while (Date.now() < deadline);
  throw new Error(`still not ${reason} after 2 s: ${last.status} ${last.body.toString()}`);
}

interface Case {
  readonly name: string;
  readonly call: () => Promise<HttpReply>;
  readonly status: number;
  readonly reason: string;
  /** The exact WWW-Authenticate value, or undefined for none. */
  readonly header: string | undefined;
}

const cases: readonly Case[] = [
  // RFC 6750 §3.1: no authentication information at all → the bare challenge, no error code.
  { name: 'no Authorization header', call: () => call({ 'x-caracal-resource': 'billing-api' }), status: 401, reason: 'token_missing', header: CHALLENGE },
  // "…or attempted using an unsupported authentication method": still no error code.
  { name: 'a Basic credential (not Bearer)', call: () => call({ authorization: 'Basic YTpi', 'x-caracal-resource': 'billing-api' }), status: 401, reason: 'token_missing', header: CHALLENGE },
  { name: 'a malformed token', call: () => call(withToken('not.a-jwt')), status: 401, reason: 'token_malformed', header: INVALID_TOKEN },
  {
    name: 'an expired token (signed by the zone key)',
    call: () => call(withToken(signEs256(key.privateKey, { alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims({ iat: now() - 900, nbf: now() - 900, exp: now() - 120 })))),
    status: 401,
    reason: 'token_expired',
    header: INVALID_TOKEN,
  },
  {
    name: 'a revoked token',
    call: async () => {
      const token = await stack.mint({ ...seeded, scopes: ['billing:read'] });
      expect((await call(withToken(token))).status).toBe(200);
      await stack.adminOk('POST', '/v1/revocations', { kind: 'jti', value: decodeJws(token).payload.jti, zone: seeded.zoneName });
      await untilRefused(token, 'token_revoked');
      return call(withToken(token));
    },
    status: 401,
    reason: 'token_revoked',
    header: INVALID_TOKEN,
  },
  {
    name: 'a token signed by an unknown key (unknown kid)',
    call: () => call(withToken(signEs256(strangerKey, { alg: 'ES256', typ: 'at+jwt', kid: 'key_from_elsewhere' }, claims()))),
    status: 401,
    reason: 'kid_unknown',
    header: INVALID_TOKEN,
  },
  {
    name: "a token signed by an unknown key under the zone key's kid",
    call: () => call(withToken(signEs256(strangerKey, { alg: 'ES256', typ: 'at+jwt', kid: key.kid }, claims()))),
    status: 401,
    reason: 'signature_invalid',
    header: INVALID_TOKEN,
  },
  // RFC 6750 §3.1: insufficient_scope → 403 with the error code in the challenge.
  { name: 'a token without the scope the rule requires', call: () => call(withToken(writeToken)), status: 403, reason: 'scope_not_granted', header: INSUFFICIENT_SCOPE },
  // A policy denial that is not about scopes is no RFC 6750 error: no challenge.
  { name: 'a path the policy does not allow', call: () => call(withToken(readToken), '/v2/x'), status: 403, reason: 'path_not_allowed', header: undefined },
  { name: 'an allowed call', call: () => call(withToken(readToken)), status: 200, reason: '(forwarded)', header: undefined },
];

describe('WWW-Authenticate (RFC 6750 §3)', () => {
  it.each(cases)('answers $name with $status and WWW-Authenticate: $header', async (c) => {
    const reply = await c.call();
    const text = reply.body.toString();
    expect(reply.status, text).toBe(c.status);
    if (c.status !== 200) expect(reply.json?.reason, text).toBe(c.reason);
    // Exact: a second challenge sent alongside would be joined into this value by Node and differ.
    expect(wwwAuthenticate(reply)).toBe(c.header);
  });

  it('sends no error code exactly when the request carried no Bearer credential', async () => {
    const missing = await call({ 'x-caracal-resource': 'billing-api' });
    const bad = await call(withToken('a.b.c'));
    expect(wwwAuthenticate(missing)).not.toContain('error=');
    expect(wwwAuthenticate(bad)).toContain('error="invalid_token"');
    // RFC 6750 §3: the auth-params are comma-separated quoted strings after the scheme.
    for (const value of [wwwAuthenticate(missing), wwwAuthenticate(bad)]) {
      expect(value).toMatch(/^Bearer [a-z_]+="[^"\\]*"(, [a-z_]+="[^"\\]*")*$/);
    }
  });
});
