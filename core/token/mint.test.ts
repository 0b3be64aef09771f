import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { isId } from '../domain/ids.js';
import { isCaracalError } from '../errors.js';
import { mintAccessToken } from './mint.js';
import type { MintInput } from './mint.js';
import { decodeToken, makeZoneKey } from './test-support/token-fixtures.js';
import { createTokenVerifier } from './verify.js';

const issuer = 'http://127.0.0.1:4700';
const zoneId = 'zn_01JTESTZONE0000000000000000';
const app = 'app_01JTESTAPP00000000000000000';
const resource = 'resource://billing-api';
const now = Date.parse('2030-01-01T00:00:00.000Z');
const key = makeZoneKey(zoneId);
const base: MintInput = { key: key.signing, issuer, app, zoneId, resource, scopes: ['billing:read', 'billing:write'], now };

describe('mintAccessToken', () => {
  it('writes the RFC 9068 header and exactly the claims of DESIGN.md §4', () => {
    const minted = mintAccessToken(base);
    const { header, payload } = decodeToken(minted.token);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: key.signing.kid });
    const iat = now / 1000;
    expect(payload).toEqual({
      iss: issuer,
      sub: app,
      client_id: app,
      aud: resource,
      scope: 'billing:read billing:write',
      zone: zoneId,
      jti: minted.jti,
      iat,
      nbf: iat,
      exp: iat + 600,
    });
    expect(Object.keys(payload)).toEqual(['iss', 'sub', 'client_id', 'aud', 'scope', 'zone', 'jti', 'iat', 'nbf', 'exp']);
    expect(isId('token', minted.jti)).toBe(true);
    expect(minted).toMatchObject({ iat, exp: iat + 600, claims: payload });
  });

  it('gives every token its own jti', () => {
    const jtis = new Set(Array.from({ length: 50 }, () => mintAccessToken(base).jti));
    expect(jtis.size).toBe(50);
  });

  it('round-trips through the verifier', () => {
    const minted = mintAccessToken({ ...base, ttlSeconds: 3600 });
    const verifier = createTokenVerifier({ issuer, keys: () => new Map([[key.signing.kid, key.verification]]), now: () => now + 1000 });
    const result = verifier.verify(minted.token, resource);
    expect(result).toEqual({ ok: true, claims: minted.claims, scopes: ['billing:read', 'billing:write'], kid: key.signing.kid });
  });

  it('is verified by jose used the ordinary way (local JWKS, issuer, audience, typ)', async () => {
    const minted = mintAccessToken(base);
    const jwks = jose.createLocalJWKSet({ keys: [key.publicJwk] });
    const { payload, protectedHeader } = await jose.jwtVerify(minted.token, jwks, {
      issuer,
      audience: resource,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(now + 5000),
    });
    expect(protectedHeader.kid).toBe(key.signing.kid);
    expect(payload).toEqual(minted.claims);
  });

  it('drops duplicate scopes and keeps their order', () => {
    const minted = mintAccessToken({ ...base, scopes: ['b', 'a', 'b'] });
    expect(minted.claims.scope).toBe('b a');
  });

  it.each([
    ['a lifetime over 3600 s', { ttlSeconds: 3601 }, /from 1 to 3600/],
    ['a zero lifetime', { ttlSeconds: 0 }, /from 1 to 3600/],
    ['a fractional lifetime', { ttlSeconds: 1.5 }, /whole number/],
    ['no scope', { scopes: [] }, /at least one/],
    ['a scope with a space', { scopes: ['read write'] }, /not a valid scope token/],
    ['a scope with a quote', { scopes: ['say"hi'] }, /not a valid scope token/],
    ['a bare resource slug', { resource: 'billing-api' }, /normalised resource ID/],
    ['an empty issuer', { issuer: '' }, /non-empty issuer/],
    ['the key of another zone', { zoneId: 'zn_01JOTHERZONE000000000000000' }, /must be signed with its own zone key/],
  ] as const)('refuses %s', (_name, change, message) => {
    let error: unknown;
    try {
      mintAccessToken({ ...base, ...change });
    } catch (caught) {
      error = caught;
    }
    expect(isCaracalError(error, 'CRC_VALIDATION')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts the longest lifetime exactly', () => {
    expect(mintAccessToken({ ...base, ttlSeconds: 3600 }).exp - now / 1000).toBe(3600);
  });
});
