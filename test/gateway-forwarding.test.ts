import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type RecordedRequest, type Upstream } from './support/upstream.js';

/**
 * What an allowed call looks like on the other side (DESIGN.md §5): the upstream (a real node:http
 * server) gets the method, path, query, body and the client's own headers, and none of the
 * Caracal credentials, hop-by-hop or spoofed forwarding headers.
 */

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;
let gatewayHost: string;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack();
  gatewayHost = new URL(stack.gatewayUrl).host;
  seeded = await stack.seedInternalApi({ upstreamUrl: `${upstream.url}/api`, scopes: ['billing:read', 'billing:write'] });
  token = await stack.mint(seeded);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

beforeEach(() => upstream.reset());

function lastRequest(): RecordedRequest {
  expect(upstream.requests).toHaveLength(1);
  return upstream.requests[0] as RecordedRequest;
}

/** Every header name the upstream received, lower-cased. */
function namesOf(request: RecordedRequest): string[] {
  return request.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

describe('an allowed call', () => {
  it('reaches the upstream on the first call after the zone key was created (no kid_unknown race)', async () => {
    const reply = await send(`${stack.gatewayUrl}/v1/x?a=1`, { headers: stack.gatewayHeaders(seeded, token) });
    expect(reply.status, reply.body.toString()).toBe(200);
    expect(lastRequest().url).toBe('/api/v1/x?a=1');
  });

  it.each(['GET', 'DELETE', 'OPTIONS', 'HEAD'])('forwards %s with the path and query as sent, joined to the upstream base path', async (method) => {
    const reply = await send(`${stack.gatewayUrl}/v1/invoices/42;v=2/%C3%A9t%C3%A9?status=open&q=a%20b&q=c&empty=`, {
      method,
      headers: stack.gatewayHeaders(seeded, token),
    });
    expect(reply.status).toBe(200);
    const seen = lastRequest();
    expect(seen.method).toBe(method);
    expect(seen.url).toBe('/api/v1/invoices/42;v=2/%C3%A9t%C3%A9?status=open&q=a%20b&q=c&empty=');
  });

  it.each(['POST', 'PUT', 'PATCH'])('forwards a %s body byte for byte (Content-Length)', async (method) => {
    const body = randomBytes(256 * 1024);
    const reply = await send(`${stack.gatewayUrl}/v1/upload`, {
      method,
      headers: { ...stack.gatewayHeaders(seeded, token), 'content-type': 'application/octet-stream' },
      body,
    });
    expect(reply.status).toBe(200);
    const seen = lastRequest();
    expect(seen.method).toBe(method);
    expect(seen.headers['content-type']).toBe('application/octet-stream');
    expect(seen.headers['content-length']).toBe(String(body.length));
    expect(seen.body.equals(body)).toBe(true);
  });

  it('forwards a chunked body byte for byte', async () => {
    const parts = [randomBytes(1000), randomBytes(70_000), randomBytes(5)];
    const reply = await send(`${stack.gatewayUrl}/v1/upload`, {
      method: 'POST',
      headers: stack.gatewayHeaders(seeded, token),
      body: Readable.from(parts),
    });
    expect(reply.status).toBe(200);
    expect(lastRequest().body.equals(Buffer.concat(parts))).toBe(true);
  });

  it('passes the client headers through and strips credentials, hop-by-hop and spoofed forwarding headers', async () => {
    const reply = await send(`${stack.gatewayUrl}/v1/x`, {
      headers: [
        // A flat header list makes node:http send exactly these, so Host must be given.
        'Host', gatewayHost,
        'Authorization', `Bearer ${token}`,
        'X-Caracal-Resource', seeded.resourceId,
        'X-Caracal-Debug', '1',
        'x-caracal-anything', 'secret-ish',
        'Accept', 'application/json',
        'X-Custom', 'one',
        'X-Custom', 'two',
        'User-Agent', 'agent/1.0',
        'Connection', 'keep-alive, X-Drop-Me',
        'X-Drop-Me', 'named in Connection',
        'Keep-Alive', 'timeout=5',
        'TE', 'trailers',
        'Upgrade', 'websocket',
        'Proxy-Authorization', 'Basic c2VjcmV0',
        'Proxy-Connection', 'keep-alive',
        'Forwarded', 'for=6.6.6.6;proto=https',
        'X-Forwarded-For', '6.6.6.6',
        'X-Forwarded-Proto', 'https',
        'X-Forwarded-Host', 'evil.example',
        'X-Forwarded-Port', '443',
        'X-Real-IP', '6.6.6.6',
      ],
    });
    expect(reply.status, reply.body.toString()).toBe(200);
    const seen = lastRequest();
    const names = namesOf(seen);
    // undici sets its own `connection: keep-alive` for the upstream hop; the client's never travels.
    expect(seen.headers.connection ?? 'keep-alive').toBe('keep-alive');
    for (const banned of ['authorization', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'proxy-connection', 'forwarded', 'x-real-ip', 'x-drop-me', 'x-forwarded-port']) {
      expect(names, banned).not.toContain(banned);
    }
    expect(names.filter((n) => n.startsWith('x-caracal-'))).toEqual([]);
    expect(JSON.stringify(seen.rawHeaders)).not.toContain(token);
    expect(JSON.stringify(seen.rawHeaders)).not.toContain('6.6.6.6');
    expect(JSON.stringify(seen.rawHeaders)).not.toContain('evil.example');
    // Set fresh, once each.
    expect(names.filter((n) => n === 'x-forwarded-for')).toHaveLength(1);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(gatewayHost);
    // The client's own headers arrive, repeated ones in order.
    expect(seen.headers.accept).toBe('application/json');
    expect(seen.headers['user-agent']).toBe('agent/1.0');
    expect(seen.headers['x-custom']).toBe('one, two');
    // Host is the upstream's, not the Gateway's.
    expect(seen.headers.host).toBe(`127.0.0.1:${upstream.port}`);
  });

  it('keeps a printable X-Request-Id and sends it up and down; replaces an unprintable one', async () => {
    const kept = await send(`${stack.gatewayUrl}/v1/x`, { headers: { ...stack.gatewayHeaders(seeded, token), 'x-request-id': 'trace-abc_123' } });
    expect(kept.headers['x-request-id']).toBe('trace-abc_123');
    expect(upstream.requests[0]?.headers['x-request-id']).toBe('trace-abc_123');
    const replaced = await send(`${stack.gatewayUrl}/v1/x`, { headers: { ...stack.gatewayHeaders(seeded, token), 'x-request-id': 'has space' } });
    expect(replaced.headers['x-request-id']).toMatch(/^req_[0-9A-Za-z]+$/);
    expect(upstream.requests[1]?.headers['x-request-id']).toBe(replaced.headers['x-request-id']);
  });

  it('returns the upstream response headers without hop-by-hop ones, and the Gateway request ID', async () => {
    upstream.setHandler((_req, res) => {
      res.writeHead(201, [
        ['content-type', 'text/plain'],
        ['x-upstream', 'yes'],
        ['connection', 'x-upstream-private'],
        ['x-upstream-private', 'hop'],
        ['x-request-id', 'upstream-made-this-up'],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ].flat());
      res.end('created');
    });
    try {
      const reply = await send(`${stack.gatewayUrl}/v1/x`, { method: 'POST', headers: { ...stack.gatewayHeaders(seeded, token), 'x-request-id': 'mine-1' } });
      expect(reply.status).toBe(201);
      expect(reply.body.toString()).toBe('created');
      expect(reply.headers['x-upstream']).toBe('yes');
      expect(reply.headers['x-upstream-private']).toBeUndefined();
      expect(reply.headers['x-request-id']).toBe('mine-1');
      expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    } finally {
      upstream.setHandler((_req, res) => res.end('{}'));
    }
  });

  it('passes a redirect back to the client and never follows it', async () => {
    upstream.setHandler((req, res) => {
      if (req.url === '/api/v1/old') {
        res.writeHead(302, { location: '/api/v1/new' });
        res.end();
      } else res.end('followed!');
    });
    const reply = await send(`${stack.gatewayUrl}/v1/old`, { headers: stack.gatewayHeaders(seeded, token) });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('/api/v1/new');
    expect(upstream.requests.map((r) => r.url)).toEqual(['/api/v1/old']);
  });

  it('accepts a bare resource slug in X-Caracal-Resource', async () => {
    const reply = await send(`${stack.gatewayUrl}/v1/x`, { headers: { authorization: `Bearer ${token}`, 'x-caracal-resource': 'billing-api' } });
    expect(reply.status).toBe(200);
    expect(upstream.hits()).toBe(1);
  });
});
