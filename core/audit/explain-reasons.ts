import type { Category } from './event.js';

/**
 * What explain says about each stable reason code (DESIGN.md §7): the category it belongs to, what
 * happened in plain words, and the generic fix. explain.ts sharpens the fix with the facts of the
 * request (rule names, methods, paths, scopes, current state) where it can. The Gateway's own
 * refusal table (gateway/refusals.ts) uses the same codes; test/explain-reasons.test.ts checks that
 * every Gateway reason is covered here.
 */
export interface ReasonInfo {
  readonly category: Category | null;
  /** What happened, as the end of "the request …" / "the token request …". */
  readonly what: string;
  readonly fix: string | null;
}

const renew = 'get a fresh token (caracal run and the SDK do this for you) and check that the profile points at this stack';
const runtime = (what: string, fix: string): ReasonInfo => ({ category: 'runtime_config', what, fix });
const routing = (what: string, fix: string): ReasonInfo => ({ category: 'resource_routing', what, fix });
const policy = (what: string, fix: string): ReasonInfo => ({ category: 'policy', what, fix });
const upstream = (what: string, fix: string): ReasonInfo => ({ category: 'upstream', what, fix });

/** Reasons of `gateway.request` events. */
export const gatewayReasons: Readonly<Record<string, ReasonInfo>> = {
  ok: { category: null, what: 'was allowed and answered by the upstream', fix: null },
  upstream_error: upstream('was allowed, but the upstream answered with a server error', 'check the upstream service and its logs for this request ID (the Gateway sends it as X-Request-Id)'),
  token_missing: runtime('carried no bearer token', 'send "Authorization: Bearer <access token>"; `caracal run` injects the token variable named in the profile'),
  token_malformed: runtime('carried a bearer token that is not a well-formed JWT', renew),
  token_too_large: runtime('carried a bearer token larger than the Gateway limit', 'send the access token from the token endpoint, nothing else (limit: 4 KiB unless CARACAL_GATEWAY_MAX_TOKEN_BYTES sets another)'),
  alg_not_allowed: runtime('carried a token not signed with ES256', 'use an access token issued by this Caracal control plane'),
  typ_invalid: runtime('carried a token that is not an access token (typ must be at+jwt)', 'use an access token from /oauth2/token, not an ID token'),
  kid_unknown: runtime('carried a token signed by a key this Gateway does not know', `the token comes from another installation or its key was retired; ${renew}`),
  signature_invalid: runtime('carried a token whose signature is invalid', renew),
  token_expired: runtime('carried an expired token', renew),
  token_not_yet_valid: runtime('carried a token that is not valid yet (nbf in the future)', 'check the clocks of this machine and the control plane'),
  issuer_invalid: runtime('carried a token issued by another issuer', 'point the profile control_url at the control plane this Gateway trusts'),
  zone_mismatch: runtime('carried a token signed with a key of another zone', renew),
  claims_invalid: runtime('carried a token whose claims are incomplete or invalid', renew),
  token_revoked: runtime('carried a revoked token', 'request a new token; if the app was revoked, ask the operator'),
  app_revoked: runtime('carried a token of an app whose tokens were all revoked (kill switch)', 'the operator revoked the app: rotate its secret (caracal apps rotate-secret) and update the secret file, then get a new token'),
  app_disabled: runtime('came from a disabled app', 'enable the app (caracal apps update --enable) or use another app'),
  app_unknown: runtime('came from an app that no longer exists', 'create the app again with caracal setup and use its new profile'),
  request_malformed: runtime('was a malformed HTTP request', 'send a valid HTTP/1.1 request; header values may not contain CR or LF'),
  headers_too_large: runtime('had headers larger than the Gateway limit', 'send fewer or smaller headers (limit: 16 KiB unless CARACAL_GATEWAY_MAX_HEADER_BYTES sets another)'),
  body_too_large: runtime('had a body larger than the Gateway limit', 'send a smaller body (limit: 10 MiB unless CARACAL_GATEWAY_MAX_BODY_BYTES sets another)'),
  gateway_unavailable: runtime('arrived while the Gateway was not ready (keys or policy not loaded)', 'check `caracal status --ready` and the gateway log'),
  audience_mismatch: routing('carried a token issued for another resource', 'request a token for the resource named in X-Caracal-Resource (one resource per token), or name the resource the token was issued for'),
  resource_header_missing: routing('named no resource (no X-Caracal-Resource header)', 'send "X-Caracal-Resource: resource://<slug>" naming the protected resource'),
  resource_header_invalid: routing('named a resource with an invalid ID', 'use resource://<slug> or a bare slug (lowercase letters, digits, ".", "_", "-")'),
  resource_unknown: routing('named a resource that does not exist in the token zone', 'list resources with `caracal resources list` and fix X-Caracal-Resource, or create the resource'),
  path_invalid: routing('had a path with dot segments or encoded separators', 'send a normalised path without "..", "." segments, %2e, %2f or backslashes'),
  provider_unavailable: routing('could not be prepared: the resource provider is missing or misconfigured', 'check the provider of this resource (caracal providers list) and its allowed hosts'),
  host_not_allowed: routing('targets an upstream address this zone or provider does not allow', 'point the resource at an allowed host, or add the host to the provider allowed hosts'),
  address_not_allowed: routing(
    'was refused: the upstream (or the provider token endpoint) resolved to an address the Gateway never connects to, or to a private one the zone does not allow for resources with a provider',
    'point the resource or the provider token_url at a routable host; for a private host of a production zone, list it in the zone allowed_private_hosts (caracal zones update)',
  ),
  provider_credential_rejected: routing(
    'was forwarded with the provider credential, and the upstream rejected it (401 or 403)',
    'the provider credential was rejected; replace it (caracal providers set-credentials <provider> --credential-file -), or check its permissions at the API',
  ),
  provider_token_unavailable: upstream('was allowed, but the provider token endpoint could not be reached or did not issue a token', 'check that the provider token_url is up and reachable from the Gateway (caracal providers get)'),
  provider_token_refused: upstream(
    'was allowed, but the provider token endpoint refused the provider client credentials',
    'check the provider client_id, scopes and audience, and replace its client secret (caracal providers set-credentials <provider> --credential-file -)',
  ),
  no_active_policy: policy('was denied: the zone has no active policy set', 'activate a policy set version (caracal policy-sets activate)'),
  no_matching_rule: policy('was denied: no policy rule allows this app on this resource', 'add an allow rule for this app and resource, then activate the new policy set version'),
  scope_not_granted: policy('was denied: the token has none of the scopes a matching rule requires', 'request a token with a scope the rule grants, or grant the scope in the policy'),
  method_not_allowed: policy('was denied: the policy does not allow this method', 'add the method to the rule, or use a method it allows'),
  path_not_allowed: policy('was denied: the policy does not allow this path', 'add the path to the rule, or call a path it allows'),
  denied_by_rule: policy('was denied by a deny rule', 'change or remove the deny rule named above'),
  plugin_denied: policy('was denied by a plugin', 'see the plugin named in the event detail'),
  upstream_unreachable: upstream('was allowed, but the upstream refused or dropped the connection', 'start the upstream service or fix the resource upstream URL (caracal resources update --upstream)'),
  upstream_timeout: upstream('was allowed, but the upstream did not answer in time', 'check the upstream service health; the Gateway waits 5 s to connect and 30 s for headers'),
  upstream_reset: upstream('was allowed, but the upstream closed the connection mid-response', 'check the upstream service logs around this request ID'),
};

/** Reasons of `token.issued` / `token.denied` events (the token endpoint, DESIGN.md §4). */
export const tokenReasons: Readonly<Record<string, ReasonInfo>> = {
  ok: { category: null, what: 'was granted', fix: null },
  invalid_request: runtime('was malformed', 'POST application/x-www-form-urlencoded with grant_type=client_credentials, resource= and scope= (each once)'),
  invalid_client: runtime('failed client authentication (unknown client or wrong secret)', 'check the profile application_id and its secret file; if the secret was rotated, update the secret file'),
  rate_limited: runtime('was refused after too many failed attempts', 'wait a minute, then fix the client credentials before retrying'),
  app_disabled: runtime('came from a disabled app', 'enable the app (caracal apps update --enable) or use another app'),
  unsupported_grant_type: runtime('used a grant type other than client_credentials', 'use grant_type=client_credentials'),
  unauthorized_client: runtime('came from an app that may not use this grant', 'use an app of this zone with the client credentials grant'),
  invalid_target: routing('named no resource, several, or an invalid one', 'name exactly one resource (resource=resource://<slug>) per token request'),
  resource_unknown: routing('named a resource that does not exist in the app zone', 'list resources with `caracal resources list` and fix the profile [[credentials]] resource, or create the resource'),
  scope_unknown: routing('asked for a scope the resource does not define', 'ask only for scopes the resource defines (caracal resources get), or add the scope to the resource'),
  no_active_policy: policy('was denied: the zone has no active policy set', 'activate a policy set version (caracal policy-sets activate)'),
  no_matching_rule: policy('was denied: no policy rule covers this app on this resource', 'add an allow rule for this app and resource, then activate the new policy set version'),
  scope_not_granted: policy('was denied: the policy does not grant the requested scopes', 'request only scopes the policy grants, or grant them in the policy'),
  denied_by_rule: policy('was denied by a deny rule', 'change or remove the deny rule named above'),
};

/** The reason info of an event type and reason, if the catalog knows it. */
export function reasonInfo(type: string, reason: string): ReasonInfo | undefined {
  const table = type === 'gateway.request' ? gatewayReasons : type.startsWith('token.') ? tokenReasons : undefined;
  return table !== undefined && Object.hasOwn(table, reason) ? table[reason] : undefined;
}
