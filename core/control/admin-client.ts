import { clientUrl } from '../config/client-url.js';
import type { Settings } from '../config/settings.js';
import type { HomePaths } from '../config/paths.js';
import { CaracalError, errorCodes, type ErrorCode } from '../errors.js';
import { loadAdminToken } from './admin-auth.js';
import type { AppView, AppWithSecret } from './routes/apps.js';
import type { KeyRotationView, SigningKeyView } from './routes/keys.js';
import type { PolicyVersionView, PolicyView } from './routes/policies.js';
import type {
  ActivationView,
  ActiveView,
  DecisionView,
  MintDecisionView,
  PolicySetVersionView,
  PolicySetView,
  SimulationView,
} from './routes/policy-sets.js';
import type { ProviderView } from './routes/providers.js';
import type { ResourceView } from './routes/resources.js';
import type { RevocationResult, RevocationView } from './routes/revocations.js';
import type { zoneView } from './routes/zones.js';

export type ZoneView = ReturnType<typeof zoneView>;
export type {
  ActivationView,
  ActiveView,
  AppView,
  AppWithSecret,
  DecisionView,
  KeyRotationView,
  MintDecisionView,
  PolicySetVersionView,
  PolicySetView,
  PolicyVersionView,
  PolicyView,
  ProviderView,
  ResourceView,
  RevocationResult,
  RevocationView,
  SigningKeyView,
  SimulationView,
};

/** A page of a list, as the API returns it. */
export interface ApiPage<T> {
  readonly items: readonly T[];
  readonly next_cursor: string | null;
}

/** Paging of any list. */
export interface PageQuery {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ZoneInput {
  readonly name: string;
  readonly kind?: 'evaluation' | 'production';
  readonly description?: string;
  readonly allowed_private_hosts?: readonly string[];
}
export interface AppInput {
  readonly name: string;
  readonly description?: string;
}
export interface AppPatchInput {
  readonly name?: string;
  readonly description?: string;
  readonly disabled?: boolean;
}
export interface ResourceInput {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly scopes: readonly string[];
  readonly upstream_url: string;
  readonly provider?: string | null;
}
export type ResourcePatchInput = Partial<Omit<ResourceInput, 'id'>>;
export interface ProviderInput {
  readonly name: string;
  readonly kind: 'api-key' | 'bearer' | 'basic' | 'oauth2-client-credentials';
  readonly config?: Readonly<Record<string, unknown>>;
  /** Write-only: sealed by the control plane, never returned. */
  readonly credentials: Readonly<Record<string, string>>;
}
export interface ProviderPatchInput {
  readonly name?: string;
  readonly config?: Readonly<Record<string, unknown>>;
}
export interface PolicyInput {
  readonly name: string;
  readonly description?: string;
  readonly document?: string;
  readonly format?: 'toml' | 'json';
}
export interface PolicyDocumentInput {
  readonly source: string;
  readonly format?: 'toml' | 'json';
}
export interface PolicyMember {
  /** Policy ID or name. */
  readonly policy: string;
  /** The policy's latest version when absent. */
  readonly version?: number;
}
export interface PolicySetInput {
  readonly name: string;
  readonly description?: string;
  readonly policies?: readonly PolicyMember[];
}
export interface SimulationInput {
  readonly app: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly method?: string;
  readonly path?: string;
  readonly policy_set?: string;
  readonly version?: number;
}
export type RevocationInput =
  | { readonly kind: 'jti'; readonly value: string; readonly zone: string; readonly reason?: string }
  | { readonly kind: 'app'; readonly app: string; readonly zone: string; readonly reason?: string };

export interface AdminClientOptions {
  /** The control plane's base URL, e.g. http://127.0.0.1:4700. */
  readonly controlUrl: string;
  /** The admin token (secret: sent only in the Authorization header). */
  readonly adminToken: string;
  /** Per-request time limit in milliseconds (default 30 s). */
  readonly timeoutMs?: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface StreamOptions {
  readonly query?: Query;
  readonly accept: string;
  readonly signal?: AbortSignal;
  /** Sent as `Last-Event-ID`: an event stream resumes after that event. */
  readonly lastEventId?: string;
}

/** Typed access to the admin API (docs/admin-api.md), for the CLI and the console. */
export interface AdminClient {
  readonly controlUrl: string;
  /** Any admin API call; errors become CaracalErrors carrying the API's code and message. */
  request<T>(method: Method, path: string, options?: { readonly body?: unknown; readonly query?: Query }): Promise<T>;
  /** A streaming GET (`/v1/audit/stream`, `/v1/audit/export`): the open response, read until its end or until `signal` aborts; errors as `request`. */
  /** A streaming GET (server-sent events, NDJSON); `lastEventId` resumes an event stream. */
  stream(path: string, options: StreamOptions): Promise<Response>;
  readonly zones: {
    list(query?: PageQuery): Promise<ApiPage<ZoneView>>;
    get(zone: string): Promise<ZoneView>;
    create(input: ZoneInput): Promise<ZoneView>;
    update(zone: string, patch: Partial<ZoneInput>): Promise<ZoneView>;
    delete(zone: string): Promise<void>;
  };
  readonly apps: {
    list(zone: string, query?: PageQuery & { readonly disabled?: boolean }): Promise<ApiPage<AppView>>;
    get(zone: string, app: string): Promise<AppView>;
    /** The response carries `client_secret`, shown this once. */
    create(zone: string, input: AppInput): Promise<AppWithSecret>;
    update(zone: string, app: string, patch: AppPatchInput): Promise<AppView>;
    delete(zone: string, app: string): Promise<void>;
    rotateSecret(zone: string, app: string): Promise<AppWithSecret>;
    disable(zone: string, app: string): Promise<AppView>;
    enable(zone: string, app: string): Promise<AppView>;
  };
  readonly resources: {
    list(zone: string, query?: PageQuery): Promise<ApiPage<ResourceView>>;
    get(zone: string, resource: string): Promise<ResourceView>;
    create(zone: string, input: ResourceInput): Promise<ResourceView>;
    update(zone: string, resource: string, patch: ResourcePatchInput): Promise<ResourceView>;
    delete(zone: string, resource: string): Promise<void>;
  };
  readonly providers: {
    list(zone: string, query?: PageQuery): Promise<ApiPage<ProviderView>>;
    get(zone: string, provider: string): Promise<ProviderView>;
    create(zone: string, input: ProviderInput): Promise<ProviderView>;
    update(zone: string, provider: string, patch: ProviderPatchInput): Promise<ProviderView>;
    replaceCredentials(zone: string, provider: string, credentials: Readonly<Record<string, string>>): Promise<ProviderView>;
    delete(zone: string, provider: string): Promise<void>;
  };
  readonly policies: {
    list(zone: string, query?: PageQuery): Promise<ApiPage<PolicyView>>;
    get(zone: string, policy: string): Promise<PolicyView>;
    create(zone: string, input: PolicyInput): Promise<PolicyView & { readonly created_version: PolicyVersionView | null }>;
    /** Dry run: resolves when valid, rejects with CRC_POLICY_INVALID (details: line-precise problems) otherwise. */
    validate(zone: string, input: PolicyDocumentInput): Promise<{ readonly valid: true; readonly rules: readonly unknown[]; readonly rule_count: number }>;
    addVersion(zone: string, policy: string, input: PolicyDocumentInput): Promise<PolicyVersionView>;
    listVersions(zone: string, policy: string, query?: PageQuery): Promise<ApiPage<PolicyVersionView>>;
    getVersion(zone: string, policy: string, version: number): Promise<PolicyVersionView>;
  };
  readonly policySets: {
    list(zone: string, query?: PageQuery): Promise<ApiPage<PolicySetView>>;
    get(zone: string, set: string): Promise<PolicySetView>;
    create(zone: string, input: PolicySetInput): Promise<PolicySetView & { readonly created_version: PolicySetVersionView | null }>;
    addVersion(zone: string, set: string, policies: readonly PolicyMember[]): Promise<PolicySetVersionView>;
    listVersions(zone: string, set: string, query?: PageQuery): Promise<ApiPage<PolicySetVersionView>>;
    getVersion(zone: string, set: string, version: number): Promise<PolicySetVersionView>;
    /** Activates a version (the latest when absent); returns the new and the previous pointer. */
    activate(zone: string, set: string, version?: number): Promise<ActivationView>;
  };
  readonly policy: {
    active(zone: string): Promise<{ readonly active: ActiveView | null }>;
    rollback(zone: string): Promise<ActivationView>;
    simulate(zone: string, input: SimulationInput): Promise<SimulationView>;
  };
  readonly revocations: {
    /** For an app (kill switch) the response carries the app's new `client_secret`, shown this once. */
    create(input: RevocationInput): Promise<RevocationResult>;
    list(query?: PageQuery & { readonly zone?: string }): Promise<ApiPage<RevocationView>>;
  };
  readonly keys: {
    list(zone: string): Promise<{ readonly items: readonly SigningKeyView[] }>;
    rotate(zone: string): Promise<KeyRotationView>;
  };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** The network error code under a fetch failure (undici wraps it in `cause`, sometimes in an AggregateError). */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const inner: unknown = current instanceof AggregateError ? current.errors[0] : current.cause;
    current = inner;
  }
  return undefined;
}

function statusCode(status: number): ErrorCode {
  if (status === 400) return 'CRC_BAD_REQUEST';
  if (status === 401) return 'CRC_UNAUTHORIZED';
  if (status === 403) return 'CRC_FORBIDDEN';
  if (status === 404) return 'CRC_NOT_FOUND';
  if (status === 409) return 'CRC_CONFLICT';
  if (status === 413) return 'CRC_PAYLOAD_TOO_LARGE';
  if (status === 415) return 'CRC_UNSUPPORTED_MEDIA_TYPE';
  if (status === 422) return 'CRC_VALIDATION';
  if (status === 503) return 'CRC_SERVICE_UNAVAILABLE';
  return 'CRC_INTERNAL';
}

/** Turns an API error response into the CaracalError it describes (code, message, details, hint). */
async function apiError(response: Response, method: Method, path: string): Promise<CaracalError> {
  let body: { error?: unknown; message?: unknown; details?: unknown; hint?: unknown; request_id?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's error page, say): fall back to the status.
  }
  const code = typeof body.error === 'string' && body.error in errorCodes ? (body.error as ErrorCode) : statusCode(response.status);
  const message = typeof body.message === 'string' ? body.message : `${method} ${path} failed with HTTP ${response.status}`;
  const requestId = typeof body.request_id === 'string' ? body.request_id : undefined;
  return new CaracalError(code, message, {
    ...(body.details === undefined ? {} : { details: body.details }),
    ...(typeof body.hint === 'string' ? { hint: body.hint } : requestId && response.status >= 500 ? { hint: `the control-plane log has the details under request ID ${requestId}` } : {}),
  });
}

const seg = encodeURIComponent;

/** Creates an admin API client over global fetch; connection failures say how to start the control plane. */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const base = options.controlUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request<T>(method: Method, path: string, init: { readonly body?: unknown; readonly query?: Query } = {}): Promise<T> {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${options.adminToken}`, accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `control plane at ${base} did not answer ${method} ${path} within ${timeoutMs} ms`, {
          cause: error,
          hint: 'check `caracal status` and the control-plane log (`caracal logs control`)',
        });
      }
      const code = networkCode(error);
      throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `control plane not reachable at ${base}; start it with \`caracal up\``, {
        cause: error,
        ...(code === undefined ? {} : { details: { code } }),
        hint: 'or point the CLI at a running control plane with --control-url or CARACAL_CONTROL_URL',
      });
    }
    if (!response.ok) throw await apiError(response, method, path);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async function stream(path: string, init: StreamOptions): Promise<Response> {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let response: Response;
    try {
      const headers: Record<string, string> = { authorization: `Bearer ${options.adminToken}`, accept: init.accept };
      if (init.lastEventId !== undefined) headers['last-event-id'] = init.lastEventId;
      response = await fetch(url, { headers, ...(init.signal === undefined ? {} : { signal: init.signal }) });
    } catch (error) {
      throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `control plane not reachable at ${base}; start it with \`caracal up\``, { cause: error });
    }
    if (!response.ok || response.body === null) throw await apiError(response, 'GET', path);
    return response;
  }

  const z = (zone: string) => `/v1/zones/${seg(zone)}`;
  const get = <T>(path: string, query?: Query) => request<T>('GET', path, query === undefined ? {} : { query });
  const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body === undefined ? {} : { body });
  const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
  const del = (path: string) => request<void>('DELETE', path);
  const page = (query: PageQuery | undefined): Query => ({ limit: query?.limit, cursor: query?.cursor });

  return {
    controlUrl: base,
    request,
    stream,
    zones: {
      list: (query) => get('/v1/zones', page(query)),
      get: (zone) => get(z(zone)),
      create: (input) => post('/v1/zones', input),
      update: (zone, body) => patch(z(zone), body),
      delete: (zone) => del(z(zone)),
    },
    apps: {
      list: (zone, query) => get(`${z(zone)}/apps`, { ...page(query), disabled: query?.disabled }),
      get: (zone, app) => get(`${z(zone)}/apps/${seg(app)}`),
      create: (zone, input) => post(`${z(zone)}/apps`, input),
      update: (zone, app, body) => patch(`${z(zone)}/apps/${seg(app)}`, body),
      delete: (zone, app) => del(`${z(zone)}/apps/${seg(app)}`),
      rotateSecret: (zone, app) => post(`${z(zone)}/apps/${seg(app)}/rotate-secret`),
      disable: (zone, app) => post(`${z(zone)}/apps/${seg(app)}/disable`),
      enable: (zone, app) => post(`${z(zone)}/apps/${seg(app)}/enable`),
    },
    resources: {
      list: (zone, query) => get(`${z(zone)}/resources`, page(query)),
      get: (zone, resource) => get(`${z(zone)}/resources/${seg(resource)}`),
      create: (zone, input) => post(`${z(zone)}/resources`, input),
      update: (zone, resource, body) => patch(`${z(zone)}/resources/${seg(resource)}`, body),
      delete: (zone, resource) => del(`${z(zone)}/resources/${seg(resource)}`),
    },
    providers: {
      list: (zone, query) => get(`${z(zone)}/providers`, page(query)),
      get: (zone, provider) => get(`${z(zone)}/providers/${seg(provider)}`),
      create: (zone, input) => post(`${z(zone)}/providers`, input),
      update: (zone, provider, body) => patch(`${z(zone)}/providers/${seg(provider)}`, body),
      replaceCredentials: (zone, provider, credentials) =>
        request('PUT', `${z(zone)}/providers/${seg(provider)}/credentials`, { body: credentials }),
      delete: (zone, provider) => del(`${z(zone)}/providers/${seg(provider)}`),
    },
    policies: {
      list: (zone, query) => get(`${z(zone)}/policies`, page(query)),
      get: (zone, policy) => get(`${z(zone)}/policies/${seg(policy)}`),
      create: (zone, input) => post(`${z(zone)}/policies`, input),
      validate: (zone, input) => post(`${z(zone)}/policies/validate`, input),
      addVersion: (zone, policy, input) => post(`${z(zone)}/policies/${seg(policy)}/versions`, input),
      listVersions: (zone, policy, query) => get(`${z(zone)}/policies/${seg(policy)}/versions`, page(query)),
      getVersion: (zone, policy, version) => get(`${z(zone)}/policies/${seg(policy)}/versions/${version}`),
    },
    policySets: {
      list: (zone, query) => get(`${z(zone)}/policy-sets`, page(query)),
      get: (zone, set) => get(`${z(zone)}/policy-sets/${seg(set)}`),
      create: (zone, input) => post(`${z(zone)}/policy-sets`, input),
      addVersion: (zone, set, policies) => post(`${z(zone)}/policy-sets/${seg(set)}/versions`, { policies }),
      listVersions: (zone, set, query) => get(`${z(zone)}/policy-sets/${seg(set)}/versions`, page(query)),
      getVersion: (zone, set, version) => get(`${z(zone)}/policy-sets/${seg(set)}/versions/${version}`),
      activate: (zone, set, version) => post(`${z(zone)}/policy-sets/${seg(set)}/activate`, version === undefined ? {} : { version }),
    },
    policy: {
      active: (zone) => get(`${z(zone)}/policy/active`),
      rollback: (zone) => post(`${z(zone)}/policy/rollback`),
      simulate: (zone, input) => post(`${z(zone)}/policy/simulate`, input),
    },
    revocations: {
      create: (input) => post('/v1/revocations', input),
      list: (query) => get('/v1/revocations', { ...page(query), zone: query?.zone }),
    },
    keys: {
      list: (zone) => get(`${z(zone)}/keys`),
      rotate: (zone) => post(`${z(zone)}/keys/rotate`),
    },
  };
}

/** Where a client finds the control plane and its admin token. */
export interface AdminConnectionInput {
  readonly settings: Settings;
  readonly paths: Pick<HomePaths, 'adminToken'>;
  readonly env?: NodeJS.ProcessEnv;
  /** `--control-url`: wins over CARACAL_CONTROL_URL, the config file, the running stack and the default (`clientUrl`). */
  readonly controlUrl?: string | undefined;
  /** `--admin-token-file`: wins over CARACAL_ADMIN_TOKEN and CARACAL_HOME/admin-token. */
  readonly adminTokenFile?: string | undefined;
}

/**
 * Resolves the control URL (`clientUrl`: flag > settings URL > running stack > port) and the admin token (flag file > CARACAL_ADMIN_TOKEN
 * > CARACAL_HOME/admin-token, never argv) and creates the client.
 */
export function connectAdminClient(input: AdminConnectionInput): AdminClient {
  const url = clientUrl(input.settings, 'control', input.controlUrl);
  try {
    new URL(url);
  } catch {
    throw new CaracalError('CRC_USAGE', `"${url.slice(0, 200)}" is not a control-plane URL`, { hint: 'use e.g. --control-url http://127.0.0.1:4700' });
  }
  const adminToken =
    input.adminTokenFile === undefined
      ? loadAdminToken(input.paths.adminToken, input.env ?? process.env, false)
      : loadAdminToken(input.adminTokenFile, {}, false);
  if (adminToken === '') {
    throw new CaracalError('CRC_UNAUTHORIZED', 'the admin token file is empty', { hint: 'restart the stack with `caracal up`, or set CARACAL_ADMIN_TOKEN' });
  }
  return createAdminClient({ controlUrl: url, adminToken });
}
