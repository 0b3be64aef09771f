import type { Zone } from '../core/domain/types.js';
import { allowedHostsOf, hostEntryOf, isHostAllowed } from '../core/net/allowed-hosts.js';
import type { Store } from '../core/store/store.js';
import { allPages } from '../core/store/all-pages.js';
import { inactiveMatcher, type PolicyMatcher } from '../core/policy/compile.js';
import type { PolicyService } from '../core/policy/policy-service.js';
import { ISSUER_SETTING } from '../core/token/claims.js';
import { loadVerificationKeys } from '../core/token/keys.js';
import { createRevocationSet } from '../core/token/revocations.js';
import { createTokenVerifier, type TokenVerifier, type VerificationKey } from '../core/token/verify.js';
import { OPEN_RULE, type Outbound, type OutboundRule } from './outbound.js';
import { createProviderCache, type ProviderEntry } from './provider-cache.js';
import type { RefusalReason } from './refusals.js';
import { upstreamTarget, type GatewayState, type RoutedResource, type UpstreamTarget } from './state.js';

export interface GatewayRuntime {
  /** The current snapshot. */
  state(): GatewayState;
  /** Rebuilds the snapshot from the store and swaps it in. */
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
  readonly resources: ReadonlyMap<string, RoutedResource>;
  readonly apps: ReadonlyMap<string, { readonly disabled: boolean }>;
  readonly matchers: ReadonlyMap<string, PolicyMatcher>;
  readonly zones: ReadonlyMap<string, Zone>;
  readonly providers: ReadonlyMap<string, ProviderEntry>;
}

/** Least time between two rebuilds asked for by tokens with an unknown kid (bounds store load under junk tokens). */
const MIN_REFRESH_INTERVAL_MS = 250;

const EMPTY: Snapshot = { builtAt: 0, issuer: '', keys: new Map(), resources: new Map(), apps: new Map(), matchers: new Map(), zones: new Map(), providers: new Map() };

export interface GatewayRuntimeOptions {
  readonly store: Store;
  readonly policy: PolicyService;
  /** Unseals provider credentials (the master key's `seal` subkey). */
  readonly sealKey: Buffer;
  /** The agents every resource forwards through, per outbound rule. */
  readonly outbound: Outbound;
  onError(error: unknown): void;
}

/**
 * Keeps the Gateway's in-memory view of the store current: resources, apps, active policy
 * matchers, verification keys, revocations, and providers with their unsealed credentials (a
 * rotation reaches the next request after the reload, without a restart). The store's watch (PRAGMA data_version or
 * LISTEN/NOTIFY) triggers a reload, so changes reach the Gateway within a second; an unknown `kid`
 * triggers one too (through `refresh`, throttled). The request path only ever reads a snapshot.
 */
export async function createGatewayRuntime(options: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const { store, policy, outbound } = options;
  const providerCache = createProviderCache(options.sealKey);
  let snapshot = EMPTY;
  let detail = 'loading keys and policies';
  const revocations = createRevocationSet();
  // An unknown kid is handled by the pipeline (one throttled `refresh`, then verify again), so the
  // verifier needs no reload callback of its own.
  const makeVerifier = (issuer: string) => createTokenVerifier({ issuer, keys: () => snapshot.keys });
  let current: TokenVerifier = makeVerifier('');
  let reloading: Promise<void> | undefined;
  let again = false;
  let lastReloadAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;

  async function build(): Promise<Snapshot> {
    const builtAt = Date.now();
    const issuer = (await store.getSetting(ISSUER_SETTING)) ?? '';
    const keys = await loadVerificationKeys(store);
    const resources = new Map<string, RoutedResource>();
    const apps = new Map<string, { disabled: boolean }>();
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
      for (const app of await allPages((o) => store.listApps(zone.id, o))) apps.set(app.id, { disabled: app.disabled });
      matchers.set(zone.id, await policy.loadActiveMatcher(zone.id));
    }
    const providers = providerCache.load(allProviders);
    for (const target of targets) resources.set(resourceKey(target.zoneId, target.id), routeTarget(target, { zones, providers }, outbound));
    revocations.load(await store.listRevocations(new Date().toISOString()));
    return { builtAt, issuer, keys, resources, apps, matchers, zones, providers };
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
          const next = await build();
          if (next.issuer !== snapshot.issuer) {
            // The verifier's issuer is fixed at creation: a new issuer means a fresh verifier (and cache).
            current = makeVerifier(next.issuer);
          } else if ([...snapshot.keys.keys()].some((kid) => !next.keys.has(kid))) {
            current.clear(); // a key was withdrawn: cached tokens it signed must be checked again
          }
          snapshot = next;
          detail = next.issuer === '' ? 'the control plane has not started yet (no issuer in the store)' : 'ready';
        } catch (error) {
          detail = `cannot load state from the store: ${(error as Error).message}`;
          options.onError(error);
        }
      } while (again);
    })().finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  function refresh(): Promise<void> {
    if (refreshing !== undefined) return refreshing;
    const wait = Math.max(0, lastReloadAt + MIN_REFRESH_INTERVAL_MS - Date.now());
    refreshing = new Promise<void>((resolve) => setTimeout(resolve, wait))
      .then(() => {
        refreshing = undefined;
        return reload();
      });
    return refreshing;
  }

  const state: GatewayState = {
    get ready() {
      return detail === 'ready';
    },
    get detail() {
      return detail;
    },
    get loadedAt() {
      return snapshot.builtAt;
    },
    verify: (raw, resourceId) => current.verify(raw, resourceId),
    refresh,
    standing(token): RefusalReason | null {
      const claims = token.claims;
      const found = revocations.find(claims);
      if (found !== undefined) return found.kind === 'app' ? 'app_revoked' : 'token_revoked';
      const app = snapshot.apps.get(claims.sub);
      if (app === undefined) return 'app_unknown';
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
  const unwatch = store.watch(() => void reload());
  // Until the control plane has written the issuer (a fresh home, both started at once), keep
  // looking: settings are not configuration changes, so the store's watch does not report them.
  const untilReady = setInterval(() => {
    if (detail === 'ready') clearInterval(untilReady);
    else void reload();
  }, 250);
  untilReady.unref();
  return {
    state: () => state,
    reload,
    get verifier() {
      return current;
    },
    stop() {
      clearInterval(untilReady);
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
