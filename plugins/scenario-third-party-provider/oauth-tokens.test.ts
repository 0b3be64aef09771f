import { describe, expect, it } from 'vitest';
import type { OutboundFetch, OutboundRequest, UpstreamProvider } from '../../core/plugin/hooks.js';
import { createTokenCache } from './oauth-tokens.js';

/**
 * The OAuth token cache on a controlled clock (the end-to-end tests in
 * test/gateway-provider.test.ts run it against a real token endpoint): when it refreshes, who
 * waits, what a rotation drops, and how each token endpoint failure becomes a Gateway refusal.
 */

const provider = (revision = 'r1', config: Record<string, unknown> = {}): UpstreamProvider => ({
  id: 'prv_1',
  zoneId: 'zn_1',
  name: 'llm',
  kind: 'oauth2-client-credentials',
  revision,
  config: { token_url: 'https://auth.example.com/token', client_id: 'cid', scopes: [], auth_method: 'client_secret_basic', ...config },
  credentials: { client_secret: 'the-secret' },
});

/** A token endpoint as a function: answers each request with the next reply, counting requests. */
function endpoint(reply: (n: number, request: OutboundRequest) => { status: number; body: string } | Error) {
  const requests: OutboundRequest[] = [];
  const fetch: OutboundFetch = async (_url, request) => {
    requests.push(request);
    await Promise.resolve();
    const r = reply(requests.length, request);
    if (r instanceof Error) throw r;
    return { status: r.status, headers: {}, text: () => Promise.resolve(r.body) };
  };
  return { fetch, requests };
}

const ok = (n: number, expiresIn: unknown = 100) => ({ status: 200, body: JSON.stringify({ access_token: `tok-${n}`, token_type: 'bearer', expires_in: expiresIn }) });

describe('the token cache', () => {
  it('makes one token request for concurrent callers and reuses the token until the refresh point', async () => {
    let now = 0;
    const cache = createTokenCache(() => now);
    const { fetch, requests } = endpoint((n) => ok(n));
    const got = await Promise.all(Array.from({ length: 20 }, async () => cache.token(provider(), fetch)));
    expect(new Set(got)).toEqual(new Set(['tok-1']));
    now = 79_999; // 100 s life, margin 20 s: refresh from 80 s
    expect(await cache.token(provider(), fetch)).toBe('tok-1');
    expect(requests).toHaveLength(1);
  });

  it('in the margin, starts one refresh and serves the current token meanwhile; past half the margin, callers wait', async () => {
    let now = 0;
    const cache = createTokenCache(() => now);
    const { fetch, requests } = endpoint((n) => ok(n));
    await cache.token(provider(), fetch);
    now = 85_000;
    const during = await Promise.all(Array.from({ length: 10 }, async () => cache.token(provider(), fetch)));
    expect(new Set(during)).toEqual(new Set(['tok-1']));
    expect(requests).toHaveLength(2);
    await new Promise(setImmediate); // let the background refresh land
    expect(await cache.token(provider(), fetch)).toBe('tok-2');
    now = 85_000 + 91_000; // past 90 % of the second token's life (usable until 90 s after it was fetched)
    const waited = await Promise.all([cache.token(provider(), fetch), cache.token(provider(), fetch)]);
    expect(waited).toEqual(['tok-3', 'tok-3']);
    expect(requests).toHaveLength(3);
  });

  it('drops the cached token when the provider revision changes (a rotation)', async () => {
    const cache = createTokenCache(() => 0);
    const { fetch, requests } = endpoint((n) => ok(n));
    expect(await cache.token(provider('r1'), fetch)).toBe('tok-1');
    expect(await cache.token(provider('r2'), fetch)).toBe('tok-2');
    expect(requests).toHaveLength(2);
  });

  it('sends client_secret_basic form-encoded, or client_secret_post in the body, with scopes and audience', async () => {
    const cache = createTokenCache(() => 0);
    const { fetch, requests } = endpoint((n) => ok(n));
    await cache.token(provider('b', { client_id: 'a b', scopes: ['x', 'y'], audience: 'aud' }), fetch);
    expect(requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('a+b:the-secret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(requests[0]?.body))).toEqual({ grant_type: 'client_credentials', scope: 'x y', audience: 'aud' });
    await cache.token(provider('p', { auth_method: 'client_secret_post' }), fetch);
    expect(requests[1]?.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(requests[1]?.body))).toEqual({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'the-secret' });
  });

  it.each([
    ['a refused client', 'provider_token_refused', { status: 401, body: '{"error":"invalid_client","error_description":"the-secret is wrong"}' }, 'refused the client credentials with 401 (invalid_client)'],
    ['a server error', 'provider_token_unavailable', { status: 503, body: 'down' }, 'answered 503 (a server error)'],
    ['a redirect', 'provider_token_unavailable', { status: 302, body: '' }, 'answered 302 (a redirect, which the Gateway does not follow)'],
    ['no access_token', 'provider_token_unavailable', { status: 200, body: '{"token_type":"bearer"}' }, 'answered 200 without a bearer access_token'],
    ['another token type', 'provider_token_unavailable', { status: 200, body: '{"access_token":"t","token_type":"mac"}' }, 'without a bearer access_token'],
    ['a token that cannot go in a header', 'provider_token_unavailable', { status: 200, body: '{"access_token":"a b\\r\\nx: y"}' }, 'without a bearer access_token'],
    ['a connection failure', 'provider_token_unavailable', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'could not be reached (ECONNREFUSED)'],
  ] as const)('turns %s into %s, naming no secret', async (_name, refusal, reply, words) => {
    const cache = createTokenCache(() => 0);
    const { fetch } = endpoint(() => reply);
    const error = (await Promise.resolve(cache.token(provider(), fetch)).catch((e: unknown) => e)) as Error & { refusal: string };
    expect(error.refusal).toBe(refusal);
    expect(error.message).toContain(`the token endpoint https://auth.example.com of provider llm`);
    expect(error.message).toContain(words);
    expect(error.message).not.toContain('the-secret');
  });

  it('tries again after a failure (no failure is cached)', async () => {
    const cache = createTokenCache(() => 0);
    const { fetch, requests } = endpoint((n) => (n === 1 ? { status: 503, body: '' } : ok(n)));
    await expect(Promise.resolve(cache.token(provider(), fetch))).rejects.toMatchObject({ refusal: 'provider_token_unavailable' });
    expect(await cache.token(provider(), fetch)).toBe('tok-2');
    expect(requests).toHaveLength(2);
  });

  it('uses 300 s when expires_in is absent', async () => {
    let now = 0;
    const cache = createTokenCache(() => now);
    const { fetch, requests } = endpoint((n) => ({ status: 200, body: JSON.stringify({ access_token: `tok-${n}` }) }));
    await cache.token(provider(), fetch);
    now = 239_000; // refresh from 240 s (margin 60 s)
    await cache.token(provider(), fetch);
    expect(requests).toHaveLength(1);
  });
});
