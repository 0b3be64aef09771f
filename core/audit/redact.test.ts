import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from './event.js';
import { REDACTED, redact, redactString } from './redact.js';

const JWT =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsxIn0.eyJzdWIiOiJhcHBfMDEiLCJhdWQiOiJyZXNvdXJjZTovL2JpbGxpbmcifQ.' +
  'MEUCIQDx3Jv7pXm_yN2c4k9QsaBq0hU1fZ5nWoLr8tY6eKd-3w';
// Built at run time so no committed line looks like a real client secret.
const CLIENT_SECRET = `cs_${'q8Zt3vKp0wLm6Yc2Rb9Xs4Ne7Hd1Jg5Fa8Uo3Ti0Pk'}`;

function input(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return { type: 'gateway.request', zone: 'zn_1', request_id: 'req_1', decision: 'allow', reason: 'ok', ...overrides };
}

describe('redactString', () => {
  it.each([
    ['a bare JWT', JWT, REDACTED],
    ['a JWT inside a message', `token ${JWT} expired`, `token ${REDACTED} expired`],
    ['a client secret', CLIENT_SECRET, REDACTED],
    ['a client secret inside a message', `secret=${CLIENT_SECRET}&x=1`, `secret=${REDACTED}&x=1`],
    ['a Bearer credential', `Bearer ${JWT}`, REDACTED],
    ['an opaque bearer token', 'bearer 9f8e7d6c5b4a39281706', REDACTED],
    ['a Basic credential', 'Basic YWxpY2U6czNjcjN0IXBhc3M=', REDACTED],
    ['a Basic credential in a header line', 'Authorization: Basic YWxpY2U6czNjcjN0', `Authorization: ${REDACTED}`],
  ])('masks %s', (_name, value, expected) => {
    expect(redactString(value)).toBe(expected);
  });

  it.each([
    ['an ordinary message', 'upstream answered 502'],
    ['prose about bearer tokens', 'missing bearer token'],
    ['a dotted host name', 'api.example.com'],
    ['a resource ID', 'resource://billing-api'],
    ['a request ID', 'req_01JB3X4Y5Z6A7B8C9D0E1F2G3H'],
    ['a short cs_ word', 'cs_short'],
    ['an empty string', ''],
  ])('leaves %s unchanged', (_name, value) => {
    expect(redactString(value)).toBe(value);
  });
});

describe('redact', () => {
  it.each([
    'secret',
    'client_secret',
    'password',
    'db_password',
    'token',
    'refresh_token',
    'Authorization',
    'cookie',
    'Set-Cookie',
    'credentials',
    'apiKey',
    'api_key',
    'x-api-key',
    'private_key',
  ])('replaces the value under a detail key named %s, whatever it is', (key) => {
    const out = redact(input({ detail: { [key]: { nested: 'anything' }, kept: 'visible' } }));
    expect(out.detail).toEqual({ [key]: REDACTED, kept: 'visible' });
  });

  it('walks nested objects and arrays in detail', () => {
    const detail = {
      headers: [{ name: 'x', value: `Bearer ${JWT}` }, { authorization: 'whatever' }],
      upstream: { config: { clientSecret: 'hunter2', url: 'https://example.com/a' } },
      note: `failed with ${CLIENT_SECRET}`,
      count: 3,
    };
    expect(redact(input({ detail })).detail).toEqual({
      headers: [{ name: 'x', value: REDACTED }, { authorization: REDACTED }],
      upstream: { config: { clientSecret: REDACTED, url: 'https://example.com/a' } },
      note: `failed with ${REDACTED}`,
      count: 3,
    });
  });

  it('keeps null values under secret keys (nothing to hide, and the absence is useful)', () => {
    expect(redact(input({ detail: { token: null } })).detail).toEqual({ token: null });
  });

  it('masks secrets in the free-text fields a client controls', () => {
    const out = redact(
      input({
        request_id: JWT,
        app: CLIENT_SECRET,
        resource: `Bearer ${JWT}`,
        reason: `bad ${JWT}`,
        scopes: ['read', CLIENT_SECRET],
        http: { method: 'GET', path: `/v1/${JWT}`, status: 200, upstream_status: 200, latency_ms: 1 },
      }),
    );
    expect(out).toMatchObject({
      request_id: REDACTED,
      app: REDACTED,
      resource: REDACTED,
      reason: `bad ${REDACTED}`,
      scopes: ['read', REDACTED],
      http: { method: 'GET', path: `/v1/${REDACTED}`, status: 200 },
    });
  });

  it('returns the very same object when nothing is secret (no allocation on the hot path)', () => {
    const clean = input({ detail: { a: 1, b: ['x', { c: 'y' }] }, scopes: ['read'] });
    expect(redact(clean)).toBe(clean);
  });

  it('masks a secret in any one free-text field, and nothing for a look-alike spread over two', () => {
    for (const field of ['request_id', 'app', 'resource', 'reason'] as const) {
      expect(redact(input({ [field]: `x ${JWT}` }))[field]).toBe(`x ${REDACTED}`);
    }
    expect(redact(input({ scopes: ['read', CLIENT_SECRET] })).scopes).toEqual(['read', REDACTED]);
    expect(redact(input({ http: { method: 'GET', path: `/v1/${JWT}`, status: 200, upstream_status: 200, latency_ms: 1 } })).http?.path).toBe(`/v1/${REDACTED}`);
    // "bearer" ending one field and a long word starting the next match only when joined.
    const spread = input({ reason: 'missing bearer', http: { method: 'GET', path: 'abcdefghijkl', status: 200, upstream_status: 200, latency_ms: 1 }, scopes: ['bearer', 'abcdefghijkl'] });
    expect(redact(spread)).toBe(spread);
  });

  it('never mutates its input', () => {
    const detail = { password: 'p', nested: { token: 't' } };
    const original = input({ detail, scopes: [CLIENT_SECRET] });
    redact(original);
    expect(detail).toEqual({ password: 'p', nested: { token: 't' } });
    expect(original.scopes).toEqual([CLIENT_SECRET]);
  });

  it('cuts off cyclic or absurdly deep detail instead of looping', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const out = redact(input({ detail: cyclic }));
    expect(JSON.stringify(out.detail)).toContain('[truncated]');
  });
});
