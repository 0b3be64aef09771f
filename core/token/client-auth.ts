/**
 * Client authentication at the token endpoint (RFC 6749 §2.3.1): HTTP Basic or `client_id` and
 * `client_secret` in the form body, never both; and a brake on repeated failures.
 */

// The failure brake lives in its own module; the token endpoint imports both from here.
export { createAuthRateLimiter } from './auth-rate-limiter.js';
export type { AuthRateLimiter, AuthRateLimiterOptions, RateLimitDecision } from './auth-rate-limiter.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface ClientCredentials {
  readonly ok: true;
  readonly clientId: string;
  /** The presented secret: compare it in constant time, never log it. */
  readonly clientSecret: string;
  readonly method: ClientAuthMethod;
}

export interface ClientAuthFailure {
  readonly ok: false;
  /** The RFC 6749 §5.2 error code to answer with. */
  readonly error: 'invalid_request' | 'invalid_client';
  /** 400 for invalid_request, 401 for invalid_client (with `WWW-Authenticate: Basic`). */
  readonly status: 400 | 401;
  /** Safe to return: never contains the secret. */
  readonly message: string;
}

export type ClientAuthResult = ClientCredentials | ClientAuthFailure;

/** A parsed form body: a repeated field arrives as an array (fastify's formbody / querystring). */
export type FormBody = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ClientAuthInput {
  /** The Authorization header, if any. */
  readonly authorization?: string | undefined;
  readonly body?: FormBody | undefined;
}

const MAX_CREDENTIAL_CHARS = 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the client's credentials from the Authorization header (Basic) or the body. Per RFC 6749
 * §2.3.1 the client ID and secret are `application/x-www-form-urlencoded` before being joined
 * with ":" and base64-encoded, so each half is form-decoded here ("+" is a space, %XX a byte).
 */
export function parseClientCredentials(input: ClientAuthInput): ClientAuthResult {
  const body = input.body ?? {};
  const bodyId = single(body, 'client_id');
  const bodySecret = single(body, 'client_secret');
  if (bodyId === null || bodySecret === null) {
    return invalidRequest('client_id and client_secret may each appear only once in the request.');
  }
  const header = input.authorization?.trim();
  if (header !== undefined && header !== '') {
    const scheme = /^(\S+)\s+(\S+)$/.exec(header);
    if (scheme === null || scheme[1]?.toLowerCase() !== 'basic') {
      return invalidClient('The Authorization header must be "Basic <base64(client_id:client_secret)>" at the token endpoint.');
    }
    if (bodySecret !== undefined) {
      return invalidRequest(
        'The client authenticated twice (HTTP Basic and client_secret in the body); use exactly one method.',
      );
    }
    const basic = decodeBasic(scheme[2] ?? '');
    if (typeof basic === 'string') return invalidClient(basic);
    // RFC 6749 §3.2.1 lets a client also name itself in the body; it must be the same client.
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      return invalidRequest('client_id in the body differs from the client authenticated by HTTP Basic.');
    }
    return { ok: true, ...basic, method: 'client_secret_basic' };
  }
  if (bodyId === undefined || bodyId === '') {
    return invalidClient(
      'No client authentication: send HTTP Basic credentials or client_id and client_secret in the form body.',
    );
  }
  if (bodySecret === undefined || bodySecret === '') {
    return invalidClient('client_secret is missing: Caracal apps are confidential clients and must authenticate.');
  }
  if (bodyId.length > MAX_CREDENTIAL_CHARS || bodySecret.length > MAX_CREDENTIAL_CHARS) {
    return invalidClient('The client credentials are too long.');
  }
  return { ok: true, clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
}

function decodeBasic(encoded: string): { clientId: string; clientSecret: string } | string {
  if (encoded.length > 4 * MAX_CREDENTIAL_CHARS || !BASE64.test(encoded)) {
    return 'The HTTP Basic credentials are not valid base64.';
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'The HTTP Basic credentials must be client_id:client_secret.';
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || clientSecret === undefined) {
    return 'The HTTP Basic credentials are not correctly form-urlencoded (RFC 6749 §2.3.1).';
  }
  if (clientId === '' || clientSecret === '') return 'The HTTP Basic credentials need both a client_id and a client_secret.';
  if (clientId.length > MAX_CREDENTIAL_CHARS || clientSecret.length > MAX_CREDENTIAL_CHARS) {
    return 'The client credentials are too long.';
  }
  return { clientId, clientSecret };
}

function formDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The field's one value, `undefined` when absent, `null` when repeated. */
function single(body: FormBody, name: string): string | undefined | null {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 1) return value[0];
  return value.length === 0 ? undefined : null;
}

function invalidRequest(message: string): ClientAuthFailure {
  return { ok: false, error: 'invalid_request', status: 400, message };
}

function invalidClient(message: string): ClientAuthFailure {
  return { ok: false, error: 'invalid_client', status: 401, message };
}
