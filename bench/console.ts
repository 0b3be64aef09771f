import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEventInput } from '../core/audit/event.js';
import { openStore } from '../core/store/open-store.js';
import { startInPty, startConsole, type PtySession } from '../test/support/console.js';
import { percentile, type Benchmark, type Figure } from './harness.js';
import { BIN, admin, startService, tempHome } from './support/service.js';

const STARTS = 15;
const ROWS = 10_000;
const KEYS = 200;
const PAGES = 40;
const SIZE = { cols: 120, rows: 40 } as const;

/** Waits for `match`, timing from `started` (performance.now()). */
async function timeUntil(session: PtySession, started: number, match: Parameters<PtySession['waitFor']>[0]): Promise<number> {
  await session.waitFor(match, { timeout: 15_000 });
  return performance.now() - started;
}

/** The first full paint: the header with stack health, Home's content, and the hint bar. */
const painted = (screen: string) => screen.includes('control ✔') && screen.includes('Guided setup') && screen.includes('q quit');

/** `ROWS` gateway requests in one zone, as the Gateway records them (a tenth denied). */
async function seedAudit(home: string, zoneId: string): Promise<void> {
  const store = await openStore({ home });
  try {
    const start = Date.now() - ROWS * 1000;
    for (let i = 0; i < ROWS; i += 1000) {
      const batch: AuditEventInput[] = [];
      for (let n = i; n < i + 1000; n++) {
        const deny = n % 10 === 9;
        batch.push({
          type: 'gateway.request',
          zone: zoneId,
          request_id: `req_bench${String(n).padStart(8, '0')}`,
          at: new Date(start + n * 1000).toISOString(),
          resource: 'resource://billing-api',
          scopes: ['billing:read'],
          decision: deny ? 'deny' : 'allow',
          reason: deny ? 'method_not_allowed' : 'ok',
          category: deny ? 'policy' : null,
          http: { method: deny ? 'POST' : 'GET', path: `/v1/items/${n}`, status: deny ? 403 : 200, upstream_status: deny ? null : 200, latency_ms: 1.5 },
        });
      }
      await store.appendAudit(batch);
    }
  } finally {
    await store.close();
  }
}

/** A key's latency: from writing it to the pty until the screen (text or selection) differs. */
async function keyToRepaint(session: PtySession, key: string): Promise<number> {
  const before = `${session.text()}|${session.inverseRows().join(',')}`;
  const started = performance.now();
  session.press(key);
  return timeUntil(session, started, (screen) => `${screen}|${session.inverseRows().join(',')}` !== before);
}

/**
 * `caracal console`: spawn to first full paint against a running stack (vs a Node program that
 * prints one line, and `caracal --version`, in the same pty), and key-to-repaint on the Audit
 * list of a zone holding 10,000 events (↓ and PgDn; vs a raw-mode echo program in the same pty).
 * Every screen is read through the same headless terminal the end-to-end tests use.
 */
const bench: Benchmark = {
  name: 'console',
  description: `caracal console: start to first full paint (${STARTS} starts), key-to-repaint on a ${ROWS.toLocaleString('en')}-event audit list (${KEYS} ↓, ${PAGES} PgDn)`,
  async run(): Promise<Figure[]> {
    const { home, remove } = tempHome('console');
    const configDir = mkdtempSync(join(tmpdir(), 'caracal-bench-console-config-'));
    const control = await startService('control', home);
    const gateway = await startService('gateway', home);
    try {
      const zone = await admin(home, control.url, 'POST', '/v1/zones', { name: 'bench' });
      await seedAudit(home, zone.id as string);
      const env = { CARACAL_HOME: home, CARACAL_CONFIG_DIR: configDir, CARACAL_CONTROL_URL: control.url, CARACAL_GATEWAY_URL: gateway.url };

      // Starts, interleaved so that drift on a shared machine hits every series alike.
      const starts = { node: [] as number[], version: [] as number[], console: [] as number[] };
      for (let i = 0; i < STARTS + 2; i++) {
        let started = performance.now();
        const node = startInPty(process.execPath, ['-e', "process.stdout.write('ready')"], { env, ...SIZE });
        const nodeMs = await timeUntil(node, started, 'ready');
        await node.exited();
        started = performance.now();
        const version = startInPty(process.execPath, [BIN, '--version'], { env, ...SIZE });
        await version.exited();
        const versionMs = performance.now() - started;
        started = performance.now();
        const tty = startConsole({ env, bin: BIN, ...SIZE });
        const consoleMs = await timeUntil(tty, started, painted);
        await tty.close();
        if (i < 2) continue; // warm-up: the page cache, the first SQLite open
        starts.node.push(nodeMs);
        starts.version.push(versionMs);
        starts.console.push(consoleMs);
      }

      // Key-to-repaint: the pty and emulator round trip alone, then the Audit list.
      const echo = startInPty(process.execPath, ['-e', "process.stdin.setRawMode(true); let n = 0; process.stdin.on('data', () => process.stdout.write('\\x1b[H' + String(++n) + ' ')); process.stdout.write('ready')"], { env, ...SIZE });
      await echo.waitFor('ready', { timeout: 5000 });
      const echoTimes: number[] = [];
      for (let i = 0; i < KEYS; i++) echoTimes.push(await keyToRepaint(echo, 'x'));
      echo.dispose();

      const tty = startConsole({ env, bin: BIN, ...SIZE });
      await tty.waitFor(painted, { timeout: 15_000 });
      await tty.waitFor('zone bench', { timeout: 15_000 });
      tty.press(':');
      await tty.waitFor(/^ ?: /m);
      tty.type('audit');
      tty.press('enter');
      await tty.waitFor('req_bench00009999', { timeout: 15_000 });
      const down: number[] = [];
      for (let i = 0; i < KEYS; i++) down.push(await keyToRepaint(tty, 'down'));
      const pages: number[] = [];
      for (let i = 0; i < PAGES; i++) pages.push(await keyToRepaint(tty, 'pagedown'));
      await tty.close();

      const p = (samples: number[], n: number) => percentile(samples, n);
      return [
        { id: 'start.node-print.p50', value: p(starts.node, 50), unit: 'ms', target: null },
        { id: 'start.caracal-version.p50', value: p(starts.version, 50), unit: 'ms', target: null, baseline_id: 'start.node-print.p50' },
        { id: 'start.console-first-paint.p50', value: p(starts.console, 50), unit: 'ms', target: '< 400 ms', baseline_id: 'start.node-print.p50' },
        { id: 'start.console-first-paint.p90', value: p(starts.console, 90), unit: 'ms', target: null },
        { id: 'key.echo.p50', value: p(echoTimes, 50), unit: 'ms', target: null },
        { id: 'key.echo.p95', value: p(echoTimes, 95), unit: 'ms', target: null },
        { id: 'key.audit-down.p50', value: p(down, 50), unit: 'ms', target: '< 50 ms', baseline_id: 'key.echo.p50' },
        { id: 'key.audit-down.p95', value: p(down, 95), unit: 'ms', target: '< 50 ms', baseline_id: 'key.echo.p95' },
        { id: 'key.audit-pagedown.p50', value: p(pages, 50), unit: 'ms', target: '< 50 ms', baseline_id: 'key.echo.p50' },
        { id: 'key.audit-pagedown.p95', value: p(pages, 95), unit: 'ms', target: '< 50 ms', baseline_id: 'key.echo.p95' },
      ];
    } finally {
      await gateway.stop();
      await control.stop();
      rmSync(configDir, { recursive: true, force: true });
      remove();
    }
  },
};
export default bench;
