import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/stack.js';

export { freePort };

/** The built CLI (benchmarks run from dist/bench, after `npm run build`). */
export const BIN = fileURLToPath(new URL('../../../bin/caracal.js', import.meta.url));

/** A fresh temporary CARACAL_HOME; `remove()` deletes it. */
export function tempHome(prefix: string): { home: string; remove: () => void } {
  const home = mkdtempSync(join(tmpdir(), `caracal-bench-${prefix}-`));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/** A running `caracal serve <name>` child process. */
export interface RunningService {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `CARACAL_BENCH_PROFILE=<dir>` runs every service a benchmark starts under the V8 CPU profiler,
 * writing one `.cpuprofile` per service into `dir` when it stops (open it in Chrome DevTools).
 */
export function profilerFlags(): string[] {
  const dir = process.env.CARACAL_BENCH_PROFILE;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Starts `caracal serve <name>` on a free port and waits until its readiness probe answers 200. */
export async function startService(name: 'control' | 'gateway', home: string): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [...profilerFlags(), BIN, '--home', home, 'serve', name, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CARACAL_LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = name === 'control' ? '/readyz' : '/_caracal/readyz';
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`caracal serve ${name} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}${ready}`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`caracal serve ${name} was not ready within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Calls the admin API of a control plane in `home` (JSON in and out); throws on a non-2xx status. */
export async function admin(home: string, controlUrl: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const token = readFileSync(join(home, 'admin-token'), 'utf8').trim();
  const res = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Seeds zone `bench`, app `agent`, resource `billing-api` and an active allow-all policy; returns the app credentials. */
export async function seed(home: string, controlUrl: string, upstreamUrl: string): Promise<{ appId: string; secret: string; resource: string }> {
  await admin(home, controlUrl, 'POST', '/v1/zones', { name: 'bench' });
  const app = await admin(home, controlUrl, 'POST', '/v1/zones/bench/apps', { name: 'agent' });
  const appId = app.id as string;
  await admin(home, controlUrl, 'POST', '/v1/zones/bench/resources', { id: 'billing-api', scopes: ['billing:read'], upstream_url: upstreamUrl });
  const document = `[[rules]]\nid = "starter"\neffect = "allow"\napps = ["${appId}"]\nresources = ["resource://billing-api"]\nscopes = ["billing:read"]\n`;
  await admin(home, controlUrl, 'POST', '/v1/zones/bench/policies', { name: 'starter', format: 'toml', document });
  await admin(home, controlUrl, 'POST', '/v1/zones/bench/policy-sets', { name: 'main' });
  await admin(home, controlUrl, 'POST', '/v1/zones/bench/policy-sets/main/versions', { policies: [{ policy: 'starter', version: 1 }] });
  await admin(home, controlUrl, 'POST', '/v1/zones/bench/policy-sets/main/activate', { version: 1 });
  return { appId, secret: app.client_secret as string, resource: 'resource://billing-api' };
}
