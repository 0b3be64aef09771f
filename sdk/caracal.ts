import { isResourceId, normalizeResourceId } from '../core/domain/ids.js';
import { CaracalError } from '../core/errors.js';
import { loadProfile } from '../core/profile/load-profile.js';
import type { Profile, ProfileCredential } from '../core/profile/profile.js';
import { readSecretFile } from '../core/profile/secret-file.js';
import { createTokenClient, type TokenClient } from '../core/run/token-client.js';
import { CaracalGatewayError, isGatewayRefusal } from './errors.js';

export interface CaracalOptions {
  /** A profile path; else CARACAL_CONFIG, else `<config dir>/caracal.toml` (as `caracal run`). */
  readonly profile?: string;
  /** The environment the lookup reads (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Statuses a Gateway refusal can have (DESIGN.md §5). */
const REFUSAL_STATUSES = new Set([400, 401, 403, 404, 413, 431, 502, 504]);

/**
 * The TypeScript SDK (DESIGN.md §8): reads the runtime profile, exchanges the app secret for
 * short-lived tokens (one per resource, cached, replaced before expiry, one request at a time),
 * and calls resources through the Gateway.
 *
 *   const caracal = new Caracal();
 *   const res = await caracal.fetch('billing-api', '/invoices');
 */
export class Caracal {
  /** The loaded profile (paths, IDs, URLs, credentials; never the secret). */
  readonly profile: Profile;
  readonly #tokens: TokenClient;

  constructor(options: CaracalOptions = {}) {
    this.profile = loadProfile(options.profile, options.env ?? process.env);
    this.#tokens = createTokenClient({
      controlUrl: this.profile.controlUrl,
      clientId: this.profile.applicationId,
      clientSecret: readSecretFile(this.profile.clientSecretFile),
    });
  }

  /** The Gateway's base URL. */
  get gatewayUrl(): string {
    return this.profile.gatewayUrl;
  }

  /** A current access token for a resource the profile lists (`resource://slug` or `slug`). */
  async token(resource: string): Promise<string> {
    const credential = this.#credential(resource);
    return (await this.#tokens.token(credential.resource, credential.scopes)).accessToken;
  }

  /**
   * Calls `path` of a resource through the Gateway with the token and `X-Caracal-Resource`. The
   * upstream's answer comes back as a Response, whatever its status; a refusal by the Gateway
   * itself throws CaracalGatewayError (with the request ID for `caracal explain`). A token the
   * Gateway no longer accepts is replaced and the call retried once, unless the body is a stream.
   */
  async fetch(resource: string, path: string, init: RequestInit = {}): Promise<Response> {
    if (!path.startsWith('/')) throw new CaracalError('CRC_USAGE', `the path must start with "/", got "${path.slice(0, 80)}"`);
    const credential = this.#credential(resource);
    const replayable = !(init.body instanceof ReadableStream);
    for (let attempt = 1; ; attempt++) {
      const token = await this.#tokens.token(credential.resource, credential.scopes);
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token.accessToken}`);
      headers.set('x-caracal-resource', credential.resource);
      const response = await fetch(`${this.profile.gatewayUrl}${path}`, { ...init, headers });
      const refusal = await refusalOf(response);
      if (refusal === undefined) return response;
      if (refusal.status === 401 && attempt === 1 && replayable) {
        this.#tokens.invalidate(credential.resource);
        await response.body?.cancel();
        continue;
      }
      throw refusal;
    }
  }

  #credential(resource: string): ProfileCredential {
    const id = isResourceId(resource) ? normalizeResourceId(resource) : resource;
    const credential = this.profile.credentials.find((c) => c.resource === id);
    if (credential === undefined) {
      throw new CaracalError('CRC_USAGE', `resource ${id.slice(0, 100)} is not in the profile ${this.profile.path}`, {
        hint: `the profile lists ${this.profile.credentials.map((c) => c.resource).join(', ')}; add a [[credentials]] table for it`,
      });
    }
    return credential;
  }
}

/** The Gateway's refusal in a response, if it is one (the body stays readable either way). */
async function refusalOf(response: Response): Promise<CaracalGatewayError | undefined> {
  if (!REFUSAL_STATUSES.has(response.status) || !(response.headers.get('content-type') ?? '').startsWith('application/json')) return undefined;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return undefined;
  }
  return isGatewayRefusal(body) ? new CaracalGatewayError(response.status, body) : undefined;
}
