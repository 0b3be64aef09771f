import { upstreamRefusal } from '../../core/plugin/types.js';
import type { OutboundFetch, UpstreamProvider } from '../../core/plugin/hooks.js';

/**
 * Upstream OAuth 2.0 access tokens for `oauth2-client-credentials` providers (RFC 6749 §4.4),
 * fetched by the Gateway from the provider's token endpoint and cached per provider:
 *
 * - single flight: however many requests need a token at once, one token request is made;
 * - refreshed ahead: from `expiry − margin` (a fifth of the lifetime, at most 60 s) the next
 *   request starts one refresh while every caller keeps using the current token, until half the
 *   margin is left; after that callers wait for the refresh;
 * - keyed by the provider's revision: a rotated secret or a changed config drops the cached token.
 *
 * Failures are refusals the Gateway understands (UpstreamRefusalReason): the endpoint unreachable,
 * timing out, failing or answering nonsense → `provider_token_unavailable`; refusing the client
 * (4xx) → `provider_token_refused`; an address the zone forbids → `address_not_allowed`. Messages
 * name the provider, the endpoint's origin, the status and the OAuth `error` code, never a secret.
 */

/** At most this long for one token request (below the 10 s prepareUpstream budget). */
const TOKEN_TIMEOUT_MS = 8_000;
const MAX_MARGIN_MS = 60_000;
/** Used when the endpoint sends no `expires_in` (RFC 6749 §5.1 makes it optional). */
const DEFAULT_LIFETIME_S = 300;
/** A token response larger than this is not a token response. */
const MAX_RESPONSE_CHARS = 64 * 1024;

interface Token {
  readonly value: string;
  /** From here a refresh starts (ms since the epoch). */
  readonly refreshAt: number;
  /** Until here callers may keep using this token while a refresh runs. */
  readonly usableUntil: number;
}

interface Entry {
  readonly revision: string;
  token: Token | undefined;
  pending: Promise<Token> | undefined;
}

/** The token cache of one Gateway process. */
export interface TokenCache {
  /** An access token for the provider: cached (returned at once), or from the single token request in flight. */
  token(provider: UpstreamProvider, fetch: OutboundFetch): string | Promise<string>;
}

/** Creates an empty cache; `now` is replaceable for tests. */
export function createTokenCache(now: () => number = Date.now): TokenCache {
  const entries = new Map<string, Entry>();

  function refresh(entry: Entry, provider: UpstreamProvider, fetch: OutboundFetch): Promise<Token> {
    const flight = requestToken(provider, fetch, now).then(
      (token) => {
        entry.token = token;
        entry.pending = undefined;
        return token;
      },
      (error: unknown) => {
        entry.pending = undefined;
        throw error;
      },
    );
    // A background refresh is awaited by nobody; its failure shows at the next waiting request.
    flight.catch(() => undefined);
    entry.pending = flight;
    return flight;
  }

  return {
    token(provider, fetch) {
      let entry = entries.get(provider.id);
      if (entry === undefined || entry.revision !== provider.revision) {
        // New or rotated: the old token (and any flight for it) is dropped with the old entry.
        entry = { revision: provider.revision, token: undefined, pending: undefined };
        entries.set(provider.id, entry);
      }
      const current = entry.token;
      const at = now();
      if (current !== undefined && at < current.refreshAt) return current.value;
      const flight = entry.pending ?? refresh(entry, provider, fetch);
      if (current !== undefined && at < current.usableUntil) return current.value;
      return flight.then((token) => token.value);
    },
  };
}

/** The config fields of an oauth2-client-credentials provider this module reads. */
interface OAuthConfig {
  readonly token_url: string;
  readonly client_id: string;
  readonly scopes: readonly string[];
  readonly audience?: string;
  readonly auth_method: 'client_secret_basic' | 'client_secret_post';
}

function oauthConfig(provider: UpstreamProvider): OAuthConfig {
  const c = provider.config;
  if (typeof c.token_url !== 'string' || typeof c.client_id !== 'string') {
    throw upstreamRefusal('provider_unavailable', `provider ${provider.name} has no token_url or client_id; set them (caracal providers update)`);
  }
  return {
    token_url: c.token_url,
    client_id: c.client_id,
    scopes: Array.isArray(c.scopes) ? c.scopes.filter((s): s is string => typeof s === 'string') : [],
    ...(typeof c.audience === 'string' ? { audience: c.audience } : {}),
    auth_method: c.auth_method === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic',
  };
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1 for HTTP Basic). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** One token request (RFC 6749 §4.4.2) with client_secret_basic or client_secret_post. */
async function requestToken(provider: UpstreamProvider, fetch: OutboundFetch, now: () => number): Promise<Token> {
  const config = oauthConfig(provider);
  const secret = provider.credentials.client_secret;
  if (secret === undefined) throw upstreamRefusal('provider_unavailable', `provider ${provider.name} has no client_secret; set it (caracal providers set-credentials)`);
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (config.scopes.length > 0) form.set('scope', config.scopes.join(' '));
  if (config.audience !== undefined) form.set('audience', config.audience);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (config.auth_method === 'client_secret_post') {
    form.set('client_id', config.client_id);
    form.set('client_secret', secret);
  } else {
    headers.authorization = `Basic ${Buffer.from(`${formEncode(config.client_id)}:${formEncode(secret)}`).toString('base64')}`;
  }
  const endpoint = `the token endpoint ${new URL(config.token_url).origin} of provider ${provider.name}`;
  const started = now();
  let status: number;
  let text: string;
  try {
    const response = await fetch(config.token_url, { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if ((error as { refusal?: unknown }).refusal === 'address_not_allowed') {
      throw upstreamRefusal('address_not_allowed', `${endpoint}: ${(error as Error).message}`, { cause: error });
    }
    throw upstreamRefusal('provider_token_unavailable', `${endpoint} could not be reached (${failureWords(error)})`, { cause: error });
  }
  if (status >= 400 && status < 500) {
    const code = oauthErrorCode(text);
    throw upstreamRefusal('provider_token_refused', `${endpoint} refused the client credentials with ${status}${code === undefined ? '' : ` (${code})`}`);
  }
  if (status < 200 || status > 299) {
    const what = status >= 300 && status < 400 ? 'a redirect, which the Gateway does not follow' : 'a server error';
    throw upstreamRefusal('provider_token_unavailable', `${endpoint} answered ${status} (${what})`);
  }
  const token = parseTokenResponse(text);
  if (token === undefined) throw upstreamRefusal('provider_token_unavailable', `${endpoint} answered 200 without a bearer access_token`);
  const lifetimeMs = token.expiresIn * 1000;
  const margin = Math.min(MAX_MARGIN_MS, lifetimeMs / 5);
  return { value: token.accessToken, refreshAt: started + lifetimeMs - margin, usableUntil: started + lifetimeMs - margin / 2 };
}

/** The access token and lifetime of a successful token response (RFC 6749 §5.1), or undefined. */
function parseTokenResponse(text: string): { accessToken: string; expiresIn: number } | undefined {
  if (text.length > MAX_RESPONSE_CHARS) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body as Record<string, unknown>;
  // RFC 6750 §2.1 b64token: what may follow "Bearer " in a header.
  if (typeof accessToken !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(accessToken) || accessToken.length > 16 * 1024) return undefined;
  if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) return undefined;
  const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : typeof expiresIn === 'string' && /^\d{1,9}$/.test(expiresIn) ? Number(expiresIn) : DEFAULT_LIFETIME_S;
  return { accessToken, expiresIn: seconds };
}

/** The OAuth `error` code of an error response (RFC 6749 §5.2), when it is a well-formed one. */
function oauthErrorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: unknown } | null)?.error;
    return typeof code === 'string' && /^[a-z0-9_.-]{1,64}$/i.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A network failure in words (its code, or "timed out"), never a response body. */
function failureWords(error: unknown): string {
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${TOKEN_TIMEOUT_MS / 1000} s`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'connection failed';
}
