import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newId } from '../core/domain/ids.js';
import type { Zone } from '../core/domain/types.js';
import type { UpstreamProvider } from '../core/plugin/hooks.js';
import { createPolicyService } from '../core/policy/policy-service.js';
import { openStore } from '../core/store/open-store.js';
import type { Store } from '../core/store/store.js';
import { ISSUER_SETTING } from '../core/token/claims.js';
import { createKeyManager, type KeyManager } from '../core/token/keys.js';
import { mintAccessToken } from '../core/token/mint.js';
import { createOutbound } from './outbound.js';
import type { ProviderEntry } from './provider-cache.js';
import { createGatewayRuntime, routeTarget, type GatewayRuntime } from './runtime.js';
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

/**
 * createGatewayRuntime over a real SQLite file, written through a second connection as the
 * control plane would. The Gateway's connection is wrapped to count calls per method and to make
 * the next calls of a method fail (a locked or unreachable store), then recover.
 */
const ISSUER = 'http://127.0.0.1:4700';
const RESOURCE = 'resource://billing-api';

interface Harness {
  readonly control: Store;
  readonly keys: KeyManager;
  readonly zoneId: string;
  readonly appId: string;
  readonly errors: unknown[];
  /** How often the Gateway's connection was asked `method` (`listZones`: once per rebuild). */
  calls(method: string): number;
  /** Makes the Gateway's next `times` calls of `method` fail. */
  failNext(method: string, times?: number): void;
  start(): Promise<GatewayRuntime>;
  mint(): Promise<string>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(options: { issuer?: boolean } = {}): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), 'caracal-runtime-'));
  const control = await openStore({ home });
  const own = await openStore({ home });
  cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => control.close(), () => own.close());
  const zoneId = (await control.createZone({ name: 'eval', kind: 'evaluation' })).id;
  const appId = (await control.createApp({ zoneId, name: 'agent', secretHash: 'test:not-a-secret' })).id;
  await control.createResource({ zoneId, id: RESOURCE, scopes: ['billing:read'], upstreamUrl: 'http://127.0.0.1:9/v1' });
  if (options.issuer !== false) await control.setSetting(ISSUER_SETTING, ISSUER);
  const keys = createKeyManager({ store: control, sealKey: randomBytes(32) });
  await keys.activeKey(zoneId);
  const calls = new Map<string, number>();
  const faults = new Map<string, number>();
  const store = new Proxy(own, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]): unknown => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const left = faults.get(name) ?? 0;
        if (left > 0) {
          faults.set(name, left - 1);
          return Promise.reject(new Error(`${name}: database is locked`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const errors: unknown[] = [];
  return {
    control,
    keys,
    zoneId,
    appId,
    errors,
    calls: (method) => calls.get(method) ?? 0,
    failNext: (method, times = 1) => faults.set(method, times),
    async start() {
      const runtime = await createGatewayRuntime({ store, policy: createPolicyService(store), sealKey: randomBytes(32), outbound, onError: (error) => errors.push(error) });
      cleanups.push(() => runtime.stop());
      return runtime;
    },
    async mint() {
      return mintAccessToken({ key: await keys.activeKey(zoneId), issuer: ISSUER, app: appId, zoneId, resource: RESOURCE, scopes: ['billing:read'] }).token;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A token whose header names `kid` (or no kid); the rest never gets looked at. */
function tokenNaming(kid: string | undefined): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'at+jwt', ...(kid === undefined ? {} : { kid }) })}.${part({})}.${'A'.repeat(86)}`;
}

describe('createGatewayRuntime: reloads that fail', () => {
  it('keeps serving the last good snapshot when a reload fails, says so, and retries until one succeeds', async () => {
    const h = await harness();
    const runtime = await h.start();
    const token = await h.mint();
    const state = runtime.state();
    expect(state.ready).toBe(true);
    expect(state.detail).toBe('ready');
    const loadedAt = state.loadedAt;

    h.failNext('listZones');
    const builds = h.calls('listZones');
    await runtime.reload();
    expect(state.ready).toBe(true);
    expect(state.detail).toMatch(/^ready; cannot reload state from the store: listZones: database is locked; serving the snapshot loaded \d+ s ago \(retrying\)$/);
    expect(state.checks().store).toEqual({ ok: false, detail: expect.stringMatching(/^cannot reload state from the store: listZones: database is locked; the last good load was \d+ s ago; retrying$/) as unknown });
    expect(state.checks().keys.ok).toBe(true);
    expect(state.checks().policy.ok).toBe(true);
    expect(h.errors).toEqual([expect.objectContaining({ message: 'listZones: database is locked' })]);
    // The old snapshot still decides requests.
    expect(state.loadedAt).toBe(loadedAt);
    expect(state.verify(token, RESOURCE).ok).toBe(true);
    expect(state.resource(h.zoneId, RESOURCE)?.upstreamUrl).toBe('http://127.0.0.1:9/v1');

    // Nothing changes in the store, so only the retry timer can bring the next reload.
    await until('a retried reload', () => state.detail === 'ready', 2000);
    expect(h.calls('listZones')).toBeGreaterThanOrEqual(builds + 2);
    expect(state.loadedAt).toBeGreaterThan(loadedAt);
    expect(state.checks().store).toEqual({ ok: true, detail: expect.stringMatching(/^the last reload succeeded; the last good load was \d+ s ago$/) as unknown });
    expect(h.errors).toHaveLength(1);
  });

  it('is not ready before its first good load, and keeps retrying until the store answers', async () => {
    const h = await harness();
    h.failNext('getSetting', 2);
    const runtime = await h.start();
    const state = runtime.state();
    expect(state.ready).toBe(false);
    expect(state.detail).toBe('cannot load state from the store: getSetting: database is locked (retrying)');
    expect(state.checks()).toEqual({
      store: { ok: false, detail: 'cannot load state from the store: getSetting: database is locked; retrying' },
      keys: { ok: false, detail: 'not loaded yet' },
      policy: { ok: false, detail: 'not loaded yet' },
    });
    // Two failures, then the retries (250 ms, then 500 ms) reach the store.
    await until('the first good load', () => state.ready);
    expect(state.detail).toBe('ready');
    expect(h.errors).toHaveLength(2);
    expect(state.verify(await h.mint(), RESOURCE).ok).toBe(true);
  });

  it('is not ready while the store holds no issuer, and is once the control plane writes one', async () => {
    const h = await harness({ issuer: false });
    const runtime = await h.start();
    const state = runtime.state();
    expect(state.ready).toBe(false);
    expect(state.detail).toBe('the control plane has not started yet (no issuer in the store)');
    expect(state.checks().keys).toEqual({ ok: false, detail: 'no issuer in the store: the control plane has not started yet' });
    expect(state.checks().store.ok).toBe(true);
    expect(state.checks().policy).toEqual({ ok: true, detail: '0 of 1 zone with an active policy set' });
    // Settings are not reported by the store's watch: the runtime keeps looking on its own.
    await h.control.setSetting(ISSUER_SETTING, ISSUER);
    await until('the issuer', () => state.ready, 1000);
    expect(state.detail).toBe('ready');
    expect(state.checks().keys).toEqual({ ok: true, detail: '1 signing key for 1 zone' });
  });
});

describe('createGatewayRuntime: an unusable signing key', () => {
  const good = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  it.each([
    ['has no x coordinate', { kty: 'EC', crv: 'P-256', y: good.y }],
    ['is not a point of the curve', { kty: 'EC', crv: 'P-256', x: good.y, y: good.x }],
    ['is an RSA key', { kty: 'RSA', n: 'AQAB', e: 'AQAB' }],
  ])('is skipped, reported once and shown, while the other zones keep their keys (a key that %s)', async (_what, publicJwk) => {
    const h = await harness();
    const other = (await h.control.createZone({ name: 'broken', kind: 'evaluation' })).id;
    const kid = newId('key');
    await h.control.createSigningKey({ kid, zoneId: other, alg: 'ES256', publicJwk, privateSealed: 'v1.never-opened', status: 'active', createdAt: new Date().toISOString(), retireAfter: null });
    const runtime = await h.start();
    const state = runtime.state();
    expect(state.ready).toBe(true);
    expect(state.detail).toBe(`ready; 1 unusable signing key skipped (zone ${other})`);
    expect(state.checks().keys).toEqual({ ok: true, detail: `1 signing key for 1 zone; skipped: Signing key ${kid} of zone ${other} has no valid EC P-256 public key.` });
    expect(h.errors).toEqual([expect.objectContaining({ code: 'CRC_STORE_CORRUPT', message: expect.stringContaining(kid) as unknown })]);
    expect(state.verify(await h.mint(), RESOURCE).ok).toBe(true);
    await runtime.reload();
    expect(h.errors).toHaveLength(1);
  });
});

describe('createGatewayRuntime: tokens naming an unknown kid', () => {
  /** What the pipeline does with such a token: verify (refused kid_unknown, naming the kid), then refresh with that kid. */
  const ask = (runtime: GatewayRuntime, token: string) => {
    const refused = runtime.state().verify(token, RESOURCE);
    if (refused.ok || refused.reason !== 'kid_unknown' || refused.kid === undefined) throw new Error(`expected kid_unknown naming a kid, got ${JSON.stringify(refused)}`);
    return runtime.state().refresh(refused.kid);
  };

  it('cost one key read per burst and no rebuild, then none at all until the store changes', async () => {
    const h = await harness();
    const runtime = await h.start();
    const builds = h.calls('listZones');
    const reads = h.calls('listSigningKeys');

    const junk = tokenNaming('key_01JUNK00000000000000000000');
    await Promise.all(Array.from({ length: 50 }, () => ask(runtime, junk)));
    expect(h.calls('listSigningKeys')).toBe(reads + 1);
    // Found missing: the next ones are answered without the store, however many arrive.
    for (let i = 0; i < 50; i++) await ask(runtime, junk);
    expect(h.calls('listSigningKeys')).toBe(reads + 1);

    const distinct = Array.from({ length: 50 }, (_, i) => tokenNaming(`key_junk_${i}`));
    await Promise.all(distinct.map((token) => ask(runtime, token)));
    expect(h.calls('listSigningKeys')).toBe(reads + 2);
    for (const token of distinct) await ask(runtime, token);
    expect(h.calls('listSigningKeys')).toBe(reads + 2);
    // A token naming no kid at all: no key could ever verify it, so its refusal names none to look for.
    expect(runtime.state().verify(tokenNaming(undefined), RESOURCE)).not.toHaveProperty('kid');
    expect(h.calls('listZones')).toBe(builds);
  });

  it('picks up a key created after the snapshot at once, and checks known-missing kids again after a store change', async () => {
    const h = await harness();
    const runtime = await h.start();
    const builds = h.calls('listZones');

    // A rotation on the control plane: the first token signed with the new key arrives before the
    // store's watch (250 ms) reports it, and is verified after one key check and one rebuild.
    await h.keys.rotate(h.zoneId);
    const token = await h.mint();
    await ask(runtime, token);
    expect(runtime.state().verify(token, RESOURCE).ok).toBe(true);
    expect(h.calls('listZones')).toBe(builds + 1);

    // Once a check found the junk kid missing (after the rotation's watch report), it costs nothing...
    const junk = tokenNaming('key_01JUNK00000000000000000000');
    const readsOf = async () => {
      const before = h.calls('listSigningKeys');
      await ask(runtime, junk);
      return h.calls('listSigningKeys') - before;
    };
    await until('the junk kid to be remembered', async () => (await readsOf()) === 0);
    // ...until the store reports a change: then it is looked up once more.
    await h.control.createZone({ name: 'later', kind: 'evaluation' });
    await until('the junk kid to be checked again', async () => (await readsOf()) === 1);
  });
});

describe('createGatewayRuntime: the standing of a caller', () => {
  /** What the standing check reads of a caller. */
  const caller = (sub: string, zone: string) => ({ sub, client_id: sub, zone, jti: 'plg_1', iat: 0 });

  it('knows an app only in its own zone: another zone, or one that does not exist, is app_unknown', async () => {
    const h = await harness();
    const other = (await h.control.createZone({ name: 'other', kind: 'evaluation' })).id;
    const stranger = (await h.control.createApp({ zoneId: other, name: 'stranger', secretHash: 'test:not-a-secret' })).id;
    const state = (await h.start()).state();
    expect(state.standing(caller(h.appId, h.zoneId))).toBeNull();
    expect(state.standing(caller(stranger, other))).toBeNull();
    expect(state.standing(caller(stranger, h.zoneId))).toBe('app_unknown');
    expect(state.standing(caller(h.appId, other))).toBe('app_unknown');
    expect(state.standing(caller(h.appId, 'zn_01NOWHERE000000000000000000'))).toBe('app_unknown');
    expect(state.standing(caller('app_01GHOST0000000000000000000', h.zoneId))).toBe('app_unknown');
  });
});
