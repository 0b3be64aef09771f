import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { CliContext } from '../core/cli/context.js';
import { gatewayUrl } from '../core/config/settings.js';
import { createLogger } from '../core/log/logger.js';
import { loadPlugins } from '../core/plugin/loader.js';
import type { ServeOptions } from '../core/plugin/types.js';
import { createPolicyService } from '../core/policy/policy-service.js';
import { untilSignal } from '../core/service/until-signal.js';
import { openStore } from '../core/store/open-store.js';
import { failingSinks } from '../core/audit/sink-status.js';
import { openAuditChannel } from './audit-channel.js';
import { CaracalError } from '../core/errors.js';
import { homePaths } from '../core/config/paths.js';
import { deriveSubkeys, loadMasterKey } from '../core/crypto/master-key.js';
import type { Plugin } from '../core/plugin/types.js';
import { defaultUpstreamLimits, type UpstreamLimits } from './forward.js';
import { createOutbound } from './outbound.js';
import { createGatewayMetrics } from './metrics.js';
import { defaultGatewayLimits, type PrepareGates } from './pipeline.js';
import { createGatewayRuntime } from './runtime.js';
import { createGatewayServer } from './server.js';

/** Header block limit (DESIGN.md §5). */
const MAX_HEADER_BYTES = 16 * 1024;

/** Environment overrides of the upstream timeouts (milliseconds), e.g. for tests of a slow upstream. */
const UPSTREAM_TIMEOUT_ENV = {
  CARACAL_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: 'connectTimeoutMs',
  CARACAL_GATEWAY_UPSTREAM_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  CARACAL_GATEWAY_UPSTREAM_IDLE_TIMEOUT_MS: 'idleTimeoutMs',
} as const;

/**
 * The upstream limits: DESIGN.md §5 defaults (connect 5 s, response headers 30 s, idle 60 s),
 * each overridable by its environment variable above, a whole number of milliseconds from 1.
 */
export function upstreamLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): UpstreamLimits {
  const limits: { -readonly [K in keyof UpstreamLimits]: number } = { ...defaultUpstreamLimits };
  for (const [name, field] of Object.entries(UPSTREAM_TIMEOUT_ENV)) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    if (!/^[1-9][0-9]{0,8}$/.test(text)) {
      throw new CaracalError('CRC_CONFIG_INVALID', `${name} must be a whole number of milliseconds from 1, not "${text.slice(0, 20)}"`, {
        hint: `unset ${name} to use the default (${defaultUpstreamLimits[field]} ms)`,
      });
    }
    limits[field] = Number(text);
  }
  return limits;
}

/**
 * Runs the Gateway in the foreground until SIGTERM/SIGINT: loads the snapshot, starts the audit
 * thread, serves, and on shutdown stops accepting, lets in-flight requests finish, then flushes
 * every audit event before exiting. Upstream timeouts can be changed through the environment
 * (see upstreamLimitsFromEnv: CARACAL_GATEWAY_UPSTREAM_{CONNECT,HEADERS,IDLE}_TIMEOUT_MS).
 */
export async function runGateway(cli: CliContext, options: ServeOptions): Promise<void> {
  const settings = cli.settings({ gatewayHost: options.host, gatewayPort: options.port });
  const logger = createLogger({ name: 'gateway', level: settings.log_level });
  const upstreamLimits = upstreamLimitsFromEnv();
  const store = await openStore({ home: settings.home, databaseUrl: settings.database_url });
  const { driver, failures, plugins } = await loadPlugins({ builtins: cli.builtins, home: settings.home, mode: 'serve', driver: { onHookError: (error) => logger.warn({ code: error.code }, error.message) } });
  for (const failure of failures) logger.warn({ plugin: failure.name }, `plugin disabled: ${failure.error}`);
  const outbound = createOutbound(upstreamLimits);
  const runtime = await createGatewayRuntime({
    store,
    policy: createPolicyService(store),
    sealKey: deriveSubkeys(loadMasterKey(homePaths(settings.home))).seal,
    outbound,
    onError: (error) => logger.error({ err: error }, 'state reload failed'),
  });
  const audit = await openAuditChannel({ home: settings.home, databaseUrl: settings.database_url }, (message) => logger.error(message));
  const metrics = createGatewayMetrics(() => runtime.verifier.stats());
  const auditGauge = setInterval(() => metrics.audit(audit.stats()), 1000);
  auditGauge.unref();
  const server = createGatewayServer({
    state: () => runtime.state(),
    hooks: driver,
    prepare: prepareGates(plugins.map((p) => p.plugin)),
    limits: defaultGatewayLimits,
    record: (event) => audit.append(event),
    observe: (outcome) => metrics.observe(outcome),
    metrics,
    maxHeaderBytes: MAX_HEADER_BYTES,
    degraded: () => failingSinks(audit.stats().sinks),
  });
  server.listen(settings.gateway.port, settings.gateway.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  logger.info({ url: gatewayUrl({ ...settings, gateway: { host: settings.gateway.host, port: address.port } }), ready: runtime.state().detail }, 'gateway listening');

  await untilSignal(async (signal) => {
    logger.info({ signal }, 'stopping: draining requests and flushing audit');
    clearInterval(auditGauge);
    runtime.stop();
    server.close();
    server.closeIdleConnections();
    const drained = once(server, 'close');
    const deadline = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([drained, deadline]);
    server.closeAllConnections();
    const stats = await audit.close();
    await outbound.close();
    await driver.runHook('teardown', { reason: 'shutdown' });
    await store.close();
    logger.info({ recorded: stats.recorded, dropped: stats.dropped }, 'stopped');
  });
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
