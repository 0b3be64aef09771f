import type { Zone } from '../core/domain/types.js';
import { allowedHostsOf, hostEntryOf, isHostAllowed } from '../core/net/allowed-hosts.js';
import type { Store } from '../core/store/store.js';
import { allPages } from '../core/store/all-pages.js';
import { inactiveMatcher, type PolicyMatcher } from '../core/policy/compile.js';
import type { PolicyService } from '../core/policy/policy-service.js';
import type { CaracalError } from '../core/errors.js';
import { ISSUER_SETTING } from '../core/token/claims.js';
import { loadVerificationKeys } from '../core/token/keys.js';
import { createRevocationSet } from '../core/token/revocations.js';
import { createTokenVerifier, type TokenVerifier, type VerificationKey } from '../core/token/verify.js';
import { OPEN_RULE, type Outbound, type OutboundRule } from './outbound.js';
import { createProviderCache, type ProviderEntry } from './provider-cache.js';
import type { RefusalReason } from './refusals.js';
import { upstreamTarget, type AppStanding, type GatewayState, type ReadinessChecks, type RoutedResource, type UpstreamTarget } from './state.js';

export interface GatewayRuntime {
  /** The current snapshot. */
  state(): GatewayState;
  /** Rebuilds the snapshot from the store and swaps it in; when that fails, the current one stays (and a retry is scheduled). */
  reload(): Promise<void>;
  readonly verifier: TokenVerifier;
  /** Stops watching the store. */
  stop(): void;
}

interface Snapshot {
  /** When its build started (ms since the epoch): everything committed before is in it. */
  readonly builtAt: number;
  readonly issuer: string;
  readonly keys: ReadonlyMap<string, VerificationKey>;
  /** Keys left out because their public half is unusable, by kid (the rest still verify). */
  readonly unusableKeys: ReadonlyMap<string, UnusableKey>;
  readonly resources: ReadonlyMap<string, RoutedResource>;
  readonly apps: ReadonlyMap<string, AppStanding>;
  readonly matchers: ReadonlyMap<string, PolicyMatcher>;
  readonly zones: ReadonlyMap<string, Zone>;
  readonly providers: ReadonlyMap<string, ProviderEntry>;
}

interface UnusableKey {
  readonly zoneId: string;
  readonly error: CaracalError;
}

/**
 * Least time between two rebuilds asked for by a token refused for an app, resource or policy the
 * snapshot may not have seen yet, and between two key checks asked for by unknown kids (bounds
 * store load under junk tokens).
 */
const MIN_REFRESH_INTERVAL_MS = 250;
/** How many kids a key check found missing are remembered (the oldest is forgotten first). */
const MAX_UNKNOWN_KIDS = 1000;
/** How often a Gateway without an issuer looks again (the store's watch does not report settings). */
const ISSUER_POLL_MS = 250;
/** The first and the longest wait before retrying a failed reload (doubling in between). */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

const EMPTY: Snapshot = {
  builtAt: 0,
  issuer: '',
  keys: new Map(),
  unusableKeys: new Map(),
  resources: new Map(),
  apps: new Map(),
  matchers: new Map(),
  zones: new Map(),
  providers: new Map(),
};

export interface GatewayRuntimeOptions {
  readonly store: Store;
  readonly policy: PolicyService;
  /** Unseals provider credentials (the master key's `seal` subkey). */
  readonly sealKey: Buffer;
  /** The agents every resource forwards through, per outbound rule. */
  readonly outbound: Outbound;
  /** Hears a failed reload or key check, and each signing key left out as unusable (once). */
  onError(error: unknown): void;
}

/**
 * Keeps the Gateway's in-memory view of the store current: resources, apps, active policy
 * matchers, verification keys, revocations, and providers with their unsealed credentials (a
 * rotation reaches the next request after the reload, without a restart). The store's watch (PRAGMA data_version or
 * LISTEN/NOTIFY) triggers a reload, so changes reach the Gateway within a second. The request
 * path only ever reads a snapshot.
 *
 * - A reload that fails keeps the last good snapshot: the Gateway stays ready and serves from it,
 *   says so in readyz, reports the error through `onError`, and retries on a timer (250 ms
 *   doubling to 5 s) until a reload succeeds. Before the first good load it is not ready.
 * - A signing key whose public half is unusable is left out, reported once through `onError`
 *   and shown in readyz; every other key, of every zone, still verifies.
 * - A token naming an unknown `kid` (`refresh(kid)`, with the kid the verifier's refusal names)
 *   asks for one key check: every such token within 250 ms shares one read of the signing keys; a
 *   kid found there brings a full rebuild, a kid not found is remembered (up to 1,000) and answered
 *   at once, without touching the store, until the store's watch reports a change. A kid is only ever missing until its key is
 *   committed, and a token is minted after that, so remembering cannot hide a real key.
 */
export async function createGatewayRuntime(options: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const { store, policy, outbound } = options;
  const providerCache = createProviderCache(options.sealKey);
  let snapshot = EMPTY;
  /** Whether a snapshot was ever built: before that, nothing is served. */
  let loaded = false;
  let ready = false;
  /** Why the last reload failed, or null when it succeeded. */
  let failure: string | null = null;
  let failures = 0;
  const revocations = createRevocationSet();
  // An unknown kid is handled by the pipeline (one `refresh`, then verify again), so the
  // verifier needs no reload callback of its own.
  const makeVerifier = (issuer: string) => createTokenVerifier({ issuer, keys: () => snapshot.keys });
  let current: TokenVerifier = makeVerifier('');
  let reloading: Promise<void> | undefined;
  let again = false;
  let lastReloadAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Kids a key check did not find since the last reported store change, oldest first. */
  const unknownKids = new Set<string>();
  /** Kids waiting for the next key check, and that check. */
  let pendingKids = new Set<string>();
  let keyCheck: Promise<void> | undefined;
  let lastKeyCheckAt = Number.NEGATIVE_INFINITY;

  async function build(): Promise<Snapshot> {
    const builtAt = Date.now();
    const issuer = (await store.getSetting(ISSUER_SETTING)) ?? '';
    const unusableKeys = new Map<string, UnusableKey>();
    const keys = await loadVerificationKeys(store, builtAt, (key, error) => unusableKeys.set(key.kid, { zoneId: key.zoneId, error }));
    const resources = new Map<string, RoutedResource>();
    const apps = new Map<string, AppStanding>();
    const matchers = new Map<string, PolicyMatcher>();
    const zones = new Map<string, Zone>();
    const targets: UpstreamTarget[] = [];
    const allProviders = [];
    for (const zone of await allPages((o) => store.listZones(o))) {
      zones.set(zone.id, zone);
      for (const resource of await allPages((o) => store.listResources(zone.id, o))) {
        const target = upstreamTarget(resource.id, zone.id, resource.upstreamUrl, resource.providerId);
        if (target) targets.push(target);
      }
      allProviders.push(...(await allPages((o) => store.listProviders(zone.id, o))));
      for (const app of await allPages((o) => store.listApps(zone.id, o))) apps.set(app.id, { zoneId: zone.id, disabled: app.disabled });
      matchers.set(zone.id, await policy.loadActiveMatcher(zone.id));
    }
    const providers = providerCache.load(allProviders);
    for (const target of targets) resources.set(resourceKey(target.zoneId, target.id), routeTarget(target, { zones, providers }, outbound));
    revocations.load(await store.listRevocations(new Date().toISOString()));
    return { builtAt, issuer, keys, unusableKeys, resources, apps, matchers, zones, providers };
  }

  function swapIn(next: Snapshot): void {
    if (next.issuer !== snapshot.issuer) {
      // The verifier's issuer is fixed at creation: a new issuer means a fresh verifier (and cache).
      current = makeVerifier(next.issuer);
    } else if ([...snapshot.keys.keys()].some((kid) => !next.keys.has(kid))) {
      current.clear(); // a key was withdrawn: cached tokens it signed must be checked again
    }
    // Each unusable key is reported once, not at every reload.
    for (const [kid, unusable] of next.unusableKeys) if (!snapshot.unusableKeys.has(kid)) options.onError(unusable.error);
    snapshot = next;
    loaded = true;
  }

  async function reload(): Promise<void> {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      do {
        again = false;
        lastReloadAt = Date.now();
        try {
          swapIn(await build());
          failure = null;
          failures = 0;
        } catch (error) {
          // The last good snapshot (if any) stays: serving it beats refusing every request.
          failure = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
          failures += 1;
          options.onError(error);
        }
        ready = loaded && snapshot.issuer !== '';
      } while (again);
    })().finally(() => {
      reloading = undefined;
      retryLater();
    });
    return reloading;
  }

  /** Schedules the next reload while the last one failed, or while the store holds no issuer yet. */
  function retryLater(): void {
    if (failure === null && ready) {
      clearTimeout(retry);
      retry = undefined;
      return;
    }
    if (stopped || retry !== undefined) return;
    // Settings are not configuration changes, so the store's watch does not report the issuer the
    // control plane writes at its first start (a fresh home, both started at once): keep looking.
    const wait = failure === null ? ISSUER_POLL_MS : Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 5));
    retry = setTimeout(() => {
      retry = undefined;
      void reload();
    }, wait);
    retry.unref();
  }

  /** One rebuild for every caller within MIN_REFRESH_INTERVAL_MS, started after each of their calls. */
  function rebuildSoon(): Promise<void> {
    if (refreshing !== undefined) return refreshing;
    const wait = Math.max(0, lastReloadAt + MIN_REFRESH_INTERVAL_MS - Date.now());
    refreshing = new Promise<void>((resolve) => setTimeout(resolve, wait)).then(() => {
      refreshing = undefined;
      return reload();
    });
    return refreshing;
  }

  function refresh(kid?: string): Promise<void> {
    if (kid === undefined) return rebuildSoon();
    // A kid loaded meanwhile, or one the store did not have since its last change.
    if (snapshot.keys.has(kid) || unknownKids.has(kid)) return Promise.resolve();
    pendingKids.add(kid);
    if (keyCheck === undefined) {
      const wait = Math.max(0, lastKeyCheckAt + MIN_REFRESH_INTERVAL_MS - Date.now());
      keyCheck = new Promise<void>((resolve) => setTimeout(resolve, wait)).then(checkKeys);
    }
    return keyCheck;
  }

  /** Reads the signing keys once for every kid waiting: a full rebuild only when one of them is there. */
  async function checkKeys(): Promise<void> {
    const kids = pendingKids;
    pendingKids = new Set();
    keyCheck = undefined;
    lastKeyCheckAt = Date.now();
    let stored: ReadonlyMap<string, VerificationKey>;
    try {
      stored = await loadVerificationKeys(store);
    } catch (error) {
      options.onError(error);
      return;
    }
    if ([...kids].some((kid) => stored.has(kid))) return reload();
    for (const kid of kids) {
      if (unknownKids.size >= MAX_UNKNOWN_KIDS) {
        const oldest = unknownKids.values().next();
        if (oldest.done !== true) unknownKids.delete(oldest.value);
      }
      unknownKids.add(kid);
    }
  }

  function checks(): ReadinessChecks {
    if (!loaded) {
      const notYet = { ok: false, detail: 'not loaded yet' };
      return { store: { ok: false, detail: failure === null ? 'loading' : `cannot load state from the store: ${failure}; retrying` }, keys: notYet, policy: notYet };
    }
    const lastGood = `the last good load was ${secondsSince(snapshot.builtAt)} ago`;
    const zonesWithKeys = new Set([...snapshot.keys.values()].map((key) => key.zoneId)).size;
    const skipped = [...snapshot.unusableKeys.values()].map((unusable) => unusable.error.message);
    const keys =
      snapshot.issuer === ''
        ? { ok: false, detail: 'no issuer in the store: the control plane has not started yet' }
        : { ok: true, detail: `${plural(snapshot.keys.size, 'signing key')} for ${plural(zonesWithKeys, 'zone')}${skipped.length === 0 ? '' : `; skipped: ${skipped.join(' ')}`}` };
    const active = [...snapshot.matchers.values()].filter((matcher) => matcher.compiled !== null).length;
    return {
      store: failure === null ? { ok: true, detail: `the last reload succeeded; ${lastGood}` } : { ok: false, detail: `cannot reload state from the store: ${failure}; ${lastGood}; retrying` },
      keys,
      policy: { ok: true, detail: `${active} of ${plural(snapshot.zones.size, 'zone')} with an active policy set` },
    };
  }

  /** The one-line readyz detail (`caracal status` prints it): `ready` when nothing is wrong. */
  function summary(): string {
    if (!loaded) return failure === null ? 'loading keys and policies' : `cannot load state from the store: ${failure} (retrying)`;
    const notes: string[] = [];
    if (failure !== null) notes.push(`cannot reload state from the store: ${failure}; serving the snapshot loaded ${secondsSince(snapshot.builtAt)} ago (retrying)`);
    if (snapshot.unusableKeys.size > 0) {
      const zones = [...new Set([...snapshot.unusableKeys.values()].map((unusable) => unusable.zoneId))];
      notes.push(`${plural(snapshot.unusableKeys.size, 'unusable signing key')} skipped (zone ${zones.join(', ')})`);
    }
    const head = snapshot.issuer === '' ? 'the control plane has not started yet (no issuer in the store)' : 'ready';
    return [head, ...notes].join('; ');
  }

  const state: GatewayState = {
    get ready() {
      return ready;
    },
    get detail() {
      return summary();
    },
    get loadedAt() {
      return snapshot.builtAt;
    },
    checks,
    verify: (raw, resourceId) => current.verify(raw, resourceId),
    refresh,
    standing(claims): RefusalReason | null {
      const found = revocations.find(claims);
      if (found !== undefined) return found.kind === 'app' ? 'app_revoked' : 'token_revoked';
      const app = snapshot.apps.get(claims.sub);
      // An app is known only in its own zone: an identify plugin may pair any app with any zone
      // (one of another zone, or none at all), and that zone's policy must not decide for it.
      if (app === undefined || app.zoneId !== claims.zone) return 'app_unknown';
      return app.disabled ? 'app_disabled' : null;
    },
    resource: (zoneId, resourceId) => snapshot.resources.get(resourceKey(zoneId, resourceId)),
    resourceIds: (zoneId) => [...snapshot.resources.values()].filter((r) => r.zoneId === zoneId).map((r) => r.id),
    routeFromPlugin(found, zoneId) {
      const target = upstreamTarget(found.resourceId, zoneId, found.upstreamUrl, found.providerId);
      return target === undefined ? undefined : routeTarget(target, snapshot, outbound);
    },
    matcher: (zoneId) => snapshot.matchers.get(zoneId) ?? inactiveMatcher,
  };

  await reload();
  const unwatch = store.watch(() => {
    unknownKids.clear();
    void reload();
  });
  return {
    state: () => state,
    reload,
    get verifier() {
      return current;
    },
    stop() {
      stopped = true;
      clearTimeout(retry);
      unwatch();
    },
  };
}

/**
 * Attaches the provider and the outbound rules to a target: resources without a provider, and
 * every resource of an evaluation zone, may reach loopback and private addresses; a resource with
 * a provider in a production zone only those the zone lists (DESIGN.md §3). A provider of another
 * zone is refused: a zone is a trust boundary, and a `route` plugin may name any provider ID.
 */
export function routeTarget(target: UpstreamTarget, parts: Pick<Snapshot, 'zones' | 'providers'>, outbound: Outbound): RoutedResource {
  const { zones, providers } = parts;
  const entry = target.providerId === null ? undefined : providers.get(target.providerId);
  const zone = zones.get(target.zoneId);
  const rule: OutboundRule = target.providerId !== null && zone?.kind === 'production' ? { privateHosts: zone.allowedPrivateHosts } : OPEN_RULE;
  const base = { ...target, dispatcher: outbound.agentFor(rule), fetch: outbound.fetchFor(rule) };
  if (target.providerId === null) return { ...base, provider: null, refusal: null };
  if (entry === undefined) {
    return { ...base, provider: null, refusal: { reason: 'provider_unavailable', message: `the provider ${target.providerId} of resource ${target.id} does not exist` } };
  }
  if (!entry.ok) return { ...base, provider: null, refusal: { reason: 'provider_unavailable', message: entry.message } };
  if (entry.provider.zoneId !== target.zoneId) {
    // The caller learns only that the route is unusable, nothing about the other zone's provider.
    return { ...base, provider: null, refusal: { reason: 'provider_unavailable', message: `the route to ${target.id} names a provider outside this zone` } };
  }
  const allowed = allowedHostsOf(entry.provider.config);
  const url = new URL(target.upstreamUrl);
  if (!isHostAllowed(allowed, url)) {
    const message = `the upstream host ${hostEntryOf(url)} of resource ${target.id} is not an allowed host of provider ${entry.provider.name} (allowed: ${allowed.join(', ')})`;
    return { ...base, provider: null, refusal: { reason: 'host_not_allowed', message } };
  }
  return { ...base, provider: entry.provider, refusal: null };
}

function resourceKey(zoneId: string, resourceId: string): string {
  return `${zoneId}\n${resourceId}`;
}

function secondsSince(at: number): string {
  return `${Math.max(0, Math.round((Date.now() - at) / 1000))} s`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
