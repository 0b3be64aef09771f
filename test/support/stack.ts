/**
 * A real Caracal stack for end-to-end tests and benchmarks: `caracal serve control` and `caracal
 * serve gateway` as child processes of the built CLI (`node bin/caracal.js`, so `dist/` must be
 * built: the vitest global setup does it), on free loopback ports, in a temporary CARACAL_HOME.
 *
 *   const stack = await startStack();
 *   const seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
 *   const token = await stack.mint(seeded);
 *   await fetch(`${stack.gatewayUrl}/v1/x`, { headers: stack.gatewayHeaders(seeded, token) });
 *   await stack.stop();
 *
 * Everything goes through the public surfaces (admin API, token endpoint), as an operator and a
 * workload would; nothing is written to the store behind the services' backs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder up with bin/caracal.js (this file also runs from dist/ in benchmarks). */
const ROOT = projectRoot(fileURLToPath(new URL('.', import.meta.url)));
const BIN = join(ROOT, 'bin', 'caracal.js');
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** Kept from each service's output, for failure messages. */
const LOG_TAIL_CHARS = 20_000;

export interface StackOptions {
  /** Reuse this CARACAL_HOME (e.g. to restart a stack); default: a fresh temp dir, removed by stop(). */
  readonly home?: string;
  /** Extra environment for both services. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra environment for the Gateway only (e.g. CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  /** Extra environment for the control plane only. */
  readonly controlEnv?: Readonly<Record<string, string>>;
  /** Node flags for the Gateway process (e.g. `['--cpu-prof', '--cpu-prof-dir=/tmp/prof']`). */
  readonly gatewayNodeArgs?: readonly string[];
}

/** One rule of a seeded policy (DESIGN.md §6); apps and resources default to the seeded ones. */
export interface SeedRule {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly scopes: readonly string[];
  readonly apps?: readonly string[];
  readonly resources?: readonly string[];
  readonly methods?: readonly string[];
  readonly paths?: readonly string[];
}

export interface SeedOptions {
  readonly upstreamUrl: string;
  readonly scopes: readonly string[];
  /**
   * The policy's rules, given the seeded IDs. Default: one `starter` rule allowing the app every
   * method on every path of the resource with all `scopes`.
   */
  readonly rules?: (ids: { readonly appId: string; readonly resourceId: string }) => readonly SeedRule[];
  /** Zone name (default `demo`); a zone that already exists is reused. */
  readonly zone?: string;
  /** App name (default `agent`). */
  readonly app?: string;
  /** Resource slug (default `billing-api`). */
  readonly resource?: string;
  /** A provider of the zone (ID or name) whose credential the Gateway injects for the resource. */
  readonly provider?: string;
}

/** What seedInternalApi created. `clientSecret` is the app's secret, shown once by the API. */
export interface Seeded {
  readonly zoneId: string;
  readonly zoneName: string;
  readonly appId: string;
  readonly clientSecret: string;
  /** `resource://<slug>` */
  readonly resourceId: string;
  readonly scopes: readonly string[];
  readonly policyName: string;
  readonly policySetName: string;
  readonly policySetVersion: number;
}

/** An admin API answer: status and parsed JSON body (an empty object for an empty body). */
export interface AdminReply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

export interface MintOptions {
  readonly appId: string;
  readonly clientSecret: string;
  readonly resourceId: string;
  /** Requested scopes; none lets the token endpoint decide (what the policy grants). */
  readonly scopes?: readonly string[];
}

export interface Stack {
  readonly home: string;
  readonly controlUrl: string;
  readonly gatewayUrl: string;
  readonly adminToken: string;
  /** The database file the ledger lives in (SQLite). */
  readonly databasePath: string;
  /** The Gateway's process ID (benchmarks read its CPU time). */
  readonly gatewayPid: number;
  /** Calls the admin API with the admin token; JSON in, JSON out; never throws on a status. */
  admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<AdminReply<T>>;
  /** Like admin(), but throws (with the body) unless the status is 2xx. */
  adminOk<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** The walkthrough of DESIGN.md §1 through the admin API: zone, app, resource, policy, active policy set. */
  seedInternalApi(options: SeedOptions): Promise<Seeded>;
  /** Publishes new rules as the next version of the seeded policy and activates them. */
  replaceRules(seeded: Seeded, rules: readonly SeedRule[]): Promise<void>;
  /** Exchanges the app secret for an access token (POST /oauth2/token, client credentials). */
  mint(options: MintOptions | Seeded): Promise<string>;
  /** The two headers a Gateway call needs. */
  gatewayHeaders(seeded: Pick<Seeded, 'resourceId'>, token: string): Record<string, string>;
  /** Both services' recent output (for assertion messages). */
  logs(): { readonly control: string; readonly gateway: string };
  /**
   * SIGTERM to the control plane, runs `whileDown`, then starts it again on the same port and waits
   * until it is ready; resolves with the stopped process's exit code (null when it had to be killed).
   */
  restartControl(whileDown?: () => Promise<void>): Promise<number | null>;
  /** SIGTERM to the Gateway only; resolves with its exit code once it has exited (audit flushed). */
  stopGateway(): Promise<number | null>;
  /** SIGTERM to both, waits for both to exit, removes the temp home (unless `home` was given). */
  stop(): Promise<void>;
}

/** A child service and the tail of its output. */
interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts control and Gateway on free ports and waits until both are ready. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownHome = options.home === undefined;
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'caracal-stack-'));
  const [controlPort, gatewayPort] = [await freePort(), await freePort()];
  const controlUrl = `http://127.0.0.1:${controlPort}`;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, CARACAL_HOME: home, CARACAL_LOG_LEVEL: 'warn', ...options.env };
  for (const name of ['CARACAL_CONFIG', 'CARACAL_ADMIN_TOKEN', 'CARACAL_DATABASE_URL', 'CARACAL_CONTROL_URL', 'CARACAL_GATEWAY_URL']) {
    if (options.env?.[name] === undefined) delete baseEnv[name];
  }

  const services: Service[] = [];
  const stopAll = async () => {
    await Promise.all(services.map((s) => terminate(s)));
    if (ownHome) rmSync(home, { recursive: true, force: true });
  };
  try {
    // Control first: it creates the admin token, the master key and the issuer the Gateway reads.
    const startControl = async () => {
      const started = spawnService('control', home, controlPort, { ...baseEnv, ...options.controlEnv }, []);
      services.push(started);
      await waitReady(started, `${controlUrl}/readyz`);
      return started;
    };
    let control = await startControl();
    const gateway = spawnService('gateway', home, gatewayPort, { ...baseEnv, ...options.gatewayEnv }, options.gatewayNodeArgs ?? []);
    services.push(gateway);
    await waitReady(gateway, `${gatewayUrl}/_caracal/readyz`);
    const adminToken = options.env?.CARACAL_ADMIN_TOKEN ?? readFileSync(join(home, 'admin-token'), 'utf8').trim();
    const restartControl = async (whileDown?: () => Promise<void>) => {
      const code = await terminate(control);
      await whileDown?.();
      control = await startControl();
      return code;
    };
    return makeStack({ home, controlUrl, gatewayUrl, adminToken, control: () => control, restartControl, gateway, stopAll });
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function makeStack(parts: {
  home: string;
  controlUrl: string;
  gatewayUrl: string;
  adminToken: string;
  control: () => Service;
  restartControl: (whileDown?: () => Promise<void>) => Promise<number | null>;
  gateway: Service;
  stopAll: () => Promise<void>;
}): Stack {
  const { controlUrl, adminToken } = parts;
  let stopped: Promise<void> | undefined;

  async function admin<T>(method: string, path: string, body?: unknown): Promise<AdminReply<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(controlUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  async function adminOk<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await admin<T>(method, path, body);
    if (reply.status < 200 || reply.status > 299) {
      throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    }
    return reply.body;
  }

  async function seedInternalApi(options: SeedOptions): Promise<Seeded> {
    const zoneName = options.zone ?? 'demo';
    const existing = await admin<{ id: string }>('GET', `/v1/zones/${zoneName}`);
    const zone = existing.status === 200 ? existing.body : await adminOk<{ id: string }>('POST', '/v1/zones', { name: zoneName });
    const Z = `/v1/zones/${zoneName}`;
    const app = await adminOk<{ id: string; client_secret: string }>('POST', `${Z}/apps`, { name: options.app ?? 'agent' });
    const resource = await adminOk<{ id: string }>('POST', `${Z}/resources`, {
      id: options.resource ?? 'billing-api',
      scopes: options.scopes,
      upstream_url: options.upstreamUrl,
      ...(options.provider === undefined ? {} : { provider: options.provider }),
    });
    const ids = { appId: app.id, resourceId: resource.id };
    const rules = options.rules?.(ids) ?? [{ id: 'starter', effect: 'allow', scopes: options.scopes, paths: ['/**'] }];
    const suffix = (options.resource ?? 'billing-api').replace(/[^a-z0-9]/g, '-');
    const policyName = `policy-${suffix}`;
    const policySetName = `set-${suffix}`;
    await adminOk('POST', `${Z}/policies`, { name: policyName, format: 'json', document: policyDocument(rules, ids) });
    await adminOk('POST', `${Z}/policy-sets`, { name: policySetName });
    const setVersion = await adminOk<{ version: number }>('POST', `${Z}/policy-sets/${policySetName}/versions`, {
      policies: [{ policy: policyName, version: 1 }],
    });
    await adminOk('POST', `${Z}/policy-sets/${policySetName}/activate`, { version: setVersion.version });
    return {
      zoneId: zone.id,
      zoneName,
      appId: app.id,
      clientSecret: app.client_secret,
      resourceId: resource.id,
      scopes: options.scopes,
      policyName,
      policySetName,
      policySetVersion: setVersion.version,
    };
  }

  async function replaceRules(seeded: Seeded, rules: readonly SeedRule[]): Promise<void> {
    const Z = `/v1/zones/${seeded.zoneName}`;
    const ids = { appId: seeded.appId, resourceId: seeded.resourceId };
    const version = await adminOk<{ version: number }>('POST', `${Z}/policies/${seeded.policyName}/versions`, {
      format: 'json',
      source: policyDocument(rules, ids),
    });
    const setVersion = await adminOk<{ version: number }>('POST', `${Z}/policy-sets/${seeded.policySetName}/versions`, {
      policies: [{ policy: seeded.policyName, version: version.version }],
    });
    await adminOk('POST', `${Z}/policy-sets/${seeded.policySetName}/activate`, { version: setVersion.version });
  }

  async function mint(options: MintOptions | Seeded): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource: options.resourceId });
    if (options.scopes !== undefined && options.scopes.length > 0) form.set('scope', options.scopes.join(' '));
    const basic = Buffer.from(`${encodeURIComponent(options.appId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64');
    const response = await fetch(`${controlUrl}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const body = (await response.json()) as { access_token?: string };
    if (response.status !== 200 || typeof body.access_token !== 'string') {
      throw new Error(`POST /oauth2/token answered ${response.status}: ${JSON.stringify(body)}`);
    }
    return body.access_token;
  }

  return {
    home: parts.home,
    controlUrl,
    gatewayUrl: parts.gatewayUrl,
    adminToken,
    databasePath: join(parts.home, 'caracal.db'),
    gatewayPid: parts.gateway.child.pid ?? 0,
    admin,
    adminOk,
    seedInternalApi,
    replaceRules,
    mint,
    gatewayHeaders: (seeded, token) => ({ authorization: `Bearer ${token}`, 'x-caracal-resource': seeded.resourceId }),
    logs: () => ({ control: parts.control().output(), gateway: parts.gateway.output() }),
    restartControl: parts.restartControl,
    stopGateway: () => terminate(parts.gateway),
    stop: () => (stopped ??= parts.stopAll()),
  };
}

/** A JSON policy document with the seeded app and resource filled in where a rule names none. */
function policyDocument(rules: readonly SeedRule[], ids: { appId: string; resourceId: string }): string {
  return JSON.stringify({
    rules: rules.map((rule) => ({ ...rule, apps: rule.apps ?? [ids.appId], resources: rule.resources ?? [ids.resourceId] })),
  });
}

function spawnService(name: 'control' | 'gateway', home: string, port: number, env: NodeJS.ProcessEnv, nodeArgs: readonly string[]): Service {
  const child = spawn(process.execPath, [...nodeArgs, BIN, '--home', home, 'serve', name, '--port', String(port)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return { name, child, exited, output: () => tail };
}

async function waitReady(service: Service, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  let exited = false;
  void service.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const why = exited ? `exited with ${String(service.child.exitCode ?? service.child.signalCode)}` : `not ready after ${READY_TIMEOUT_MS} ms (${last})`;
  throw new Error(`caracal serve ${service.name} ${why}; its output:\n${service.output()}`);
}

async function terminate(service: Service): Promise<number | null> {
  const { child } = service;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await service.exited;
    } finally {
      clearTimeout(timer);
    }
  }
  return service.exited;
}

/** A TCP port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'caracal.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no bin/caracal.js above ${from}`);
  }
}
