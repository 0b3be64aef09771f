import cluster from 'node:cluster';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import type { CliContext } from '../core/cli/context.js';
import { gatewayUrl, type Settings } from '../core/config/settings.js';
import type { Logger } from 'pino';
import { createLogger } from '../core/log/logger.js';
import { loadPlugins } from '../core/plugin/loader.js';
import type { ServeOptions } from '../core/plugin/types.js';
import { createPolicyService } from '../core/policy/policy-service.js';
import { untilSignal } from '../core/service/until-signal.js';
import { openStore } from '../core/store/open-store.js';
import { failingSinks } from '../core/audit/sink-status.js';
import { openAuditChannel } from './audit-channel.js';
import { CaracalError } from '../core/errors.js';
import { portInUseError } from '../core/stack/port-in-use.js';
import { redactString } from '../core/audit/redact.js';
import { homePaths } from '../core/config/paths.js';
import { deriveSubkeys, loadMasterKey } from '../core/crypto/master-key.js';
import type { Plugin } from '../core/plugin/types.js';
import { defaultUpstreamLimits, type UpstreamLimits } from './forward.js';
import { createOutbound } from './outbound.js';
import { createGatewayMetrics } from './metrics.js';
import { defaultGatewayLimits, type GatewayLimits, type PrepareGates } from './pipeline.js';
import { createGatewayRuntime } from './runtime.js';
import { createGatewayServer } from './server.js';
import { clusterMetrics, runGatewayPrimary, workerStopRequest } from './cluster.js';

/** The Gateway's limits (DESIGN.md §5): on requests, and on its calls to upstreams. */
export interface Limits {
  readonly request: GatewayLimits;
  readonly upstream: UpstreamLimits;
}

/** The environment variable of each limit; a name ending in _MS is milliseconds, _BYTES bytes. */
const REQUEST_LIMIT_ENV: { readonly [K in keyof GatewayLimits]: string } = {
  maxHeaderBytes: 'CARACAL_GATEWAY_MAX_HEADER_BYTES',
  maxTokenBytes: 'CARACAL_GATEWAY_MAX_TOKEN_BYTES',
  maxBodyBytes: 'CARACAL_GATEWAY_MAX_BODY_BYTES',
};
const UPSTREAM_LIMIT_ENV: { readonly [K in keyof UpstreamLimits]?: string } = {
  connectTimeoutMs: 'CARACAL_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS',
  headersTimeoutMs: 'CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS',
  idleTimeoutMs: 'CARACAL_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS',
};

/**
 * The limits: DESIGN.md §5 defaults (header block 16 KiB, token 4 KiB, body 10 MiB; upstream
 * connect 5 s, response headers 30 s, idle 60 s), each overridable by its environment variable
 * above, a whole number from 1.
 */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  return { request: limitsOf(defaultGatewayLimits, REQUEST_LIMIT_ENV, env), upstream: limitsOf(defaultUpstreamLimits, UPSTREAM_LIMIT_ENV, env) };
}

function limitsOf<T extends object>(defaults: T, variables: { readonly [K in keyof T]?: string }, env: NodeJS.ProcessEnv): T {
  const limits = { ...defaults };
  for (const field of Object.keys(variables) as (keyof T & string)[]) {
    const name = variables[field] as string;
    const text = env[name];
    if (text === undefined || text === '') continue;
    if (!/^[1-9][0-9]{0,8}$/.test(text)) {
      const unit = name.endsWith('_MS') ? 'milliseconds' : 'bytes';
      throw new CaracalError('CRC_CONFIG_INVALID', `${name} must be a whole number of ${unit} from 1, not "${text.slice(0, 20)}"`, {
        hint: `unset ${name} to use the default (${String(defaults[field])} ${unit})`,
      });
    }
    (limits as Record<string, unknown>)[field] = Number(text);
  }
  return limits;
}

/** How long a stopping Gateway lets in-flight requests finish, then how long it waits for their events. */
const DRAIN_MS = 10_000;
const RECORD_WAIT_MS = 5_000;

/**
 * Runs the Gateway in the foreground until SIGTERM/SIGINT: loads the snapshot, starts the audit
 * thread, serves, and on shutdown stops accepting, lets in-flight requests finish (10 s), waits
 * until each has queued its audit event, then flushes every event before exiting. Limits can be
 * changed through the environment (limitsFromEnv). With `gateway.workers` above 1 this process
 * supervises that many Gateway processes instead (cluster.ts).
 */
export async function runGateway(cli: CliContext, options: ServeOptions): Promise<void> {
  const settings = cli.settings({ gatewayHost: options.host, gatewayPort: options.port, gatewayWorkers: options.workers });
  const logger = createLogger({ name: 'gateway', level: settings.log_level });
  const { workers } = settings.gateway;
  if (cluster.isWorker) {
    const stopRequest = workerStopRequest();
    // The IPC channel to the primary would keep a worker alive after it stopped, or failed to start.
    return serve(cli, settings, logger, (stop) => stopRequest.then(stop)).finally(() => cluster.worker?.disconnect());
  }
  if (workers === 1) return serve(cli, settings, logger, untilSignal);
  return runGatewayPrimary(workers, logger, (port) => {
    logger.info({ url: gatewayUrl({ ...settings, gateway: { ...settings.gateway, port } }), workers }, 'gateway listening');
  });
}

/**
 * One Gateway process: a whole Gateway, alone or as one of the workers. `untilStop` resolves
 * after it has run `stop`, when it is time to stop (a signal, or the primary).
 */
async function serve(cli: CliContext, settings: Settings, logger: Logger, untilStop: (stop: (reason: string) => Promise<void>) => Promise<void>): Promise<void> {
  const limits = limitsFromEnv();
  const store = await openStore({ home: settings.home, databaseUrl: settings.database_url });
  const { driver, failures, plugins } = await loadPlugins({ builtins: cli.builtins, home: settings.home, mode: 'serve', driver: { onHookError: (error) => logger.warn({ code: error.code }, hookErrorText(error)) } });
  for (const failure of failures) logger.warn({ plugin: failure.name }, `plugin disabled: ${failure.error}`);
  const outbound = createOutbound(limits.upstream);
  const runtime = await createGatewayRuntime({
    store,
    policy: createPolicyService(store),
    sealKey: deriveSubkeys(loadMasterKey(homePaths(settings.home))).seal,
    outbound,
    onError: (error) => logger.error({ err: error }, 'state reload failed'),
  });
  const audit = await openAuditChannel({ home: settings.home, databaseUrl: settings.database_url }, (message) => logger.error(message));
  const metrics = createGatewayMetrics(() => runtime.verifier.stats());
  const metricsText = cluster.isWorker ? clusterMetrics(metrics.registry) : () => metrics.registry.metrics();
  const auditGauge = setInterval(() => metrics.audit(audit.stats()), 1000);
  auditGauge.unref();
  const { server, unrecorded } = createGatewayServer({
    state: () => runtime.state(),
    hooks: driver,
    prepare: prepareGates(plugins.map((p) => p.plugin)),
    limits: limits.request,
    record: (event) => audit.append(event),
    observe: (outcome) => metrics.observe(outcome),
    metrics: { contentType: metrics.registry.contentType, text: metricsText },
    degraded: () => failingSinks(audit.stats().sinks),
  });
  /** Stops what was started, in order; the audit writer last but the store, so every event is stored. */
  const release = async () => {
    clearInterval(auditGauge);
    runtime.stop();
    const stats = await audit.close();
    await outbound.close();
    await driver.runHook('teardown', { reason: 'shutdown' });
    await store.close();
    return stats;
  };
  server.listen(settings.gateway.port, settings.gateway.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await release();
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw portInUseError(settings.gateway.port, 'gateway', 'caracal serve gateway --port N, or CARACAL_GATEWAY_PORT=N, or [gateway] port = N in the home’s config.toml', error);
  }
  const address = server.address() as AddressInfo;
  const url = gatewayUrl({ ...settings, gateway: { ...settings.gateway, port: address.port } });
  logger.info({ url, ready: runtime.state().detail, ...(cluster.isWorker ? { worker: cluster.worker?.id } : {}) }, cluster.isWorker ? 'gateway worker listening' : 'gateway listening');

  await untilStop(async (reason) => {
    logger.info({ reason }, 'stopping: draining requests and flushing audit');
    server.close();
    server.closeIdleConnections();
    const drained = once(server, 'close');
    await Promise.race([drained, delay(DRAIN_MS, undefined, { ref: false })]);
    server.closeAllConnections();
    // Requests cut at the deadline end in the next ticks; their events are queued before the flush.
    const waitUntil = Date.now() + RECORD_WAIT_MS;
    while (unrecorded() > 0 && Date.now() < waitUntil) await delay(10);
    if (unrecorded() > 0) logger.error({ requests: unrecorded() }, 'requests still unrecorded at shutdown: their audit events are lost');
    const stats = await release();
    logger.info({ recorded: stats.recorded, dropped: stats.dropped }, 'stopped');
  });
}

/**
 * A plugin hook's failure as logged: the plugin's own error text masked where it looks like a
 * secret, and left out for `identify`, whose plugins handle callers' credentials and may quote one
 * in an error (the plugin and hook are still named).
 */
export function hookErrorText(error: CaracalError): string {
  const { plugin, hook } = (error.details ?? {}) as { plugin?: string; hook?: string };
  if (hook === 'identify') return `plugin "${plugin ?? '?'}" failed in hook identify (${error.code}; its message is not logged: it may quote a caller's credential)`;
  return redactString(error.message);
}

/**
 * When the pipeline runs `prepareUpstream` (gateway/pipeline.ts): for provider routes of a kind a
 * plugin contributes, and for every route only if a plugin implements the hook without
 * contributing providers (a generic header-editing plugin).
 */
export function prepareGates(plugins: readonly Plugin[]): PrepareGates {
  const implementers = plugins.filter((p) => p.hooks?.prepareUpstream !== undefined);
  return {
    providerKinds: new Set(implementers.flatMap((p) => (p.providers ?? []).map((c) => c.kind))),
    everyRoute: implementers.some((p) => (p.providers ?? []).length === 0),
  };
}
