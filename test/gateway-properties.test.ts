import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type RecordedRequest, type Upstream } from './support/upstream.js';

/**
 * Open-ended input against the running Gateway: arbitrary paths, header sets and token strings.
 * Never a crash, never a 5xx caused by input (the upstream is healthy), never a Caracal credential
 * forwarded (the upstream records everything it gets).
 */

const RUNS = 100;

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack();
  seeded = await stack.seedInternalApi({ upstreamUrl: `${upstream.url}/base`, scopes: ['billing:read'] });
  token = await stack.mint(seeded);
});

afterAll(async () => {
  // Still alive after everything: the process never crashed.
  const health = await fetch(`${stack.gatewayUrl}/_caracal/healthz`);
  expect(health.status).toBe(200);
  await stack?.stop();
  await upstream?.close();
});

/** No forwarded request may carry a credential of Caracal's. */
function expectNoCredential(requests: readonly RecordedRequest[]): void {
  for (const request of requests) {
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      const name = (request.rawHeaders[i] as string).toLowerCase();
      expect(name).not.toBe('authorization');
      expect(name.startsWith('x-caracal-')).toBe(false);
      expect(request.rawHeaders[i + 1]).not.toContain(token);
    }
    expect(request.url).not.toContain(token);
  }
}

/** A path segment of characters a client can send: letters, digits, punctuation, dots and escapes. */
const segment = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', 'Z', '0', '-', '_', '~', '.', '..', '%2e', '%2E', '%2f', '%5c', '%00', '%41', '%C3%A9', '%C3', '%a0', '%', '%zz', ';', ',', '=', '@', ':', '!', '$', '*', '+', "'", '(', ')', '\\'),
      fc.stringMatching(/^[A-Za-z0-9]{1,6}$/),
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(''));
const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._~-]{0,20}$/), { nil: undefined });
const pathArb = fc.tuple(fc.array(segment, { minLength: 0, maxLength: 6 }), query).map(([segments, q]) => `/${segments.join('/')}${q === undefined ? '' : `?${q}`}`);

/** Whether a reference reading of the path has a dot segment, an encoded one, an encoded separator or a malformed escape. */
function isRefusedPath(path: string): boolean {
  const p = path.split('?')[0] as string;
  if (p.includes('\\') || /%(2e|2f|5c|00)/i.test(p) || /%(?![0-9a-f]{2})/i.test(p)) return true;
  try {
    decodeURIComponent(p);
  } catch {
    return true;
  }
  return p.split('/').some((s) => s === '.' || s === '..');
}

describe('the Gateway under arbitrary input', () => {
  it('answers every path with 200 (forwarded as sent) or a 400 refusal, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, async (path) => {
        const before = upstream.requests.length;
        const reply = await send(`${stack.gatewayUrl}${path}`, { headers: stack.gatewayHeaders(seeded, token) });
        expect(reply.status).toBeLessThan(500);
        if (isRefusedPath(path)) {
          expect(reply.status).toBe(400);
          expect(reply.json?.reason).toBe('path_invalid');
          expect(upstream.requests.length).toBe(before);
        } else {
          expect(reply.status).toBe(200);
          expect(upstream.requests.at(-1)?.url).toBe(`/base${path}`);
        }
      }),
      { numRuns: RUNS },
    );
    expectNoCredential(upstream.requests);
  });

  const headerName = fc.tuple(
    fc.constantFrom('', 'x-', 'X-Caracal-', 'x-caracal-', 'X-Forwarded-', 'x-forwarded-', 'Proxy-', 'X-Real-', 'Forwarded', 'Keep-Alive', 'TE', 'Authorization', 'AUTHORIZATION'),
    fc.stringMatching(/^[A-Za-z0-9!#$&'*+.^_`|~-]{0,12}$/),
  ).map(([prefix, rest]) => prefix + rest);
  const RESERVED = new Set(['', 'host', 'content-length', 'transfer-encoding', 'expect', 'connection', 'upgrade', 'trailer', 'authorization', 'x-caracal-resource']);
  const headerSet = fc.array(fc.tuple(headerName, fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/)), { maxLength: 12 });

  it('forwards any header set without a Caracal credential, hop-by-hop or forwarding header of the client', async () => {
    await fc.assert(
      fc.asyncProperty(headerSet, async (extra) => {
        const flat: string[] = ['Host', new URL(stack.gatewayUrl).host, 'Authorization', `Bearer ${token}`, 'X-Caracal-Resource', seeded.resourceId];
        const sent = extra.filter(([name]) => !RESERVED.has(name.toLowerCase()));
        for (const [name, value] of sent) flat.push(name, value);
        const before = upstream.requests.length;
        const reply = await send(`${stack.gatewayUrl}/v1/h`, { headers: flat });
        expect(reply.status).toBe(200);
        const seen = upstream.requests[before] as RecordedRequest;
        const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        for (const name of names) {
          expect(name === 'forwarded' || name === 'x-real-ip' || name === 'te' || name === 'keep-alive' || name.startsWith('proxy-')).toBe(false);
        }
        // Forwarding headers are the Gateway's own, one of each.
        expect(names.filter((n) => n.startsWith('x-forwarded-')).sort()).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
        expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
        // What is left of the client's own headers arrives unchanged.
        for (const [name, value] of sent) {
          const lower = name.toLowerCase();
          if (lower.startsWith('x-caracal-') || lower.startsWith('x-forwarded-') || lower.startsWith('proxy-') || ['forwarded', 'x-real-ip', 'te', 'keep-alive', 'x-request-id'].includes(lower)) continue;
          expect(seen.rawHeaders).toContain(value);
        }
      }),
      { numRuns: RUNS },
    );
    expectNoCredential(upstream.requests);
  });

  const tokenArb = fc.oneof(
    fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
    fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((parts) => parts.join('.').replace(/=/g, '')),
    fc.tuple(fc.nat({ max: 10_000 }), fc.constantFrom('A', '_', '-', '.', 'x')).map(([at, ch]) => {
      const i = at % token.length;
      const mutated = token.slice(0, i) + ch + token.slice(i + 1);
      return mutated === token ? `${token}x` : mutated;
    }),
  );

  it('refuses any other token string with a 401 that never echoes it', async () => {
    await fc.assert(
      fc.asyncProperty(tokenArb, async (candidate) => {
        const before = upstream.requests.length;
        const reply = await send(`${stack.gatewayUrl}/v1/t`, { headers: { authorization: `Bearer ${candidate}`, 'x-caracal-resource': seeded.resourceId } });
        expect(reply.status).toBe(401);
        expect(reply.json?.error).toBe('invalid_token');
        if (candidate.trim().length > 3) expect(reply.body.toString()).not.toContain(candidate.trim());
        expect(upstream.requests.length).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });
});
