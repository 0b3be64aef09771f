import { afterAll, describe, expect, it } from 'vitest';
import type { Zone } from '../core/domain/types.js';
import type { UpstreamProvider } from '../core/plugin/hooks.js';
import { createOutbound } from './outbound.js';
import type { ProviderEntry } from './provider-cache.js';
import { routeTarget } from './runtime.js';
import { upstreamTarget } from './state.js';

/**
 * routeTarget attaches a resource's provider (and its outbound rules). A zone is a trust boundary:
 * a route a plugin returns may name any provider ID, and one of another zone must not lend it
 * its credential.
 */
const outbound = createOutbound();
afterAll(() => outbound.close());

const zone = (id: string, kind: Zone['kind']): Zone => ({ id, name: id, kind, description: '', allowedPrivateHosts: [], createdAt: '', updatedAt: '' });
const provider = (id: string, zoneId: string): ProviderEntry => {
  const value: UpstreamProvider = { id, zoneId, name: `key-${zoneId}`, kind: 'api-key', revision: '1', config: { header: 'x-api-key', allowed_hosts: [] }, credentials: { api_key: `secret-of-${zoneId}` } };
  return { ok: true, provider: value };
};
const parts = {
  zones: new Map([
    ['zn_a', zone('zn_a', 'evaluation')],
    ['zn_b', zone('zn_b', 'production')],
  ]),
  providers: new Map([
    ['prv_a', provider('prv_a', 'zn_a')],
    ['prv_b', provider('prv_b', 'zn_b')],
  ]),
};

function route(zoneId: string, providerId: string) {
  const target = upstreamTarget('resource://api', zoneId, 'http://127.0.0.1:9/v1', providerId);
  if (target === undefined) throw new Error('bad target');
  return routeTarget(target, parts, outbound);
}

describe('routeTarget', () => {
  it('attaches a provider of the resource zone', () => {
    const routed = route('zn_a', 'prv_a');
    expect(routed.refusal).toBeNull();
    expect(routed.provider?.id).toBe('prv_a');
  });

  it('refuses a provider of another zone, without attaching it', () => {
    const routed = route('zn_a', 'prv_b');
    expect(routed.provider).toBeNull();
    expect(routed.refusal).toEqual({ reason: 'provider_unavailable', message: 'the route to resource://api names a provider outside this zone' });
  });

  it('refuses a provider that does not exist', () => {
    expect(route('zn_a', 'prv_none').refusal).toMatchObject({ reason: 'provider_unavailable', message: expect.stringContaining('does not exist') as unknown });
  });
});
