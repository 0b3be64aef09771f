import type { Dispatcher } from 'undici';
import type { OutboundFetch, Route, UpstreamProvider } from '../core/plugin/hooks.js';
import type { PolicyMatcher } from '../core/policy/compile.js';
import type { AccessTokenClaims } from '../core/token/claims.js';
import type { RevocableClaims } from '../core/token/revocations.js';
import type { VerifyResult } from '../core/token/verify.js';
import type { RefusalReason } from './refusals.js';

/** Where a resource forwards to: the upstream split once into origin and base path. */
export interface UpstreamTarget {
  readonly id: string;
  readonly zoneId: string;
  readonly upstreamUrl: string;
  readonly origin: string;
  readonly basePath: string;
  readonly providerId: string | null;
}

/** A resource ready to forward to, with its provider and the outbound rules that apply to it. */
export interface RoutedResource extends UpstreamTarget {
  /** The provider whose credential `prepareUpstream` injects, or null (none, or unusable: see `refusal`). */
  readonly provider: UpstreamProvider | null;
  /** Set when the resource cannot be served as configured (provider gone or unusable, host not allowed). */
  readonly refusal: { readonly reason: RefusalReason; readonly message: string } | null;
  /** The keep-alive agent whose connect-time address rules apply (gateway/outbound.ts). */
  readonly dispatcher: Dispatcher;
  /** The same rules for a provider's own endpoints (the OAuth token endpoint). */
  readonly fetch: OutboundFetch;
}

/** One part of the Gateway's readiness, as `/_caracal/readyz` shows it. */
export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/** The parts of readiness the snapshot answers for (the server adds the audit sinks). */
export interface ReadinessChecks {
  /** The last reload succeeded (otherwise its error, and the age of the snapshot still served). */
  readonly store: ReadinessCheck;
  /** The issuer is known and the zones' keys are loaded (unusable ones skipped and named). */
  readonly keys: ReadinessCheck;
  /** The zones' compiled policy matchers are loaded. */
  readonly policy: ReadinessCheck;
}

/**
 * What the pipeline reads per request: one immutable snapshot, swapped whole when the store
 * changes (runtime.ts), so a request never sees half an update and never awaits storage.
 */
export interface GatewayState {
  /** Whether requests are decided: a snapshot is loaded and names the issuer (an older one while reloads fail). */
  readonly ready: boolean;
  /** Why the Gateway is (not) ready, in one line, for `/_caracal/readyz` (exactly `ready` when all is well). */
  readonly detail: string;
  /** The parts of readiness, for `/_caracal/readyz`; computed per call, never on the request path. */
  checks(): ReadinessChecks;
  /** When the build of the current snapshot started (ms since the epoch). */
  readonly loadedAt: number;
  /** Verifies a raw bearer token for a resource (core/token/verify.ts: cached, synchronous). */
  verify(raw: string, resourceId: string): VerifyResult;
  /**
   * Without a kid: resolves once the snapshot was rebuilt from the store after this call, so an
   * app, resource or policy created a moment ago is known; at most one rebuild per 250 ms however
   * many callers ask. With the kid of a `kid_unknown` refusal (the verifier names it): resolves
   * once that signing key is loaded, or found missing from the store; a kid already found missing
   * since the store last changed resolves at once, without touching the store (runtime.ts).
   */
  refresh(kid?: string): Promise<void>;
  /**
   * Whether a caller (a verified token's claims, or a plugin identity's) may still be used: revoked,
   * app revoked or disabled, or `app_unknown` when its app is gone or is not an app of its zone.
   */
  standing(caller: StandingClaims): RefusalReason | null;
  resource(zoneId: string, resourceId: string): RoutedResource | undefined;
  /** The IDs of a zone's resources; a scan, so only for "did you mean" on a refusal (never on the allowed path). */
  resourceIds(zoneId: string): string[];
  /** Turns a plugin's route, in the token's zone, into a forwardable one (undefined when its URL is unusable). */
  routeFromPlugin(route: Route, zoneId: string): RoutedResource | undefined;
  /** The zone's compiled active policy set (denies everything when none is active). */
  matcher(zoneId: string): PolicyMatcher;
}

/** What the standing check reads of a caller: its app and zone, and what a revocation matches. */
export type StandingClaims = RevocableClaims & Pick<AccessTokenClaims, 'sub' | 'zone'>;

/** What the standing check knows of an app: its zone (an app is known only there) and whether it is disabled. */
export interface AppStanding {
  readonly zoneId: string;
  readonly disabled: boolean;
}

/** Splits an upstream base URL into origin and base path (done once per resource, not per request). */
export function upstreamTarget(id: string, zoneId: string, upstreamUrl: string, providerId: string | null): UpstreamTarget | undefined {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return { id, zoneId, upstreamUrl, origin: url.origin, basePath: url.pathname, providerId };
}
