import { CaracalError, type ErrorCode } from '../errors.js';

/**
 * The workload side of the token service (DESIGN.md §4): exchanges the app's client secret for one
 * access token per resource, caches each until shortly before it expires, and refreshes it once
 * however many callers ask at the same time. Global fetch by default, so the SDK has no dependency.
 * The secret travels only in the Authorization header and appears in no error.
 */

/** A token and when it stops being usable. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** Epoch milliseconds. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** When to fetch the next one (before expiry, so a call never carries an expired token). */
  readonly refreshAt: number;
}

export interface TokenClientOptions {
  readonly controlUrl: string;
  readonly clientId: string;
  /** The app's client secret: sent only in the Authorization header. */
  readonly clientSecret: string;
  /** Sent as X-Request-Id with every call, so the ledger links them (e.g. to one `caracal run`). */
  readonly requestId?: string;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** How to send the form (default: global fetch; `caracal run` passes node:http, which starts faster). */
  readonly post?: Post;
}

/** An HTTP answer as the token client needs it. */
export interface PostAnswer {
  readonly status: number;
  readonly requestId: string | null;
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
}

/** Sends one POST; rejects only when no answer came (network failure, time-out). */
export type Post = (url: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number) => Promise<PostAnswer>;

/** A Post over the global fetch. */
export const fetchPost: Post = async (url, headers, body, timeoutMs) => {
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    parsed = undefined;
  }
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: parsed };
};

/** Fetches and caches access tokens, one per resource. */
export interface TokenClient {
  /** The cached token until its refresh time, else a new one (one request in flight per resource). */
  token(resource: string, scopes?: readonly string[]): Promise<IssuedToken>;
  /** Forgets a resource's token (e.g. after the Gateway refused it), so the next call fetches one. */
  invalidate(resource: string): void;
}

/** A refusal by the token service or a failure to reach it, with the service's error and request ID. */
export class TokenRequestError extends CaracalError {
  /** The RFC 6749 error (`invalid_client`, `invalid_scope`, …), or `unreachable`. */
  readonly error: string;
  readonly requestId: string | null;
  /** The HTTP status of the answer (0 when there was none). */
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, facts: { error: string; requestId: string | null; httpStatus: number; hint: string; cause?: unknown }) {
    super(code, message, { hint: facts.hint, details: { error: facts.error, request_id: facts.requestId, status: facts.httpStatus }, cause: facts.cause });
    this.error = facts.error;
    this.requestId = facts.requestId;
    this.httpStatus = facts.httpStatus;
  }
}

/** The value of an HTTP Basic header for client credentials (RFC 6749 §2.3.1: each half form-encoded). */
export function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** When a token of this lifetime should be replaced: a fifth of its life early, at least 5 s, never before half-life. */
export function refreshTime(issuedAt: number, expiresAt: number): number {
  const lifetime = expiresAt - issuedAt;
  return Math.max(issuedAt + lifetime / 2, expiresAt - Math.max(5000, lifetime / 5));
}

/** Creates a token client for one app. */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const base = options.controlUrl.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const post = options.post ?? fetchPost;
  const authorization = basicCredentials(options.clientId, options.clientSecret);
  const cache = new Map<string, IssuedToken>();
  const inflight = new Map<string, Promise<IssuedToken>>();

  async function fetchToken(resource: string, scopes: readonly string[]): Promise<IssuedToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const headers: Record<string, string> = { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    const started = now();
    let answer: PostAnswer;
    try {
      answer = await post(`${base}/oauth2/token`, headers, form.toString(), timeoutMs);
    } catch (error) {
      throw unreachable(base, error);
    }
    const body = (answer.body !== null && typeof answer.body === 'object' ? answer.body : {}) as Record<string, unknown>;
    const requestId = typeof body.request_id === 'string' ? body.request_id : answer.requestId;
    if (answer.status !== 200 || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw refused(options.clientId, resource, answer.status, body, requestId);
    }
    const issuedAt = started;
    const expiresAt = started + body.expires_in * 1000;
    const granted = typeof body.scope === 'string' ? body.scope.split(' ').filter((s) => s !== '') : [...scopes];
    const token: IssuedToken = { accessToken: body.access_token, resource, scopes: granted, issuedAt, expiresAt, refreshAt: refreshTime(issuedAt, expiresAt) };
    cache.set(resource, token);
    return token;
  }

  function refresh(resource: string, scopes: readonly string[]): Promise<IssuedToken> {
    let pending = inflight.get(resource);
    if (pending === undefined) {
      pending = fetchToken(resource, scopes).finally(() => inflight.delete(resource));
      inflight.set(resource, pending);
    }
    return pending;
  }

  return {
    async token(resource, scopes = []) {
      const cached = cache.get(resource);
      const t = now();
      if (cached !== undefined && t < cached.refreshAt) return cached;
      // Due (or missing): every caller waits for the same one request, so a token handed out
      // always has at least a fifth of its life left (a file runtime relies on that).
      return refresh(resource, scopes);
    },
    invalidate(resource) {
      cache.delete(resource);
    },
  };
}

/** The error for a control plane that did not answer. */
export function unreachable(base: string, error: unknown): TokenRequestError {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  const code = networkCode(error);
  return new TokenRequestError(
    'CRC_SERVICE_UNAVAILABLE',
    timedOut ? `the control plane at ${base} did not answer in time` : `the control plane is not reachable at ${base}${code ? ` (${code})` : ''}`,
    {
      error: 'unreachable',
      requestId: null,
      httpStatus: 0,
      hint: 'start the stack with `caracal up` (check it with `caracal status`), or fix control_url in the profile',
      cause: error,
    },
  );
}

function refused(app: string, resource: string, status: number, body: Record<string, unknown>, requestId: string | null): TokenRequestError {
  const error = typeof body.error === 'string' ? body.error : `http_${status}`;
  // error_description is the service's own text: it never carries a secret.
  const description = typeof body.error_description === 'string' ? body.error_description : `HTTP ${status}`;
  const facts = { error, requestId, httpStatus: status };
  const ref = requestId ? ` (request ${requestId})` : '';
  if (error === 'invalid_client' && status === 401) {
    return new TokenRequestError('CRC_UNAUTHORIZED', `the control plane refused the client secret of app ${app} (invalid_client)${ref}: the app was revoked or its secret rotated, or the secret file holds another app's secret`, {
      ...facts,
      hint: `issue a new secret with \`caracal apps rotate-secret ${app} --zone <zone>\` and put it in the secret file, or re-run \`caracal setup … --rotate-secret --write-profile --overwrite\``,
    });
  }
  if (status === 429) {
    return new TokenRequestError('CRC_RATE_LIMITED', `the token service is refusing app ${app} for a while after failed attempts${ref}: ${description}`, { ...facts, hint: 'wait, then check the secret file' });
  }
  if (error === 'unauthorized_client') {
    return new TokenRequestError('CRC_FORBIDDEN', `app ${app} may not obtain tokens${ref}: ${description}`, { ...facts, hint: `enable it with \`caracal apps enable ${app} --zone <zone>\`` });
  }
  if (error === 'invalid_scope' || error === 'invalid_target') {
    return new TokenRequestError('CRC_FORBIDDEN', `no token for ${resource}: ${description} (${error})${ref}`, {
      ...facts,
      hint: requestId ? `see why with \`caracal explain ${requestId}\`; check the profile's scopes and the zone's active policy` : "check the profile's scopes and the zone's active policy",
    });
  }
  return new TokenRequestError(status >= 500 ? 'CRC_SERVICE_UNAVAILABLE' : 'CRC_BAD_REQUEST', `the token service answered ${status} for ${resource}: ${description} (${error})${ref}`, {
    ...facts,
    hint: 'check the control-plane log (`caracal logs control`)',
  });
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = current instanceof AggregateError ? current.errors[0] : current.cause;
  }
  return undefined;
}
