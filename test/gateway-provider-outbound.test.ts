import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbound, OPEN_RULE, type Outbound, type Resolver } from '../gateway/outbound.js';
import { startUpstream, type Upstream } from './support/upstream.js';

/**
 * Outbound safety at connect time (gateway/outbound.ts): the Gateway's real undici agents against
 * a real local upstream. DNS answers for names that would point at the cloud metadata endpoint,
 * link-local, multicast or unspecified addresses cannot be produced on this machine without a DNS
 * server, so a resolver plays them; everything from the lookup on (the guard, undici, the socket)
 * is the real thing. Address literals need no resolver and are refused before a socket exists.
 */

let upstream: Upstream;
let outbound: Outbound;

/** Plays a DNS server: each name resolves to the given addresses; anything else is ENOTFOUND. */
const zone: Record<string, readonly string[]> = {
  'metadata.test': ['169.254.169.254'],
  'metadata6.test': ['fd00:ec2::254'],
  'link-local.test': ['169.254.10.1'],
  'multicast.test': ['239.1.1.1'],
  'unspecified.test': ['0.0.0.0'],
  'loopback.test': ['127.0.0.1'],
  'mixed.test': ['169.254.169.254', '127.0.0.1'],
};
const resolver: Resolver = (hostname, _options, callback) => {
  const addresses = zone[hostname];
  if (addresses === undefined) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
};

beforeAll(async () => {
  upstream = await startUpstream();
  outbound = createOutbound(undefined, resolver);
});

afterAll(async () => {
  await outbound?.close();
  await upstream?.close();
});

/** One GET through the agent of a rule: the status, or the error code and message. */
async function get(origin: string, rule = OPEN_RULE): Promise<{ status?: number; code?: string; message?: string }> {
  try {
    const response = await outbound.agentFor(rule).request({ origin, path: '/probe', method: 'GET' });
    await response.body.dump();
    return { status: response.statusCode };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? '', message: (error as Error).message };
  }
}

describe('addresses the Gateway never connects to, whatever the zone', () => {
  it.each([
    ['metadata.test', '169.254.169.254', 'cloud metadata'],
    ['metadata6.test', 'fd00:ec2::254', 'cloud metadata'],
    ['link-local.test', '169.254.10.1', 'link-local'],
    ['multicast.test', '239.1.1.1', 'multicast'],
    ['unspecified.test', '0.0.0.0', 'unspecified'],
  ])('refuses %s (resolving to %s) at connect time', async (name, address, words) => {
    const hits = upstream.hits();
    const result = await get(`http://${name}:${upstream.port}`);
    expect(result).toMatchObject({ code: 'CRC_ADDRESS_REFUSED' });
    expect(result.message).toBe(`the Gateway refused to connect to ${name}, which resolves to ${address}, a ${words} address, which Caracal never connects to`);
    expect(upstream.hits()).toBe(hits);
  });

  it.each([
    ['http://169.254.169.254', 'cloud metadata'],
    ['http://[fd00:ec2::254]', 'cloud metadata'],
    ['http://0.0.0.0', 'unspecified'],
    ['http://[::]', 'unspecified'],
    ['http://[fe80::1]', 'link-local'],
    ['http://[ff02::1]', 'multicast'],
    ['http://[::ffff:169.254.169.254]', 'cloud metadata'],
  ])('refuses the literal %s before any socket exists', async (origin, words) => {
    const result = await get(`${origin}:${upstream.port}`);
    expect(result.code).toBe('CRC_ADDRESS_REFUSED');
    expect(result.message).toContain(`a ${words} address, which Caracal never connects to`);
  });

  it('connects to the admitted addresses of a name that also resolves to a refused one', async () => {
    expect(await get(`http://mixed.test:${upstream.port}`)).toEqual({ status: 200 });
  });
});

describe('loopback and private addresses follow the rule of the route', () => {
  it('allows them without a list (no provider, or an evaluation zone)', async () => {
    expect(await get(`http://loopback.test:${upstream.port}`)).toEqual({ status: 200 });
    expect(await get(upstream.url)).toEqual({ status: 200 });
  });

  it('with a production zone list, allows only listed names or CIDRs, on separate connection pools', async () => {
    expect(await get(`http://loopback.test:${upstream.port}`, { privateHosts: ['loopback.test'] })).toEqual({ status: 200 });
    expect(await get(`http://loopback.test:${upstream.port}`, { privateHosts: ['127.0.0.0/8'] })).toEqual({ status: 200 });
    // The open pool above holds a live connection to the same origin: it must not be reused here.
    const refused = await get(`http://loopback.test:${upstream.port}`, { privateHosts: ['10.0.0.0/8'] });
    expect(refused.code).toBe('CRC_ADDRESS_REFUSED');
    expect(refused.message).toContain('a loopback address, which this production zone allows for resources with a provider only when listed in allowed_private_hosts');
    expect((await get(upstream.url, { privateHosts: [] })).code).toBe('CRC_ADDRESS_REFUSED');
  });

  it('applies the same rules to a provider endpoint fetched through fetchFor', async () => {
    const fetch = outbound.fetchFor({ privateHosts: [] });
    await expect(fetch(`http://metadata.test:${upstream.port}/token`, { method: 'POST', headers: {} })).rejects.toMatchObject({ refusal: 'address_not_allowed' });
    await expect(fetch(`${upstream.url}/token`, { method: 'POST', headers: {} })).rejects.toMatchObject({ refusal: 'address_not_allowed' });
    const allowed = await outbound.fetchFor(OPEN_RULE)(`${upstream.url}/token`, { method: 'POST', headers: {}, body: 'x=1' });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(await allowed.text())).toMatchObject({ method: 'POST', url: '/token' });
  });
});
