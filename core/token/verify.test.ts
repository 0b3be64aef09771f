import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mintAccessToken } from './mint.js';
import type { MintInput } from './mint.js';
import { forgeToken, makeZoneKey } from './test-support/token-fixtures.js';
import { createTokenVerifier } from './verify.js';
import type { TokenVerifierOptions, VerificationKey, VerifyFailure, VerifyFailureReason, VerifyResult } from './verify.js';

const issuer = 'http://127.0.0.1:4700';
const zoneA = 'zn_01JZONEA000000000000000000';
const zoneB = 'zn_01JZONEB000000000000000000';
const app = 'app_01JAPP00000000000000000000';
const resource = 'resource://billing-api';
const T = Date.parse('2030-06-01T12:00:00.000Z');
const keyA = makeZoneKey(zoneA);
const keyB = makeZoneKey(zoneB);
const foreign = makeZoneKey(zoneA);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const trusted = new Map<string, VerificationKey>([
  [keyA.signing.kid, keyA.verification],
  [keyB.signing.kid, keyB.verification],
]);

const reasons: readonly VerifyFailureReason[] = [
  'token_missing',
  'token_malformed',
  'token_too_large',
  'alg_not_allowed',
  'typ_invalid',
  'kid_unknown',
  'signature_invalid',
  'token_expired',
  'token_not_yet_valid',
  'issuer_invalid',
  'audience_mismatch',
  'zone_mismatch',
  'claims_invalid',
];

function mint(change: Partial<MintInput> = {}): string {
  return mintAccessToken({ key: keyA.signing, issuer, app, zoneId: zoneA, resource, scopes: ['billing:read'], now: T, ...change }).token;
}

const header = { alg: 'ES256', typ: 'at+jwt', kid: keyA.signing.kid };
const claims = {
  iss: issuer,
  sub: app,
  client_id: app,
  aud: resource,
  scope: 'billing:read',
  zone: zoneA,
  jti: 'tok_01JTOKEN0000000000000000000',
  iat: T / 1000,
  nbf: T / 1000,
  exp: T / 1000 + 600,
};
const es256 = { kind: 'es256', key: keyA.signing.privateKey } as const;

function verifier(options: Partial<TokenVerifierOptions> & { clock?: { now: number } } = {}) {
  const clock = options.clock ?? { now: T };
  return createTokenVerifier({ issuer, keys: () => trusted, now: () => clock.now, ...options });
}

function refusal(result: VerifyResult): VerifyFailure {
  if (result.ok) throw new Error('expected a refusal, the token was accepted');
  return result;
}

function tamperPayload(token: string): string {
  const [h, , s] = token.split('.');
  const payload = Buffer.from(JSON.stringify({ ...claims, scope: 'billing:admin' })).toString('base64url');
  return `${h}.${payload}.${s}`;
}

describe('createTokenVerifier: the refusal matrix', () => {
  const cases: ReadonlyArray<readonly [string, () => string | undefined, VerifyFailureReason]> = [
    ['no token', () => undefined, 'token_missing'],
    ['an empty token', () => '', 'token_missing'],
    ['a token over 4 KiB', () => `${mint()}${'A'.repeat(4096)}`, 'token_too_large'],
    ['a random word', () => 'hello', 'token_malformed'],
    ['two parts', () => mint().split('.').slice(0, 2).join('.'), 'token_malformed'],
    ['four parts', () => `${mint()}.AAAA`, 'token_malformed'],
    ['a header that is not JSON', () => `bm90IGpzb24.${mint().split('.')[1]}.sig`, 'token_malformed'],
    ['a header that is a JSON array', () => forgeToken([1, 2], claims, es256), 'token_malformed'],
    ['non-base64url characters', () => mint().replace('.', '.+'), 'token_malformed'],
    ['a critical header extension', () => forgeToken({ ...header, crit: ['exp'] }, claims, es256), 'token_malformed'],
    ['alg "none"', () => forgeToken({ ...header, alg: 'none' }, claims, { kind: 'none' }), 'alg_not_allowed'],
    ['alg "NONE" with a signature', () => forgeToken({ ...header, alg: 'NONE' }, claims, es256), 'alg_not_allowed'],
    [
      'HS256 keyed with the public key (PEM)',
      () => forgeToken({ ...header, alg: 'HS256' }, claims, { kind: 'hs256', secret: keyA.publicKey.export({ type: 'spki', format: 'pem' }) }),
      'alg_not_allowed',
    ],
    [
      'HS256 keyed with the public JWK',
      () => forgeToken({ ...header, alg: 'HS256' }, claims, { kind: 'hs256', secret: JSON.stringify(keyA.publicJwk) }),
      'alg_not_allowed',
    ],
    ['RS256', () => forgeToken({ ...header, alg: 'RS256' }, claims, { kind: 'rs256', key: rsa.privateKey }), 'alg_not_allowed'],
    ['no alg', () => forgeToken({ typ: 'at+jwt', kid: keyA.signing.kid }, claims, es256), 'alg_not_allowed'],
    ['typ "JWT" (an ID token or other JWT)', () => forgeToken({ ...header, typ: 'JWT' }, claims, es256), 'typ_invalid'],
    ['no typ', () => forgeToken({ alg: 'ES256', kid: keyA.signing.kid }, claims, es256), 'typ_invalid'],
    ['an unknown kid', () => forgeToken({ ...header, kid: 'key_01JUNKNOWN00000000000000000' }, claims, es256), 'kid_unknown'],
    ['no kid', () => forgeToken({ alg: 'ES256', typ: 'at+jwt' }, claims, es256), 'kid_unknown'],
    ['a signature by another key under a trusted kid', () => forgeToken(header, claims, { kind: 'es256', key: foreign.signing.privateKey }), 'signature_invalid'],
    ['a tampered payload', () => tamperPayload(mint()), 'signature_invalid'],
    ['a truncated signature', () => mint().slice(0, -2), 'signature_invalid'],
    ['a non-canonical last signature character', () => mint().replace(/.$/, (c) => ({ A: 'B', Q: 'R', g: 'h', w: 'x' })[c] ?? c), 'signature_invalid'],
    ['an expired token', () => mint({ now: T - 700_000 }), 'token_expired'],
    ['a token valid only in two minutes', () => mint({ now: T + 120_000 }), 'token_not_yet_valid'],
    ['another issuer', () => mint({ issuer: 'https://evil.example' }), 'issuer_invalid'],
    ['a token for another resource', () => mint({ resource: 'resource://hr-api' }), 'audience_mismatch'],
    [
      'zone A claims signed with the key of zone B',
      () => mintAccessToken({ key: { ...keyB.signing, zoneId: zoneA }, issuer, app, zoneId: zoneA, resource, scopes: ['x'], now: T }).token,
      'zone_mismatch',
    ],
    ['no jti', () => forgeToken(header, { ...claims, jti: undefined }, es256), 'claims_invalid'],
    ['an exp that is a string', () => forgeToken(header, { ...claims, exp: String(claims.exp) }, es256), 'claims_invalid'],
    ['two audiences', () => forgeToken(header, { ...claims, aud: [resource, 'resource://hr-api'] }, es256), 'claims_invalid'],
    ['no zone', () => forgeToken(header, { ...claims, zone: undefined }, es256), 'claims_invalid'],
  ];

  it('covers every reason', () => {
    expect(new Set(cases.map((c) => c[2]))).toEqual(new Set(reasons));
  });

  it.each(cases)('refuses %s as %s', (_name, make, reason) => {
    const token = make();
    const result = refusal(verifier().verify(token, resource));
    expect(result.reason).toBe(reason);
    expect(result.message.length).toBeGreaterThan(10);
    // A refusal never echoes the token (or its signature) back.
    const signature = token?.split('.')[2];
    if (signature !== undefined && signature.length > 8) expect(result.message).not.toContain(signature);
  });
});

/**
 * Only a value that is not a JWT at all is marked `notJwt` (the Gateway hands those, and only
 * those, to identify plugins): a JWT refused as malformed for any other reason stays Caracal's.
 */
describe('createTokenVerifier: values that are not JWTs at all', () => {
  const [h, p, s] = mint().split('.') as [string, string, string];
  const notJwts: ReadonlyArray<readonly [string, string]> = [
    ['a raw API key', 'sk_live_0123456789abcdef'],
    ['two parts', `${h}.${p}`],
    ['four parts', `${h}.${p}.${s}.AAAA`],
    ['parts that are not base64url', `${h}.+${p}.${s}`],
    ['a first part that is not JSON', `bm90IGpzb24.${p}.${s}`],
    ['a first part that is a JSON array', forgeToken([1, 2], claims, es256)],
  ];
  it.each(notJwts)('marks %s as not a JWT', (_name, raw) => {
    expect(refusal(verifier().verify(raw, resource))).toMatchObject({ reason: 'token_malformed', notJwt: true });
  });

  const malformedJwts: ReadonlyArray<readonly [string, () => string, VerifyFailureReason]> = [
    ['a critical header extension', () => forgeToken({ ...header, crit: ['exp'] }, claims, es256), 'token_malformed'],
    ['a payload that is not JSON', () => `${h}.bm90IGpzb24.${s}`, 'token_malformed'],
    ['a forged signature', () => tamperPayload(mint()), 'signature_invalid'],
    ['an unknown kid', () => forgeToken({ ...header, kid: 'key_01JUNKNOWN00000000000000000' }, claims, es256), 'kid_unknown'],
  ];
  it.each(malformedJwts)('does not mark a JWT refused for %s', (_name, make, reason) => {
    const result = refusal(verifier().verify(make(), resource));
    expect(result.reason).toBe(reason);
    expect(result).not.toHaveProperty('notJwt');
  });

  it('does not mark a token whose verification failed unexpectedly (fail closed)', () => {
    const v = verifier({
      keys: () => {
        throw new Error('key store gone');
      },
    });
    const result = refusal(v.verify(mint(), resource));
    expect(result.reason).toBe('token_malformed');
    expect(result).not.toHaveProperty('notJwt');
  });
});

describe('createTokenVerifier: the kid of a kid_unknown refusal', () => {
  it('names the kid the header names, so a caller can look for that key', () => {
    const kid = 'key_01JUNKNOWN00000000000000000';
    expect(refusal(verifier().verify(forgeToken({ ...header, kid }, claims, es256), resource))).toMatchObject({ reason: 'kid_unknown', kid });
  });

  it('names none when the header names none (no key could ever verify it)', () => {
    const result = refusal(verifier().verify(forgeToken({ alg: 'ES256', typ: 'at+jwt' }, claims, es256), resource));
    expect(result.reason).toBe('kid_unknown');
    expect(result).not.toHaveProperty('kid');
  });

  it('names the kid of a cached token whose key is no longer trusted', () => {
    const keys = new Map(trusted);
    const v = verifier({ keys: () => keys });
    const token = mint();
    expect(v.verify(token, resource).ok).toBe(true);
    keys.delete(keyA.signing.kid);
    expect(refusal(v.verify(token, resource))).toMatchObject({ reason: 'kid_unknown', kid: keyA.signing.kid });
  });
});

describe('createTokenVerifier: the authentic claims of a refused token', () => {
  it.each([
    ['an expired token', () => mint({ now: T - 700_000 }), 'token_expired'],
    ['a token valid only in two minutes', () => mint({ now: T + 120_000 }), 'token_not_yet_valid'],
    ['a token for another resource', () => mint({ resource: 'resource://hr-api' }), 'audience_mismatch'],
  ] as const)('carries them for %s (%s): zone, app, jti, scopes', (_name, make, reason) => {
    const result = verifier().verify(make(), resource);
    if (result.ok) throw new Error('expected a refusal');
    expect(result.reason).toBe(reason);
    expect(result.authentic?.claims).toMatchObject({ zone: zoneA, sub: app, iss: issuer });
    expect(result.authentic?.claims.jti).toMatch(/\S/);
    expect(result.authentic?.scopes).toEqual(['billing:read']);
  });

  it('carries nothing for a token refused before its signature and claims checked out', () => {
    const refusedEarly: ReadonlyArray<readonly [() => string, VerifyFailureReason]> = [
      [() => tamperPayload(mint()), 'signature_invalid'],
      [() => forgeToken(header, claims, { kind: 'es256', key: foreign.signing.privateKey }), 'signature_invalid'],
      [() => forgeToken({ ...header, kid: 'key_01JUNKNOWN00000000000000000' }, claims, es256), 'kid_unknown'],
      [() => forgeToken({ ...header, alg: 'none' }, claims, { kind: 'none' }), 'alg_not_allowed'],
      [() => mint({ issuer: 'https://evil.example' }), 'issuer_invalid'],
      [() => mintAccessToken({ key: { ...keyB.signing, zoneId: zoneA }, issuer, app, zoneId: zoneA, resource, scopes: ['x'], now: T }).token, 'zone_mismatch'],
    ];
    for (const [make, reason] of refusedEarly) {
      const result = verifier().verify(make(), resource);
      if (result.ok) throw new Error('expected a refusal');
      expect(result.reason).toBe(reason);
      expect(result.authentic).toBeUndefined();
    }
  });

  it('carries them on a cache hit too (another audience, then expiry)', () => {
    const clock = { now: T };
    const v = verifier({ clock });
    const token = mint({ ttlSeconds: 60 });
    const accepted = v.verify(token, resource);
    const other = v.verify(token, 'resource://hr-api');
    if (other.ok) throw new Error('expected a refusal');
    expect(other.authentic).toBe(accepted);
    clock.now = T + 90_000;
    const late = v.verify(token, resource);
    if (late.ok) throw new Error('expected a refusal');
    expect(late.reason).toBe('token_expired');
    expect(late.authentic).toBe(accepted);
  });
});

describe('createTokenVerifier: what it accepts', () => {
  it.each([
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['typ application/at+jwt (RFC 9068 §4)', { typ: 'application/at+jwt' }],
    ['typ in upper case', { typ: 'AT+JWT' }],
  ])('accepts %s', (_name, change) => {
    const result = verifier().verify(forgeToken({ ...header, ...change }, claims, es256), resource);
    expect(result.ok).toBe(true);
  });

  it('accepts a token expired less than the clock skew ago, and refuses it once past', () => {
    const token = mint({ now: T - 610_000 }); // exp = T - 10 s
    expect(verifier({ clockSkewSeconds: 30 }).verify(token, resource).ok).toBe(true);
    expect(refusal(verifier({ clockSkewSeconds: 5 }).verify(token, resource)).reason).toBe('token_expired');
  });

  it('accepts a token whose nbf is within the clock skew ahead', () => {
    expect(verifier().verify(mint({ now: T + 20_000 }), resource).ok).toBe(true);
  });

  it('accepts a one-element aud array, as RFC 9068 allows', () => {
    const result = verifier().verify(forgeToken(header, { ...claims, aud: [resource] }, es256), resource);
    expect(result.ok && result.claims.aud).toBe(resource);
  });

  it('returns only the known claims, frozen, with the scopes split', () => {
    const result = verifier().verify(forgeToken(header, { ...claims, scope: 'a b', extra: 'x' }, es256), resource);
    if (!result.ok) throw new Error(result.message);
    expect(result.claims).toEqual({ ...claims, scope: 'a b' });
    expect(result.scopes).toEqual(['a', 'b']);
    expect(Object.isFrozen(result.claims)).toBe(true);
  });

  it('uses a KeyObject as well as a JWK', () => {
    const keys = new Map([[keyA.signing.kid, { zoneId: zoneA, publicKey: keyA.publicKey }]]);
    expect(verifier({ keys: () => keys }).verify(mint(), resource).ok).toBe(true);
  });

  it('refuses a trusted kid whose key is not EC P-256 (an RSA key cannot verify an ES256 token)', () => {
    const keys = new Map([[keyA.signing.kid, { zoneId: zoneA, publicKey: rsa.publicKey }]]);
    expect(refusal(verifier({ keys: () => keys }).verify(mint(), resource)).reason).toBe('signature_invalid');
  });
});

describe('createTokenVerifier: the verified-token cache', () => {
  it('answers a repeated token from the cache with the same claims', () => {
    const v = verifier();
    const token = mint();
    const first = v.verify(token, resource);
    const second = v.verify(token, resource);
    expect(first.ok).toBe(true);
    expect(second).toBe(first);
    expect(v.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('still checks the audience on a cache hit', () => {
    const v = verifier();
    const token = mint();
    expect(v.verify(token, resource).ok).toBe(true);
    expect(refusal(v.verify(token, 'resource://hr-api')).reason).toBe('audience_mismatch');
    expect(v.verify(token, resource).ok).toBe(true);
  });

  it('refuses a cached token once it has expired, and forgets it', () => {
    const clock = { now: T };
    const v = verifier({ clock });
    const token = mint({ ttlSeconds: 60 });
    expect(v.verify(token, resource).ok).toBe(true);
    clock.now = T + 89_000;
    expect(v.verify(token, resource).ok).toBe(true);
    clock.now = T + 90_000;
    expect(refusal(v.verify(token, resource)).reason).toBe('token_expired');
    expect(v.stats().size).toBe(0);
  });

  it('refuses a cached token whose key is no longer trusted', () => {
    const keys = new Map(trusted);
    const v = verifier({ keys: () => keys });
    const token = mint();
    expect(v.verify(token, resource).ok).toBe(true);
    keys.delete(keyA.signing.kid);
    expect(refusal(v.verify(token, resource)).reason).toBe('kid_unknown');
  });

  it('does not cache refusals or tokens that are not valid yet', () => {
    const v = verifier();
    v.verify(tamperPayload(mint()), resource);
    v.verify(mint({ now: T + 120_000 }), resource);
    expect(v.stats().size).toBe(0);
  });

  it('stays within cacheMax, dropping expired tokens first', () => {
    const clock = { now: T };
    const v = verifier({ clock, cacheMax: 3, clockSkewSeconds: 0 });
    const shortLived = mint({ ttlSeconds: 10 });
    const longLived = [1, 2].map(() => mint({ ttlSeconds: 600 }));
    for (const token of [shortLived, ...longLived]) expect(v.verify(token, resource).ok).toBe(true);
    clock.now = T + 20_000;
    const newest = mint({ now: clock.now });
    expect(v.verify(newest, resource).ok).toBe(true);
    expect(v.stats().size).toBe(3);
    // The long-lived ones survived the eviction: they are hits.
    for (const token of longLived) v.verify(token, resource);
    expect(v.stats().hits).toBe(2);
    for (let i = 0; i < 10; i++) v.verify(mint({ now: clock.now }), resource);
    expect(v.stats().size).toBe(3);
  });

  it('clear() empties the cache', () => {
    const v = verifier();
    v.verify(mint(), resource);
    v.clear();
    expect(v.stats().size).toBe(0);
  });
});

describe('createTokenVerifier: unknown kids', () => {
  const unknownKidToken = (i: number) => forgeToken({ ...header, kid: `key_unknown_${i}` }, claims, es256);

  it('asks for at most one key reload per second however many unknown kids arrive', () => {
    const clock = { now: T };
    const calls: string[] = [];
    const v = verifier({ clock, onUnknownKid: (kid) => calls.push(kid) });
    for (let i = 0; i < 100; i++) expect(refusal(v.verify(unknownKidToken(i), resource)).reason).toBe('kid_unknown');
    expect(calls).toEqual(['key_unknown_0']);
    clock.now += 999;
    v.verify(unknownKidToken(100), resource);
    expect(calls).toHaveLength(1);
    clock.now += 1;
    v.verify(unknownKidToken(101), resource);
    expect(calls).toEqual(['key_unknown_0', 'key_unknown_101']);
  });

  it('accepts the token once the reload made its key known', () => {
    const keys = new Map<string, VerificationKey>();
    const v = verifier({ keys: () => keys, onUnknownKid: () => keys.set(keyA.signing.kid, keyA.verification) });
    const token = mint();
    expect(refusal(v.verify(token, resource)).reason).toBe('kid_unknown');
    expect(v.verify(token, resource).ok).toBe(true);
  });

  it('keeps the verdict when the reload callback throws', () => {
    const v = verifier({
      onUnknownKid: () => {
        throw new Error('store down');
      },
    });
    expect(refusal(v.verify(unknownKidToken(1), resource)).reason).toBe('kid_unknown');
  });
});

describe('createTokenVerifier: properties', () => {
  const v = verifier();

  function expectRefusal(result: VerifyResult): void {
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(reasons).toContain(result.reason);
      expect(typeof result.message).toBe('string');
    }
  }

  it('never throws on arbitrary strings and always gives a reason', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 5000 }), (raw) => {
        expectRefusal(v.verify(raw, resource));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary dot-separated base64url parts', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9_-]{0,120}$/);
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        expectRefusal(v.verify(parts.join('.'), resource));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON headers and payloads', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.boolean(), (h, p, sign) => {
        const token = sign
          ? forgeToken(h as object, p as object, es256)
          : `${Buffer.from(JSON.stringify(h) ?? '').toString('base64url')}.${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.`;
        expectRefusal(v.verify(token, resource));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every one-character change to a valid token', () => {
    const token = mint();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), (at, char) => {
        fc.pre(token[at] !== char);
        const changed = token.slice(0, at) + char + token.slice(at + 1);
        expectRefusal(verifier().verify(changed, resource));
      }),
      { numRuns: 1000 },
    );
  });
});
