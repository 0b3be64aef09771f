import type { Logger } from 'pino';
import type { CliContext } from '../cli/context.js';
import { controlUrl } from '../config/settings.js';
import { openKernel } from '../kernel.js';
import { createLogger } from '../log/logger.js';
import type { ServeOptions } from '../plugin/types.js';
import { untilSignal } from '../service/until-signal.js';
import { ISSUER_SETTING } from '../token/claims.js';
import { loadAdminToken } from './admin-auth.js';
import { createControlContext } from './context.js';
import { createControlServer } from './server.js';
import { failingSinks } from '../audit/sink-status.js';
import { sinkTypesOf } from '../audit/service-audit.js';

/** Runs the control plane in the foreground until SIGTERM/SIGINT (DESIGN.md §2). */
export async function runControl(cli: CliContext, options: ServeOptions, logger: Logger = createLogger({ name: 'control' })): Promise<void> {
  const settings = cli.settings({ controlHost: options.host, controlPort: options.port });
  // The CLI loaded the built-in and installed plugins; their sink types serve [[audit.sinks]].
  const kernel = await openKernel(settings, (error) => logger.error({ code: error.code }, error.message), 'control', sinkTypesOf(cli.plugins));
  try {
    const adminToken = loadAdminToken(kernel.paths.adminToken);
    const issuer = controlUrl(settings);
    await kernel.store.setSetting(ISSUER_SETTING, issuer);
    const context = createControlContext({
      store: kernel.store,
      subkeys: kernel.subkeys,
      audit: kernel.audit,
      issuer,
      auditKey: kernel.auditKey,
      auditSinks: () => kernel.auditSinks(),
    });
    const app = createControlServer({ context, adminToken, logger, degraded: () => failingSinks(kernel.auditSinks()) });
    // Rotations by another control-plane node reach this one's signing cache at once.
    const unwatch = kernel.store.watch(() => context.keys.invalidate());
    await app.listen({ host: settings.control.host, port: settings.control.port });
    logger.info({ url: issuer, home: settings.home, store: kernel.store.location }, 'control plane listening');
    await untilSignal(async (signal) => {
      logger.info({ signal }, 'stopping');
      unwatch();
      await app.close();
    });
  } finally {
    await kernel.close();
  }
}
