/**
 * The hooks a plugin may implement (DESIGN.md §9) and THE table that declares each hook's kind,
 * timeout and failure rule. Every call goes through `runHook` (hook-driver.ts), which reads this
 * table; call sites never decide how a hook combines or fails.
 *
 * Gateway stages, in their fixed order (DESIGN.md §5):
 *   receive → identify → route → authorize → prepare upstream → forward → respond → record
 * with the hooks `onReceive`, `identify`, `route`, `authorize`, `prepareUpstream`, `onResponse`,
 * `onRecord`. The kernel adds `setup` (after load) and `teardown` (at shutdown).
 *
 * Every hook receives its stage's context object and, last, a {@link HookContext} made by the
 * driver for that one plugin call (its name, the hook, and an AbortSignal that fires on timeout).
 */

import type { AuditEventInput } from '../audit/event.js';
import { isResourceId } from '../domain/ids.js';

/** Names of every hook. */
export type HookName = keyof Hooks;

/** What the driver hands each plugin call, besides the stage's context. */
export interface HookContext {
  /** The plugin being called. */
  readonly plugin: string;
  readonly hook: HookName;
  /** Aborted when the hook's timeout passes; pass it to fetch/undici so abandoned work stops. */
  readonly signal: AbortSignal;
}

/** Why the kernel is starting plugins: a check (`plugin add`/`list`), a CLI command, or a server. */
export type SetupMode = 'check' | 'cli' | 'serve';

/** Context of `setup`: runs once per process after plugins load. */
export interface SetupContext {
  /** CARACAL_HOME of this process. */
  readonly home: string;
  /** The plugin API version this Caracal provides (PLUGIN_API_VERSION). */
  readonly apiVersion: string;
  readonly mode: SetupMode;
}

/** Context of `teardown`: runs once at shutdown, plugins in reverse load order. */
export interface TeardownContext {
  readonly reason: 'shutdown' | 'error';
}

/**
 * The request as the Gateway received it, read-only. Header names are lower case; for observer
 * hooks (`onReceive`, `onResponse`) and `route` the Gateway leaves out `authorization` and, from
 * the moment an identify plugin named them (so not for `onReceive`), its `credentialHeaders`, so
 * only deciders see a credential.
 */
export interface GatewayRequest {
  readonly requestId: string;
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  /** The raw query string without `?` (empty when none). */
  readonly query: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly remoteAddress: string;
}

/** Who is calling: from a verified access token, or from an `identify` plugin. */
export interface Identity {
  readonly zoneId: string;
  readonly appId: string;
  readonly scopes: readonly string[];
  /** The resource the credential was issued for (a JWT's `aud`), when it names one. */
  readonly resourceId?: string;
  /** Token ID for audit and revocation, when the credential has one. */
  readonly jti?: string;
  /** Expiry (seconds since the epoch), when the credential has one. */
  readonly expiresAt?: number;
}

/**
 * What an `identify` plugin returns: the caller, the resource its credential is for (one resource
 * per credential), and which request headers carried the credential.
 */
export interface IdentifyResult extends Identity {
  readonly resourceId: string;
  /**
   * The request headers that carried the credential (`x-api-key`), at most 16 names: the Gateway
   * never forwards them upstream and leaves them out of what observers and `route` see.
   * `Authorization` needs no mention: it never travels upstream anyway.
   */
  readonly credentialHeaders?: readonly string[];
}

/** Context of `onReceive`: an observer that sees every request before anything is decided. */
export interface ReceiveContext {
  readonly request: GatewayRequest;
}

/** Context of `identify`: runs for credentials the Gateway's own JWT check does not recognise. */
export interface IdentifyContext {
  readonly request: GatewayRequest;
  /**
   * The `Authorization` header split into a lower-case scheme and its value (never log `value`).
   * A scheme is an RFC 9110 token of at most 20 characters followed by whitespace and a value;
   * anything else (a raw key as the whole header) is the value, with the scheme empty. Both are
   * empty without `Authorization`.
   */
  readonly credential: { readonly scheme: string; readonly value: string };
  /** The `X-Caracal-Resource` header, normalised, or null when absent. */
  readonly resourceId: string | null;
}

/** Context of `route`: runs when the store knows no resource under this ID. */
export interface RouteContext {
  readonly request: GatewayRequest;
  readonly identity: Identity;
  readonly resourceId: string;
}

/** Where a routed request goes. */
export interface Route {
  readonly resourceId: string;
  /** The upstream base URL; the request path and query are joined to it. */
  readonly upstreamUrl: string;
  readonly providerId: string | null;
}

/** A decision on one request: the policy's, or the combination with every `authorize` plugin. */
export interface AuthorizeDecision {
  readonly effect: 'allow' | 'deny';
  /** Stable reason code (`ok`, `no_matching_rule`, `plugin_deny`, `plugin_error`, `plugin_timeout`, …). */
  readonly reason: string;
  /** The plugin that denied, when one did. */
  readonly plugin?: string;
}

/** What one `authorize` plugin answers; `undefined` abstains. An `allow` never overrides a deny. */
export interface AuthorizeVerdict {
  readonly effect: 'allow' | 'deny';
  /** Why (shown in audit and explain); defaults to `plugin_deny` for a deny. */
  readonly reason?: string;
}

/** Context of `authorize`: runs after the policy engine; plugins may only narrow its decision. */
export interface AuthorizeContext {
  readonly request: GatewayRequest;
  readonly identity: Identity;
  readonly route: Route;
  /** The policy engine's decision. When it is a deny, no plugin is asked. */
  readonly policy: AuthorizeDecision;
}

/**
 * The provider of a route, as the Gateway loaded it (plugin API 1.1): its non-secret `config` and
 * its unsealed `credentials`, both in the shapes of core/control/routes/provider-config.ts. The
 * credentials live only in the Gateway's memory: never log them, never put them in an error.
 */
export interface UpstreamProvider {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly kind: string;
  /** Changes whenever the config or the credentials change (a rotation): key caches by it. */
  readonly revision: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly credentials: Readonly<Record<string, string>>;
}

/** A request to a provider's own endpoint (an OAuth token endpoint) through {@link OutboundFetch}. */
export interface OutboundRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/** Its answer; redirects are returned, never followed. */
export interface OutboundResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  text(): Promise<string>;
}

/**
 * Sends a request under the same outbound address rules as the route's upstream (link-local,
 * metadata, multicast and unspecified addresses never; loopback and private ones only where the
 * zone allows them), checked on the address it connects to. A refused address rejects with an
 * error that already carries `refusal: 'address_not_allowed'`.
 */
export type OutboundFetch = (url: string, request: OutboundRequest) => Promise<OutboundResponse>;

/**
 * The Gateway refusals a `prepareUpstream` plugin may choose (plugin API 1.1): throw an Error with
 * a `refusal` property naming one (see `upstreamRefusal` in types.ts); its message is shown to the
 * caller, so it must name no secret. Any other failure refuses with `provider_unavailable`.
 */
export const upstreamRefusalReasons = [
  'provider_unavailable',
  'provider_token_unavailable',
  'provider_token_refused',
  'host_not_allowed',
  'address_not_allowed',
] as const;

export type UpstreamRefusalReason = (typeof upstreamRefusalReasons)[number];

/**
 * Context of `prepareUpstream`: each plugin may edit the outgoing URL and headers in place. The
 * Gateway runs the hook for a route with a provider when a plugin contributes its kind
 * (`providers`), and for every route when some plugin implements it without contributing providers.
 */
export interface PrepareUpstreamContext {
  readonly request: GatewayRequest;
  readonly identity: Identity;
  readonly route: Route;
  /** The outgoing request, already stripped of Caracal and hop-by-hop headers (§5). */
  readonly upstream: { url: string; headers: Record<string, string> };
  /** The route's provider and its credentials, or null when the resource has none (plugin API 1.1). */
  readonly provider: UpstreamProvider | null;
  /** For a provider's own endpoints, under the route's outbound address rules (plugin API 1.1). */
  readonly fetch: OutboundFetch;
}

/** Context of `onResponse`: an observer that sees the outcome after the response was sent. */
export interface ResponseContext {
  readonly request: GatewayRequest;
  readonly identity: Identity | null;
  readonly resourceId: string | null;
  readonly status: number;
  readonly upstreamStatus: number | null;
  readonly latencyMs: number;
  readonly decision: 'allow' | 'deny' | 'error';
}

/** An audit event's `detail` (redacted after `onRecord`, before any sink sees it). */
export type AuditDetail = Readonly<Record<string, unknown>>;

/** Context of `onRecord`: the event about to be recorded (read-only). */
export interface RecordContext {
  readonly event: AuditEventInput;
}

/** Sync or async result of a hook. */
export type MaybePromise<T> = T | Promise<T>;

/** Every hook a plugin may implement; a plugin implements any subset (`Partial<Hooks>`). */
export interface Hooks {
  /** Kernel: prepares the plugin after load. A throw disables this plugin (fatal if required). */
  setup(ctx: SetupContext, hook: HookContext): MaybePromise<void>;
  /** Kernel: releases what setup took; runs in reverse order; failures are reported, not thrown. */
  teardown(ctx: TeardownContext, hook: HookContext): MaybePromise<void>;
  /** Observes every received request; cannot change or block it. */
  onReceive(ctx: ReceiveContext, hook: HookContext): MaybePromise<void>;
  /** Returns an identity for a credential the Gateway does not recognise, or undefined to pass. */
  identify(ctx: IdentifyContext, hook: HookContext): MaybePromise<IdentifyResult | undefined>;
  /** Returns a route for a resource the store does not know, or undefined to pass. */
  route(ctx: RouteContext, hook: HookContext): MaybePromise<Route | undefined>;
  /** May deny a request the policy allowed; can never allow one the policy denied. */
  authorize(ctx: AuthorizeContext, hook: HookContext): MaybePromise<AuthorizeVerdict | undefined>;
  /** Edits the outgoing request (e.g. injects a provider credential) in place. */
  prepareUpstream(ctx: PrepareUpstreamContext, hook: HookContext): MaybePromise<void>;
  /** Observes each response after it was sent. */
  onResponse(ctx: ResponseContext, hook: HookContext): MaybePromise<void>;
  /** Returns the event's next `detail` (usually `{ ...detail, more }`), or undefined to keep it. */
  onRecord(detail: AuditDetail, ctx: RecordContext, hook: HookContext): MaybePromise<AuditDetail | undefined>;
}

/**
 * How a hook's implementations combine:
 * - `sequential`: one after another in plugin order (or reverse), each awaited;
 * - `first-wins`: in order until one returns a value other than undefined;
 * - `deny-wins`: in order until one denies; starts from the policy decision and only narrows;
 * - `reduce`: threads the first argument through every plugin, each returning the next value;
 * - `parallel`: all at once; the call resolves when every one settled or timed out.
 */
export type HookKind = 'sequential' | 'first-wins' | 'deny-wins' | 'reduce' | 'parallel';

/**
 * What happens when an implementation throws or times out:
 * - `fail-closed`: the call fails (deny-wins: it denies) — for hooks that decide access;
 * - `isolate`: reported through onHookError and skipped (reduce: the previous value is kept);
 * - `abort`: reported, and the plugin is disabled for the rest of the process.
 */
export type HookFailure = 'fail-closed' | 'isolate' | 'abort';

/** The declaration of one hook. */
export interface HookSpec {
  readonly kind: HookKind;
  /** Per plugin call. */
  readonly timeoutMs: number;
  readonly failure: HookFailure;
  /** Plugin order; `reverse` for teardown so plugins stop in the opposite order they started. */
  readonly order?: 'reverse';
  /**
   * First-wins: what is wrong with an answer, in words that quote none of it, or undefined when
   * it is usable. An unusable answer is that plugin's failure (reported naming it, then the
   * failure rule applies), so a caller never gets one.
   */
  readonly check?: (answer: unknown) => string | undefined;
}

/** THE hook table: each hook's kind, timeout and failure rule, checked complete by the compiler. */
export const hookKinds = {
  setup: { kind: 'sequential', timeoutMs: 10_000, failure: 'abort' },
  teardown: { kind: 'sequential', timeoutMs: 5_000, failure: 'isolate', order: 'reverse' },
  onReceive: { kind: 'parallel', timeoutMs: 1_000, failure: 'isolate' },
  identify: { kind: 'first-wins', timeoutMs: 2_000, failure: 'fail-closed', check: identifyAnswerProblem },
  route: { kind: 'first-wins', timeoutMs: 1_000, failure: 'fail-closed' },
  authorize: { kind: 'deny-wins', timeoutMs: 1_000, failure: 'fail-closed' },
  // May fetch an upstream OAuth token (third-party provider), so it gets the longest budget.
  prepareUpstream: { kind: 'sequential', timeoutMs: 10_000, failure: 'fail-closed' },
  onResponse: { kind: 'parallel', timeoutMs: 1_000, failure: 'isolate' },
  onRecord: { kind: 'reduce', timeoutMs: 1_000, failure: 'isolate' },
} as const satisfies Record<HookName, HookSpec>;

/** Every hook name, in stage order. */
export const hookNames = Object.keys(hookKinds) as HookName[];

/** What `runHook(name, …)` resolves to, per hook. */
export interface HookResults {
  setup: void;
  teardown: void;
  onReceive: void;
  identify: IdentifyResult | undefined;
  route: Route | undefined;
  authorize: AuthorizeDecision;
  prepareUpstream: void;
  onResponse: void;
  onRecord: AuditDetail;
}

/** The arguments of a hook without the trailing HookContext (what `runHook` takes). */
export type HookArgs<N extends HookName> = Parameters<Hooks[N]> extends [...infer A, HookContext] ? A : never;

/** An RFC 9110 §5.6.2 token: the syntax of a header field name (§5.1). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_CREDENTIAL_HEADERS = 16;

/** What is wrong with an `identify` answer, in words that quote none of it, or undefined when it is a usable IdentifyResult. */
export function identifyAnswerProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not an object';
  const { zoneId, appId, scopes, resourceId, jti, expiresAt, credentialHeaders } = value as Record<string, unknown>;
  if (typeof zoneId !== 'string' || zoneId === '') return 'zoneId must be a non-empty string';
  if (typeof appId !== 'string' || appId === '') return 'appId must be a non-empty string';
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) return 'scopes must be an array of strings';
  // One resource per credential (DESIGN.md §4): an identity that names none cannot be checked against the route.
  if (typeof resourceId !== 'string' || !isResourceId(resourceId)) return 'resourceId must name the resource the credential is for';
  if (jti !== undefined && typeof jti !== 'string') return 'jti must be a string when present';
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) return 'expiresAt must be a number of seconds when present';
  if (
    credentialHeaders !== undefined &&
    (!Array.isArray(credentialHeaders) || credentialHeaders.length > MAX_CREDENTIAL_HEADERS || !credentialHeaders.every((name) => typeof name === 'string' && HEADER_NAME.test(name)))
  ) {
    return `credentialHeaders must be an array of at most ${MAX_CREDENTIAL_HEADERS} header names when present`;
  }
  return undefined;
}

// Compile-time check: HookResults names exactly the hooks.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _resultsCoverHooks: Exact<keyof HookResults, HookName> = true;
void _resultsCoverHooks;
