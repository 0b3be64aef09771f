import type { Category } from '../core/audit/event.js';

/**
 * Every way the Gateway refuses or fails a request (DESIGN.md §5, §7): the stable reason code,
 * the HTTP status, the public error code, the explain category, and the fix to suggest.
 * Reason codes are shared with the audit event (`reason`) and with explain.
 */
export interface Refusal {
  readonly status: number;
  /** The public `error` code of the JSON body (RFC 6750 codes where they apply). */
  readonly error: string;
  readonly category: Category;
  readonly message: string;
  readonly hint: string;
}

const token = (message: string, hint: string): Refusal => ({
  status: 401,
  error: 'invalid_token',
  category: 'runtime_config',
  message,
  hint,
});
const policy = (error: string, message: string, hint: string): Refusal => ({ status: 403, error, category: 'policy', message, hint });
const RENEW = 'get a fresh token (caracal run and the SDK do this for you) and check the profile points at this stack';

export const refusals = {
  token_missing: token('no bearer token', 'send "Authorization: Bearer <access token>"; `caracal run` injects the token variable named in the profile'),
  token_malformed: token('the bearer token is not a well-formed JWT', RENEW),
  token_too_large: token('the bearer token is larger than the Gateway limit (4 KiB unless CARACAL_GATEWAY_MAX_TOKEN_BYTES sets another)', 'send the access token from the token endpoint, nothing else'),
  alg_not_allowed: token('the token is not signed with ES256', 'use an access token issued by this Caracal control plane'),
  typ_invalid: token('the token is not an access token (typ must be at+jwt)', 'use an access token from /oauth2/token, not an ID token'),
  kid_unknown: token('the token was signed by a key this Gateway does not know', 'the token comes from another installation or its key was retired; ' + RENEW),
  signature_invalid: token('the token signature is invalid', RENEW),
  token_expired: token('the token has expired', RENEW),
  token_not_yet_valid: token('the token is not valid yet (nbf in the future)', 'check the clocks of this machine and the control plane'),
  issuer_invalid: token('the token was issued by another issuer', 'point the profile control_url at the control plane this Gateway trusts'),
  zone_mismatch: token('the token was signed with a key of another zone', RENEW),
  claims_invalid: token('the token claims are incomplete or invalid', RENEW),
  token_revoked: token('the token has been revoked', 'request a new token; if the app was revoked, ask the operator'),
  app_revoked: token('every token of this app has been revoked (kill switch)', 'the operator revoked the app: rotate its secret (caracal apps rotate-secret) and update the secret file'),
  app_disabled: token('the app is disabled', 'enable the app (caracal apps update --enable) or use another app'),
  app_unknown: token('the app of this token no longer exists', 'create the app again with caracal setup and use its new profile'),
  audience_mismatch: {
    status: 401,
    error: 'invalid_token',
    category: 'resource_routing',
    message: 'the token was issued for another resource',
    hint: 'request a token for the resource named in X-Caracal-Resource (one resource per token), or name the resource the token was issued for',
  },
  resource_header_missing: {
    status: 400,
    error: 'invalid_request',
    category: 'resource_routing',
    message: 'no X-Caracal-Resource header',
    hint: 'send "X-Caracal-Resource: resource://<slug>" naming the protected resource',
  },
  resource_header_invalid: {
    status: 400,
    error: 'invalid_request',
    category: 'resource_routing',
    message: 'X-Caracal-Resource is not a resource ID',
    hint: 'use resource://<slug> or a bare slug (lowercase letters, digits, ".", "_", "-")',
  },
  resource_unknown: {
    status: 404,
    error: 'unknown_resource',
    category: 'resource_routing',
    message: 'no such resource in the token zone',
    hint: 'list resources with `caracal resources list` and fix X-Caracal-Resource, or create the resource',
  },
  path_invalid: {
    status: 400,
    error: 'invalid_request',
    category: 'resource_routing',
    message: 'the request path has dot segments, encoded separators or is not a valid origin-form path',
    hint: 'send a normalised path without "..", "." segments, %2e, %2f or backslashes',
  },
  provider_unavailable: {
    status: 502,
    error: 'provider_unavailable',
    category: 'resource_routing',
    message: 'the resource provider is missing or misconfigured',
    hint: 'check the provider of this resource (caracal providers list) and its allowed hosts',
  },
  host_not_allowed: {
    status: 403,
    error: 'host_not_allowed',
    category: 'resource_routing',
    message: 'the upstream address is not allowed for this zone or provider',
    hint: 'point the resource at an allowed host, or add the host to the provider allowed hosts',
  },
  address_not_allowed: {
    status: 502,
    error: 'address_not_allowed',
    category: 'resource_routing',
    message: 'the upstream address is one the Gateway never connects to (link-local, cloud metadata, multicast, unspecified), or a private one this zone does not allow for resources with a provider',
    hint: 'point the resource (or the provider token_url) at a routable host; for a private host of a production zone, list it in the zone allowed_private_hosts (caracal zones update)',
  },
  provider_token_unavailable: {
    status: 502,
    error: 'provider_token_unavailable',
    category: 'upstream',
    message: 'the provider token endpoint could not be reached or did not issue a token',
    hint: 'check that the provider token_url is up and reachable from the Gateway (caracal providers get)',
  },
  provider_token_refused: {
    status: 502,
    error: 'provider_token_refused',
    category: 'upstream',
    message: 'the provider token endpoint refused the provider client credentials',
    hint: 'check the provider client_id, scopes and audience, and replace its client secret (caracal providers set-credentials)',
  },
  no_active_policy: policy('access_denied', 'the zone has no active policy set: everything is denied', 'activate a policy set (caracal policy-sets activate)'),
  no_matching_rule: policy('access_denied', 'no policy rule allows this app on this resource', 'add an allow rule for this app and resource, then activate the new policy set version'),
  scope_not_granted: policy('insufficient_scope', 'the token has none of the scopes a matching rule requires', 'request a token with a scope the rule grants, or grant the scope in the policy'),
  method_not_allowed: policy('access_denied', 'the policy does not allow this method', 'add the method to the rule, or use a method it allows'),
  path_not_allowed: policy('access_denied', 'the policy does not allow this path', 'add the path to the rule, or call a path it allows'),
  denied_by_rule: policy('access_denied', 'a deny rule matches this request', 'change or remove the deny rule named in the explanation'),
  plugin_denied: policy('access_denied', 'a plugin denied this request', 'see the plugin named in the explanation'),
  request_malformed: {
    status: 400,
    error: 'invalid_request',
    category: 'runtime_config',
    message: 'the HTTP request is malformed (bad header syntax, CR/LF in a header, bad framing, no Host)',
    hint: 'send a valid HTTP/1.1 request; header values may not contain CR or LF',
  },
  headers_too_large: {
    status: 431,
    error: 'request_header_fields_too_large',
    category: 'runtime_config',
    message: 'the request headers exceed the Gateway limit',
    hint: 'send fewer or smaller headers (limit: 16 KiB unless CARACAL_GATEWAY_MAX_HEADER_BYTES sets another)',
  },
  body_too_large: {
    status: 413,
    error: 'payload_too_large',
    category: 'runtime_config',
    message: 'the request body exceeds the Gateway limit',
    hint: 'send a smaller body (limit: 10 MiB unless CARACAL_GATEWAY_MAX_BODY_BYTES sets another)',
  },
  upstream_unreachable: {
    status: 502,
    error: 'upstream_unreachable',
    category: 'upstream',
    message: 'the upstream refused or dropped the connection',
    hint: 'start the upstream service or fix the resource upstream URL (caracal resources get)',
  },
  upstream_timeout: {
    status: 504,
    error: 'upstream_timeout',
    category: 'upstream',
    message: 'the upstream did not answer in time',
    hint: 'check the upstream service health; the Gateway waits 5 s to connect and 30 s for headers',
  },
  upstream_reset: {
    status: 502,
    error: 'upstream_reset',
    category: 'upstream',
    message: 'the upstream closed the connection mid-response',
    hint: 'check the upstream service logs around this request ID',
  },
  gateway_unavailable: {
    status: 503,
    error: 'unavailable',
    category: 'runtime_config',
    message: 'the Gateway is not ready (keys or policy not loaded)',
    hint: 'check `caracal status --ready` and the gateway log',
  },
} as const satisfies Record<string, Refusal>;

export type RefusalReason = keyof typeof refusals;

/** Whether a string is a known refusal reason. */
export function isRefusalReason(value: string): value is RefusalReason {
  return Object.hasOwn(refusals, value);
}

/**
 * Reasons of requests that were forwarded (the upstream's answer went to the client), with their
 * category: recorded, never sent as a refusal. A 401 or 403 to an injected provider credential is
 * `resource_routing` (DESIGN.md §7: a provider misconfiguration; the fix is to replace it).
 */
export const forwardedReasons = {
  ok: null,
  upstream_error: 'upstream',
  provider_credential_rejected: 'resource_routing',
} as const satisfies Record<string, Category | null>;

export type ForwardedReason = keyof typeof forwardedReasons;
