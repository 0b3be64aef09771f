import blessed from 'blessed';
import type { CliContext } from '../core/cli/context.js';
import { defaultConfigDir } from '../core/config/paths.js';
import type { AdminClient } from '../core/control/admin-client.js';
import { stackStatus } from '../core/stack/status.js';
import { createConsoleApp, errorText, type ConsoleApp } from './app.js';
import { consoleExtensions } from './extensions.js';
import { createPrefs, openPrefs, type Prefs } from './prefs.js';

/**
 * `caracal console` after the TTY check (tui/plugin.ts): creates the screen (alternate buffer),
 * installs the handlers that always restore the terminal, registers the views and paints Home
 * at once. Preferences (conf loads in about 200 ms) and the zone list arrive after the first paint.
 */
export async function runConsole(cli: CliContext, client: AdminClient): Promise<number> {
  const screen = blessed.screen({ smartCSR: true, fullUnicode: true, title: 'caracal console', warnings: false, autoPadding: true });
  const prefs = deferredPrefs();
  const app = createConsoleApp({
    screen,
    client,
    cli,
    prefs: prefs.prefs,
    health: async () => (await stackStatus(cli.settings(), 'ready')).services.filter((s) => !s.optional).map((s) => ({ name: s.name, ok: s.ok, detail: s.detail })),
  });
  const restore = installRestoreHandlers(app);
  try {
    for (const extension of consoleExtensions) app.extend(extension);
    app.start('home');
    void chooseZone(app, client, prefs.load());
    return await app.done;
  } finally {
    restore();
  }
}

/** Prefs usable at once (in memory), backed by the conf file as soon as it has loaded. */
function deferredPrefs(): { prefs: Prefs; load: () => Promise<Prefs> } {
  let current: Prefs = createPrefs({ read: () => ({}), write: () => undefined });
  const prefs: Prefs = {
    lastZone: (url) => current.lastZone(url),
    setLastZone: (url, zone) => current.setLastZone(url, zone),
    auditFilters: () => current.auditFilters(),
    setAuditFilters: (filters) => current.setAuditFilters(filters),
  };
  return {
    prefs,
    load: async () => {
      const loaded = await openPrefs(defaultConfigDir());
      // Anything chosen before the file loaded wins over what the file remembered.
      current = loaded;
      return loaded;
    },
  };
}

/** Picks the starting zone: the one used last against this control plane, else the only one. */
async function chooseZone(app: ConsoleApp, client: AdminClient, loading: Promise<Prefs>): Promise<void> {
  const [prefs, zones] = await Promise.all([loading, app.ctx.task('loading zones', () => client.zones.list({ limit: 500 }))]);
  if (zones === undefined || app.ctx.zone() !== undefined) return;
  const last = prefs.lastZone(client.controlUrl);
  const zone = zones.items.find((z) => z.id === last) ?? (zones.items.length === 1 ? zones.items[0] : undefined);
  if (zone !== undefined) app.ctx.setZone({ id: zone.id, name: zone.name });
  else if (zones.items.length === 0) app.ctx.status.info('no zone yet: start the guided setup, or create one in Zones (z)');
  else app.ctx.status.info('pick a zone: press z');
}

/**
 * Restores the terminal on every way out: `q` and Ctrl-C (the app quits), SIGTERM/SIGHUP (exit
 * 128+N after restoring), an uncaught error or rejection (restore, one line on stderr, exit 1).
 * Returns the function that removes the handlers.
 */
function installRestoreHandlers(app: ConsoleApp): () => void {
  const onSignal = (code: number) => () => {
    app.quit(code);
    process.exit(code);
  };
  const sigterm = onSignal(143);
  const sighup = onSignal(129);
  const crash = (error: unknown) => {
    app.quit(1);
    process.stderr.write(`caracal console stopped on an unexpected error: ${errorText(error)}\n`);
    process.exit(1);
  };
  process.on('SIGTERM', sigterm);
  process.on('SIGHUP', sighup);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return () => {
    process.off('SIGTERM', sigterm);
    process.off('SIGHUP', sighup);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
  };
}
