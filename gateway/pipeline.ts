/**
 * The Gateway's request path (DESIGN.md §5). Every request runs these stages, in this order:
 *
 *   receive    request ID, request-target check, limits          → onReceive (observers)
 *   identify   bearer token verified locally (cached), revocation;  → identify (first-wins)
 *              another credential only through an identify plugin
 *   route      X-Caracal-Resource → resource; `aud` must match it   → route (first-wins)
 *   authorize  the zone's compiled policy, then plugins (narrow only) → authorize (deny-wins)
 *   prepare    strip and set headers; provider credentials           → prepareUpstream (sequential)
 *   forward    undici dispatch, streaming both ways; addresses checked at connect (outbound.ts)
 *   respond    the upstream's response, or the JSON refusal
 *   record     one audit event, queued off the hot path            → onResponse, onRecord
 *
 * A stage that refuses jumps straight to respond and record. A token refused after its signature
 * verified (expired, not yet valid, another audience) is still recorded with its zone, app, jti
 * and scopes: those claims are authentic, only their use was refused. A token refused for another
 * audience is looked at once more, on that refusal only: when the resource it names does not
 * exist in the token's zone, the refusal is `resource_unknown` with a "did you mean".
 *
 * Nothing here awaits storage: state
 * comes from an in-memory snapshot the store watcher keeps current, and audit is queued. The one
 * exception is off the hot path: a token signed by a key the snapshot does not know yet, or
 * issued after the snapshot was built and refused for an app, resource or policy the snapshot may
 * not have seen yet (the first call right after setup), waits for one throttled snapshot rebuild
 * and is checked again before it is refused.
 *
 * `identify` runs only for a request that carries no Caracal access token: no `Authorization`, a
 * scheme other than Bearer, or a bearer value that is not a JWT at all (refused `token_malformed`
 * and marked `notJwt` by the verifier: an opaque token). A JWT is Caracal's to judge: malformed,
 * expired, revoked, forged or for another resource, its refusal stands and no plugin is asked, so
 * a plugin can never rescue a Caracal token. A valid token costs no hook call, nor does anything
 * when no plugin implements the hook. The resource header is checked first (`resourceId` is always
 * set). The identity a plugin returns is checked as a token is: its app must be an app of its zone
 * (else `app_unknown`, recorded without zone or app: a zone that does not exist must not open an
 * audit chain) and stand (revoked, disabled), it must name the routed resource
 * (`audience_mismatch`) and not be expired; then it routes in its zone and the policy decides with
 * its app and scopes, so a plugin names a caller but never widens what the caller may do. The
 * request headers the plugin says carried the credential never go upstream, like `Authorization`,
 * and `route` and `onResponse` do not see them. No identity: refused as before (`token_missing`,
 * `token_malformed`). A throwing or late plugin, or an unusable answer (the hook driver checks it
 * where it knows the plugin that gave it): `plugin_denied` (fail closed), the plugin named in the
 * event's detail.
 *
 * `prepareUpstream` runs only where it has work: for a route with a provider (a plugin contributes
 * the provider's kind, else the route is refused), and for every route only when some plugin
 * implements the hook without contributing providers. A route without a provider therefore costs
 * no hook call when the only implementer is the built-in third-party-provider plugin. Plugins edit
 * one header record, repeated lines joined (headers.ts headerRecord); what they leave unchanged
 * goes upstream as the client's own lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';
import type { AuditEventInput, Decision } from '../core/audit/event.js';
import { isoNow } from '../core/audit/stamp.js';
import { requestIdFor } from '../core/domain/request-id.js';
import { isResourceId, normalizeResourceId } from '../core/domain/ids.js';
import { isCaracalError } from '../core/errors.js';
import type { HookDriver } from '../core/plugin/hook-driver.js';
import { upstreamRefusalReasons, type GatewayRequest, type Identity, type IdentifyContext, type IdentifyResult, type Route, type UpstreamRefusalReason } from '../core/plugin/hooks.js';
import { allowedHostsOf, hostEntryOf, isHostAllowed } from '../core/net/allowed-hosts.js';
import type { Decision as PolicyDecision } from '../core/policy/types.js';
import { forward, type ForwardOutcome } from './forward.js';
import { editedHeaderLines, headerRecord, upstreamRequestHeaders } from './headers.js';
import { checkTarget, joinUpstreamPath, type SplitTarget } from './path.js';
import { forwardedReasons, refusals, type ForwardedReason, type RefusalReason } from './refusals.js';
import { sendRefusal } from './respond.js';
import type { VerifiedToken, VerifyFailure } from '../core/token/verify.js';
import { closestResource } from './closest-resource.js';
import type { GatewayState, RoutedResource, StandingClaims } from './state.js';

/** The request limits (DESIGN.md §5), configurable (run-gateway.ts limitsFromEnv). */
export interface GatewayLimits {
  /** The request line and header block, checked by Node's parser (431 beyond it). */
  readonly maxHeaderBytes: number;
  readonly maxTokenBytes: number;
  readonly maxBodyBytes: number;
}

export const defaultGatewayLimits: GatewayLimits = { maxHeaderBytes: 16 * 1024, maxTokenBytes: 4096, maxBodyBytes: 10 * 1024 * 1024 };

export interface PipelineDeps {
  /** The current snapshot (swapped whole when the store changes). */
  state(): GatewayState;
  readonly hooks: HookDriver;
  /** When `prepareUpstream` runs (see the top of this file). */
  readonly prepare: PrepareGates;
  readonly limits: GatewayLimits;
  /** Queues one audit event (never throws, never awaits storage). */
  record(event: AuditEventInput): void;
  /** Counts one finished request (metrics). */
  observe(outcome: { decision: Decision; status: number; latencyMs: number }): void;
}

/** Which routes `prepareUpstream` runs for, from the loaded plugins (prepareGates in run-gateway.ts). */
export interface PrepareGates {
  /** Provider kinds some loaded plugin contributes (and injects in prepareUpstream). */
  readonly providerKinds: ReadonlySet<string>;
  /** Whether a plugin implements prepareUpstream without contributing providers: then it runs for every route. */
  readonly everyRoute: boolean;
}

/** Per-request facts gathered stage by stage, recorded at the end. */
interface Exchange {
  readonly requestId: string;
  readonly started: number;
  readonly method: string;
  path: string;
  token: VerifiedToken | null;
  /** The caller an `identify` plugin vouched for (a request without a Caracal token), once accepted. */
  identity: Identity | null;
  /** A token refused after its signature verified, or a plugin identity refused: recorded, never trusted. */
  refused: RefusedCaller | null;
  /** Facts for the event's detail besides the policy's and the refusal's (a plugin identity, a failing plugin). */
  facts: Readonly<Record<string, string>> | null;
  /** Request headers (lower case) an identify plugin said carried the credential: never forwarded, never shown to later observers. */
  credentialHeaders: readonly string[] | null;
  resourceId: string | null;
  policy: PolicyDecision | null;
  /** Whether this request already waited for a snapshot rebuild (at most once). */
  refreshed: boolean;
}

/** An authentic token (or a plugin identity) whose use was refused, and the facts of the refusal for the event's detail. */
interface RefusedCaller {
  readonly token?: VerifiedToken;
  readonly identity?: Identity;
  readonly detail: Readonly<Record<string, string>>;
}

/**
 * A token issued this long (ms) before the snapshot was built may have been minted against state
 * the snapshot does not hold yet (iat has one-second resolution; clocks of nodes differ a little).
 */
const SNAPSHOT_SLACK_MS = 2000;

/** The request handler, and how many requests it has taken whose audit event is not queued yet. */
export interface Pipeline {
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Requests not yet recorded (shutdown waits for them before it flushes the audit). */
  readonly unrecorded: () => number;
}

/** Creates the request handler that runs the stages above. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { hooks } = deps;
  let unrecorded = 0;
  const record = (event: AuditEventInput) => {
    unrecorded -= 1;
    deps.record(event);
  };

  function refuse(req: IncomingMessage, res: ServerResponse, ex: Exchange, reason: RefusalReason, message?: string, hint?: string): void {
    const status = sendRefusal(res, reason, ex.requestId, message, req, hint);
    finish(ex, req, status, null, reason, 'deny');
  }

  /**
   * Refuses a token the verifier did not accept. An authentic one (its signature verified) is kept
   * for the record; one issued for another resource becomes `resource_unknown` when the resource
   * the request names does not exist in the token's zone (a route plugin may know resources the
   * snapshot does not: then it stays an audience mismatch).
   */
  function refuseToken(req: IncomingMessage, res: ServerResponse, ex: Exchange, state: GatewayState, failure: VerifyFailure): void {
    const authentic = failure.authentic;
    if (authentic === undefined) return refuse(req, res, ex, failure.reason);
    const issuedFor = authentic.claims.aud;
    if (failure.reason !== 'audience_mismatch') {
      ex.refused = { token: authentic, detail: {} };
      return refuse(req, res, ex, failure.reason);
    }
    const named = ex.resourceId as string;
    const zone = authentic.claims.zone;
    if (state.resource(zone, named) !== undefined || hooks.has('route')) {
      ex.refused = { token: authentic, detail: { issued_for: issuedFor } };
      return refuse(req, res, ex, 'audience_mismatch', `the token was issued for ${issuedFor}, not for ${named}`, `request a token for ${named} (one resource per token), or send X-Caracal-Resource: ${issuedFor}`);
    }
    const suggestion = closestResource(named, state.resourceIds(zone), issuedFor);
    ex.refused = { token: authentic, detail: suggestion === undefined ? { issued_for: issuedFor } : { issued_for: issuedFor, did_you_mean: suggestion } };
    const guess = suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
    refuse(
      req,
      res,
      ex,
      'resource_unknown',
      `no resource ${named} in the token zone ${zone}${guess} (the token was issued for ${issuedFor})`,
      suggestion === undefined
        ? `list resources with \`caracal resources list\` and fix X-Caracal-Resource, or create ${named}`
        : `did you mean ${suggestion}? send X-Caracal-Resource: ${suggestion}, or create ${named}`,
    );
  }

  function finish(ex: Exchange, req: IncomingMessage, status: number, upstreamStatus: number | null, reason: RefusalReason | ForwardedReason, decision: Decision): void {
    const latencyMs = Math.round((performance.now() - ex.started) * 1000) / 1000;
    const category = Object.hasOwn(forwardedReasons, reason) ? forwardedReasons[reason as ForwardedReason] : refusals[reason as RefusalReason].category;
    const policy = ex.policy;
    // An authentic token refused for its use is recorded like an accepted one (its zone's chain);
    // so is a plugin identity, accepted or refused: the plugin vouched for it.
    const token = ex.token ?? ex.refused?.token ?? null;
    const identity = token === null ? (ex.identity ?? ex.refused?.identity ?? null) : null;
    const event: AuditEventInput = {
      type: 'gateway.request',
      // Stamped here, with the answer (the audit thread stores it a few milliseconds later).
      at: isoNow(),
      zone: token?.claims.zone ?? identity?.zoneId ?? null,
      request_id: ex.requestId,
      app: token?.claims.sub ?? identity?.appId ?? null,
      resource: ex.resourceId,
      scopes: token?.scopes ?? identity?.scopes ?? [],
      decision,
      reason,
      category,
      policy:
        policy === null
          ? null
          : { set_id: policy.policySetId, set_version: policy.policySetVersion, versions: policy.policies, rules: policy.rules },
      http: { method: ex.method, path: ex.path, status, upstream_status: upstreamStatus, latency_ms: latencyMs },
      token: token !== null ? { jti: token.claims.jti, exp: token.claims.exp } : identity?.jti !== undefined && identity.expiresAt !== undefined ? { jti: identity.jti, exp: identity.expiresAt } : null,
      detail: detailOf(ex),
    };
    deps.observe({ decision, status, latencyMs });
    if (hooks.has('onResponse')) {
      void hooks.runHook('onResponse', {
        request: gatewayRequest(req, ex, false),
        identity: ex.token === null ? ex.identity : identityOf(ex.token),
        resourceId: ex.resourceId,
        status,
        upstreamStatus,
        latencyMs,
        decision,
      });
    }
    if (hooks.has('onRecord')) {
      void hooks.runHook('onRecord', event.detail ?? {}, { event }).then((detail) => record({ ...event, detail }));
    } else {
      record(event);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    unrecorded += 1;
    // receive
    const target = checkTarget(req.url ?? '');
    const ex: Exchange = {
      requestId: requestIdFor(req.headers['x-request-id']),
      started: performance.now(),
      method: req.method ?? 'GET',
      path: target?.path ?? '(invalid)',
      token: null,
      identity: null,
      refused: null,
      facts: null,
      credentialHeaders: null,
      resourceId: null,
      policy: null,
      refreshed: false,
    };
    const state = deps.state();
    if (!state.ready) return refuse(req, res, ex, 'gateway_unavailable');
    if (target === undefined) return refuse(req, res, ex, 'path_invalid');
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered with 400.
    if (req.headers.host === undefined && req.httpVersionMinor === 1) return refuse(req, res, ex, 'request_malformed', 'the request has no Host header');
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > deps.limits.maxBodyBytes) return refuse(req, res, ex, 'body_too_large');
    if (hooks.has('onReceive')) void hooks.runHook('onReceive', { request: gatewayRequest(req, ex, false) });

    // identify: the bearer token, verified locally for the resource it names; another credential
    // only through an identify plugin (see the top of this file)
    const authorization = req.headers.authorization;
    const bearer = authorization !== undefined && authorization.length >= 8 && authorization.slice(0, 7).toLowerCase() === 'bearer ';
    if (!bearer && !hooks.has('identify')) return refuse(req, res, ex, 'token_missing');
    const raw = bearer ? authorization.slice(7).trim() : '';
    if (raw.length > deps.limits.maxTokenBytes) return refuse(req, res, ex, 'token_too_large');
    const header = req.headers['x-caracal-resource'];
    if (header === undefined || header === '') return refuse(req, res, ex, 'resource_header_missing');
    if (typeof header !== 'string' || !isResourceId(header)) return refuse(req, res, ex, 'resource_header_invalid');
    const resourceId = header.startsWith('resource://') ? header : normalizeResourceId(header);
    ex.resourceId = resourceId;
    if (!bearer) return identifyByPlugin(req, res, ex, target, authorization, 'token_missing');
    const verified = state.verify(raw, resourceId);
    if (verified.ok) return identified(req, res, ex, target, state, verified);
    // Not a JWT at all (an opaque bearer token): a plugin may know it. Any refusal of a JWT stands.
    if (verified.notJwt === true && hooks.has('identify')) return identifyByPlugin(req, res, ex, target, authorization, 'token_malformed');
    // A header naming no kid: no key could ever verify it.
    if (verified.reason !== 'kid_unknown' || verified.kid === undefined) return refuseToken(req, res, ex, state, verified);
    // A key this node has not loaded yet (a zone's first mint, a rotation a moment ago): one shared
    // key check (a kid already found missing answers at once; runtime.ts), then verify again,
    // rather than refuse the first calls after it.
    ex.refreshed = true;
    state.refresh(verified.kid).then(
      () => {
        const now = deps.state();
        const again = now.verify(raw, resourceId);
        if (again.ok) identified(req, res, ex, target, now, again);
        else refuseToken(req, res, ex, now, again);
      },
      () => refuse(req, res, ex, 'kid_unknown'),
    );
  }

  /**
   * Refuses, unless the snapshot may predate what the token was minted against: then rebuilds it
   * once and runs identify → authorize again with the same verified token.
   */
  function refuseOrRefresh(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, state: GatewayState, reason: RefusalReason, message?: string): void {
    const token = ex.token;
    // A plugin identity has no issue time to compare: it is refused at once (it never triggers a rebuild).
    if (token === null || ex.refreshed || token.claims.iat * 1000 + SNAPSHOT_SLACK_MS < state.loadedAt) return refuse(req, res, ex, reason, message);
    ex.refreshed = true;
    state.refresh().then(
      () => identified(req, res, ex, target, deps.state(), token),
      () => refuse(req, res, ex, reason, message),
    );
  }

  function identified(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, state: GatewayState, verified: VerifiedToken): void {
    ex.token = verified;
    const standing = state.standing(verified.claims);
    if (standing === 'app_unknown') return refuseOrRefresh(req, res, ex, target, state, standing);
    if (standing !== null) return refuse(req, res, ex, standing);
    findRoute(req, res, ex, target, state, verified.claims.zone);
  }

  /**
   * Asks the identify plugins (first-wins) about a credential that is not a Caracal access token.
   * No identity: refused as without a plugin (`otherwise`); a throwing or late plugin: refused.
   */
  function identifyByPlugin(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, authorization: string | undefined, otherwise: 'token_missing' | 'token_malformed'): void {
    const credential = credentialOf(authorization);
    const context: IdentifyContext = { request: gatewayRequest(req, ex, true), credential, resourceId: ex.resourceId };
    hooks.runHook('identify', context).then(
      (answer) => {
        if (answer === undefined) return refuse(req, res, ex, otherwise);
        // The scheme is empty or a short RFC 9110 token (credentialOf): never the credential itself.
        ex.facts = { identity: 'plugin', scheme: credential.scheme };
        if (answer.credentialHeaders !== undefined && answer.credentialHeaders.length > 0) {
          ex.credentialHeaders = answer.credentialHeaders.map((name) => name.toLowerCase());
        }
        pluginIdentified(req, res, ex, target, deps.state(), identityFrom(answer));
      },
      (error: unknown) => {
        const failed = identifyFailure(error);
        ex.facts = { hook: 'identify', plugin: failed.plugin, error: failed.reason };
        refuse(req, res, ex, 'plugin_denied', failed.message);
      },
    );
  }

  /**
   * Checks what an identify plugin vouched for (its shape was checked by the hook driver) as a
   * verified token is checked: first the app's standing, which needs it to be an app of the
   * identity's zone (until then nothing it says is recorded as the caller: a zone that does not
   * exist would open an audit chain), then the resource (the routed one: one resource per
   * credential) and the expiry. Then the request routes and meets the policy like any.
   */
  function pluginIdentified(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, state: GatewayState, identity: Identity & { readonly resourceId: string }): void {
    const standing = state.standing(standingOf(identity));
    if (standing === 'app_unknown') {
      const message = 'the app an identify plugin named for this credential is not an app of the zone it named';
      return refuse(req, res, ex, standing, message, "fix the plugin's mapping of credentials to zones and apps (`caracal apps list --zone ZONE` lists a zone's apps)");
    }
    if (standing !== null) {
      ex.refused = { identity, detail: {} };
      return refuse(req, res, ex, standing);
    }
    const resourceId = ex.resourceId as string;
    const issuedFor = normalizeResourceId(identity.resourceId);
    if (issuedFor !== resourceId) {
      ex.refused = { identity, detail: { issued_for: issuedFor } };
      return refuse(req, res, ex, 'audience_mismatch', `the credential was identified for ${issuedFor}, not for ${resourceId}`, `use a credential for ${resourceId}, or send X-Caracal-Resource: ${issuedFor}`);
    }
    if (identity.expiresAt !== undefined && identity.expiresAt * 1000 <= Date.now()) {
      ex.refused = { identity, detail: {} };
      return refuse(req, res, ex, 'token_expired', 'the credential has expired (the identify plugin says so)');
    }
    ex.identity = identity;
    findRoute(req, res, ex, target, state, identity.zoneId);
  }

  /** route: the resource of the caller's zone, else a route plugin's answer. */
  function findRoute(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, state: GatewayState, zone: string): void {
    const resourceId = ex.resourceId as string;
    const resource = state.resource(zone, resourceId);
    if (resource !== undefined) return routed(req, res, ex, target, state, resource);
    if (!hooks.has('route')) return refuseOrRefresh(req, res, ex, target, state, 'resource_unknown');
    hooks.runHook('route', { request: gatewayRequest(req, ex, false), identity: callerIdentity(ex), resourceId }).then(
      (route) => (route === undefined ? refuse(req, res, ex, 'resource_unknown') : routed(req, res, ex, target, state, state.routeFromPlugin(route, zone))),
      () => refuse(req, res, ex, 'provider_unavailable'),
    );
  }

  function routed(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, state: GatewayState, resource: RoutedResource | undefined): void {
    if (resource === undefined) return refuse(req, res, ex, 'provider_unavailable');
    const token = ex.token;
    const identity = ex.identity as Identity;

    // authorize: a plugin identity meets the same policy with its app and scopes, so an identify
    // plugin can name a caller but never widen what that caller may do
    const decision = state.matcher(token !== null ? token.claims.zone : identity.zoneId).decideRequest({
      app: token !== null ? token.claims.sub : identity.appId,
      resource: resource.id,
      scopes: token !== null ? token.scopes : identity.scopes,
      method: ex.method,
      path: target.path,
    });
    ex.policy = decision;
    if (decision.effect === 'deny') {
      return refuseOrRefresh(req, res, ex, target, state, decision.reason ?? 'no_matching_rule', decision.diagnosis?.summary);
    }
    if (!hooks.has('authorize')) return prepare(req, res, ex, target, resource);
    const route: Route = { resourceId: resource.id, upstreamUrl: resource.upstreamUrl, providerId: resource.providerId };
    hooks
      .runHook('authorize', { request: gatewayRequest(req, ex, true), identity: callerIdentity(ex), route, policy: { effect: 'allow', reason: 'ok' } })
      .then(
        (verdict) => {
          if (verdict.effect !== 'deny') return prepare(req, res, ex, target, resource);
          // Recorded for explain: which plugin denied, and its reason (plugin_error / plugin_timeout when it failed).
          ex.facts = { ...ex.facts, hook: 'authorize', plugin: verdict.plugin ?? '', reason: verdict.reason.slice(0, 200) };
          refuse(req, res, ex, 'plugin_denied', `denied by plugin ${verdict.plugin ?? ''}: ${verdict.reason}`);
        },
        () => refuse(req, res, ex, 'plugin_denied'),
      );
  }

  function prepare(req: IncomingMessage, res: ServerResponse, ex: Exchange, target: SplitTarget, resource: RoutedResource): void {
    if (resource.refusal !== null) return refuse(req, res, ex, resource.refusal.reason, resource.refusal.message);
    const headers = upstreamRequestHeaders(
      req.rawHeaders,
      { requestId: ex.requestId, clientIp: req.socket.remoteAddress ?? '', proto: 'http', host: req.headers.host ?? '' },
      ex.credentialHeaders,
    );
    const path = joinUpstreamPath(resource.basePath, target.path, target.search);
    const provider = resource.provider;
    if (provider === null && !deps.prepare.everyRoute) return send(req, res, ex, resource, resource.origin, path, headers);
    // Fail closed: a provider route is never forwarded without a plugin to inject its credential.
    if (provider !== null && (!deps.prepare.providerKinds.has(provider.kind) || !hooks.has('prepareUpstream'))) {
      return refuse(req, res, ex, 'provider_unavailable', `no loaded plugin injects credentials of kind ${provider.kind} (provider ${provider.name}); check caracal plugin list`);
    }
    // Plugins edit one record (repeated lines joined); headers they leave alone go out as sent.
    const upstream = { url: resource.origin + path, headers: headerRecord(headers) };
    const route: Route = { resourceId: resource.id, upstreamUrl: resource.upstreamUrl, providerId: resource.providerId };
    const context = { request: gatewayRequest(req, ex, true), identity: callerIdentity(ex), route, upstream, provider, fetch: resource.fetch };
    hooks.runHook('prepareUpstream', context).then(
      () => {
        const flat = editedHeaderLines(headers, upstream.headers);
        // The common case (headers edited, URL kept) needs no URL parsing.
        if (upstream.url === resource.origin + path) return send(req, res, ex, resource, resource.origin, path, flat);
        const url = URL.canParse(upstream.url) ? new URL(upstream.url) : undefined;
        if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
          return refuse(req, res, ex, 'provider_unavailable', 'a prepareUpstream plugin set an upstream URL that is not an absolute http(s) URL');
        }
        // A plugin may rewrite the URL: a provider credential still goes only to an allowed host.
        if (provider !== null && url.origin !== resource.origin && !isHostAllowed(allowedHostsOf(provider.config), url)) {
          return refuse(req, res, ex, 'host_not_allowed', `a plugin sent the request to ${hostEntryOf(url)}, which is not an allowed host of provider ${provider.name}`);
        }
        send(req, res, ex, resource, url.origin, url.pathname + url.search, flat);
      },
      (error: unknown) => {
        const chosen = hookRefusal(error);
        refuse(req, res, ex, chosen?.reason ?? 'provider_unavailable', chosen?.message);
      },
    );
  }

  function send(req: IncomingMessage, res: ServerResponse, ex: Exchange, resource: RoutedResource, origin: string, path: string, headers: string[]): void {
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const body = hasBody ? limitBody(req, deps.limits.maxBodyBytes) : null;
    forward(resource.dispatcher, res, { origin, path, method: ex.method, headers, body: body?.stream ?? null }, ex.requestId, (outcome: ForwardOutcome) => {
      if (outcome.failure !== null && !outcome.responded && !outcome.clientAborted) {
        const reason = body?.tooLarge === true ? 'body_too_large' : outcome.failure;
        const status = sendRefusal(res, reason, ex.requestId, outcome.message, req);
        return finish(ex, req, status, null, reason, reason === 'body_too_large' || reason === 'address_not_allowed' ? 'deny' : 'error');
      }
      const upstreamStatus = outcome.upstreamStatus;
      if (outcome.failure !== null) return finish(ex, req, upstreamStatus ?? 502, upstreamStatus, outcome.failure, 'error');
      if (outcome.clientAborted) return finish(ex, req, 499, upstreamStatus, 'ok', 'allow');
      finish(ex, req, upstreamStatus ?? 502, upstreamStatus, forwardedReason(upstreamStatus, resource), 'allow');
    });
  }

  return { handle, unrecorded: () => unrecorded };
}

/** How a forwarded exchange is recorded: a server error, a rejected provider credential, or ok. */
function forwardedReason(upstreamStatus: number | null, resource: RoutedResource): ForwardedReason {
  if (upstreamStatus !== null && upstreamStatus >= 500) return 'upstream_error';
  if (resource.provider !== null && (upstreamStatus === 401 || upstreamStatus === 403)) return 'provider_credential_rejected';
  return 'ok';
}

/** The refusal a failing `prepareUpstream` plugin chose (an Error with `refusal`, see upstreamRefusal), if any. */
function hookRefusal(error: unknown): { reason: UpstreamRefusalReason; message: string } | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const chosen = (cause as { refusal?: unknown } | undefined)?.refusal;
  if (typeof chosen !== 'string' || !upstreamRefusalReasons.includes(chosen as UpstreamRefusalReason)) return undefined;
  return { reason: chosen as UpstreamRefusalReason, message: (cause as Error).message };
}

/** The body to send upstream; chunked uploads pass through a counter that stops at the limit. */
interface LimitedBody {
  readonly stream: Readable;
  tooLarge: boolean;
}

function limitBody(req: IncomingMessage, max: number): LimitedBody {
  // With Content-Length the limit was checked up front and Node enforces the length itself.
  if (req.headers['content-length'] !== undefined) return { stream: req, tooLarge: false };
  let seen = 0;
  const limited: LimitedBody = { stream: req, tooLarge: false };
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) {
        limited.tooLarge = true;
        callback(new Error('request body exceeds the limit'));
        return;
      }
      callback(null, chunk);
    },
  });
  // pipe, not pipeline: at the limit only the counter fails (undici aborts the upstream request);
  // the client's request stays open so the 413 can still be answered on it.
  counter.on('error', () => req.unpipe(counter));
  req.pipe(counter);
  return Object.assign(limited, { stream: counter });
}

/** The plugin-facing identity of a verified token (built only when a hook runs). */
function identityOf(token: VerifiedToken): Identity {
  const c = token.claims;
  return { zoneId: c.zone, appId: c.sub, scopes: token.scopes, resourceId: c.aud, jti: c.jti, expiresAt: c.exp };
}

/** The plugin-facing identity of the caller: its verified token's, or the one an identify plugin returned. */
function callerIdentity(ex: Exchange): Identity {
  return ex.token !== null ? identityOf(ex.token) : (ex.identity as Identity);
}

/**
 * A plugin identity as the standing check reads it (gateway/state.ts): its app and zone, and its
 * `jti` for a revocation by token ID. Its issue time is unknown, so `iat` is 0: while an app
 * revocation (the kill switch) is live it refuses the app's plugin identities too.
 */
function standingOf(identity: Identity): StandingClaims {
  return { sub: identity.appId, client_id: identity.appId, zone: identity.zoneId, jti: identity.jti ?? '', iat: 0 };
}

/** The identity an identify plugin vouched for, without its transport details (`credentialHeaders`) or anything else it added. */
function identityFrom(answer: IdentifyResult): Identity & { readonly resourceId: string } {
  return {
    zoneId: answer.zoneId,
    appId: answer.appId,
    scopes: answer.scopes,
    resourceId: answer.resourceId,
    ...(answer.jti === undefined ? {} : { jti: answer.jti }),
    ...(answer.expiresAt === undefined ? {} : { expiresAt: answer.expiresAt }),
  };
}

/**
 * An auth-scheme (RFC 9110 §11.4: a token, then 1*SP and the credentials), at most 20 characters:
 * registered schemes are short, and a longer run is far more likely a raw key than a scheme.
 */
const AUTHORIZATION = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}) +(.+)$/s;

/**
 * The `Authorization` header split into a lower-case scheme and its value; both empty when absent.
 * A value without a scheme (a raw key as the whole header) is all value, the scheme empty: the
 * scheme goes into the audit record, so it must never be able to hold the credential.
 */
function credentialOf(authorization: string | undefined): IdentifyContext['credential'] {
  if (authorization === undefined) return { scheme: '', value: '' };
  const trimmed = authorization.trim();
  const parts = AUTHORIZATION.exec(trimmed);
  if (parts === null) return { scheme: '', value: trimmed };
  return { scheme: (parts[1] as string).toLowerCase(), value: (parts[2] as string).trim() };
}

/**
 * Which identify plugin failed and how, from the driver's error, and a message for the caller
 * that quotes nothing the plugin said (an unusable answer is described in the driver's own words).
 */
function identifyFailure(error: unknown): { plugin: string; reason: 'plugin_error' | 'plugin_timeout' | 'identity_malformed'; message: string } {
  const details = isCaracalError(error) ? (error.details as { plugin?: unknown; problem?: unknown } | undefined) : undefined;
  const plugin = typeof details?.plugin === 'string' ? details.plugin : 'unknown';
  if (isCaracalError(error, 'CRC_PLUGIN_HOOK_TIMEOUT')) return { plugin, reason: 'plugin_timeout', message: error.message };
  if (isCaracalError(error) && typeof details?.problem === 'string') return { plugin, reason: 'identity_malformed', message: error.message };
  // The plugin's own error text stays in the Gateway log (onHookError): it may quote the credential.
  return { plugin, reason: 'plugin_error', message: `plugin "${plugin}" failed in hook identify; the credential could not be checked (see the gateway log)` };
}

/** The event's detail: the policy's diagnosis or the refusal's facts, and the request's own facts. */
function detailOf(ex: Exchange): Record<string, unknown> {
  const base = ex.policy?.diagnosis ? { diagnosis: ex.policy.diagnosis } : ex.refused === null ? {} : { ...ex.refused.detail };
  return ex.facts === null ? base : { ...base, ...ex.facts };
}

function gatewayRequest(req: IncomingMessage, ex: Exchange, withCredentials: boolean): GatewayRequest {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  // Deciders see the headers as received (read-only); observers get a copy without the
  // credential: `Authorization`, and the headers an identify plugin said carried it.
  let headers: GatewayRequest['headers'] = req.headers;
  if (!withCredentials) {
    const copy = { ...req.headers };
    delete copy.authorization;
    for (const name of ex.credentialHeaders ?? []) delete copy[name];
    headers = copy;
  }
  return {
    requestId: ex.requestId,
    method: ex.method,
    path: ex.path,
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    remoteAddress: req.socket.remoteAddress ?? '',
  };
}
