import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { Plugin } from '../plugin/types.js';
import { homePaths } from '../config/paths.js';
import { probe } from './probe.js';
import { DEMO_UPSTREAM, isAlive, readRunFile } from './run-files.js';
import { stackServices, type StackService } from './services.js';

/** One row of `caracal status` (DESIGN.md §2: `{name, url, ok, detail}`). */
export interface ServiceStatus {
  readonly name: string;
  readonly url: string;
  readonly ok: boolean;
  readonly detail: string;
  /** The pid from the run file, when `caracal up` started it. */
  readonly pid: number | null;
  readonly log: string | null;
  /** A helper started from this home (the detached demo upstream): shown, but not part of the stack's health. */
  readonly optional: boolean;
}

export interface StackStatus {
  readonly mode: 'health' | 'ready';
  readonly services: readonly ServiceStatus[];
}

/** Per-probe deadline: all probes run at once, so `status` answers within about this long. */
export const PROBE_TIMEOUT_MS = 1500;

/**
 * Probes every service of the stack (in parallel, each with its own deadline), and the demo
 * upstream when `caracal demo-upstream --detach` started one from this home (`down` stops it too).
 */
export async function stackStatus(settings: Settings, mode: 'health' | 'ready'): Promise<StackStatus> {
  const paths = homePaths(settings.home);
  const demo = readRunFile(paths.run, DEMO_UPSTREAM);
  const probes = stackServices(settings).map((service) => serviceStatus(service, paths.run, mode));
  // Any path of the demo upstream answers 200 (it echoes the request).
  if (demo !== undefined) probes.push(serviceStatus({ name: DEMO_UPSTREAM, host: demo.host, port: demo.port, url: demo.url, healthPath: '/', readyPath: '/' }, paths.run, mode));
  return { mode, services: await Promise.all(probes) };
}

async function serviceStatus(service: Omit<StackService, 'name'> & { readonly name: string }, runDir: string, mode: 'health' | 'ready'): Promise<ServiceStatus> {
  const run = readRunFile(runDir, service.name);
  // A service started by `up` may listen elsewhere than today's settings say: trust its run file.
  const url = run?.url ?? service.url;
  const log = run?.log ?? null;
  const pid = run?.pid ?? null;
  const optional = service.name === DEMO_UPSTREAM;
  const result = await probe(`${url}${mode === 'ready' ? service.readyPath : service.healthPath}`, PROBE_TIMEOUT_MS);
  if (result.ok) {
    const detail = optional ? (mode === 'ready' ? 'ready' : 'healthy') : mode === 'ready' || result.detail !== 'ok' ? result.detail : 'healthy';
    return { name: service.name, url, ok: true, detail, pid, log, optional };
  }
  let detail: string;
  const restart = optional ? 'caracal demo-upstream --detach' : 'caracal up';
  if (run !== undefined && !isAlive(run.pid)) detail = `process ${run.pid} is gone (crashed or killed); see ${run.log}; run ${restart} to restart it`;
  else if (result.failure === 'refused') detail = run === undefined ? 'not running (connection refused); start it with caracal up' : `connection refused; see ${run.log}`;
  else if (result.failure !== null) detail = `${result.detail}${log ? `; see ${log}` : ''}`;
  else detail = `${mode === 'ready' ? 'not ready' : 'unhealthy'}: ${result.detail}${log ? `; see ${log}` : ''}`;
  return { name: service.name, url, ok: false, detail, pid, log, optional };
}

/**
 * The detail column of the `status` table: what the service said beyond its state (e.g. `healthy;
 * audit sink s3 failing`), else the pid when `up` started it, never the state word again, which
 * the column beside it already shows. JSON and the console keep the service's own word.
 */
export function tableDetail(service: ServiceStatus, mode: 'health' | 'ready'): string {
  if (!service.ok || service.detail !== (mode === 'ready' ? 'ready' : 'healthy')) return service.detail;
  return service.pid === null ? '' : `pid ${service.pid}`;
}

/**
 * Installed plugins that fail to load (they are disabled), for `caracal status`. The loader is
 * imported only when something is installed.
 */
export async function pluginFailures(home: string, builtins: readonly Plugin[]): Promise<{ name: string; error: string }[]> {
  if (!existsSync(join(homePaths(home).plugins, 'package.json'))) return [];
  const { loadPlugins } = await import('../plugin/loader.js');
  const result = await loadPlugins({ builtins, home, mode: 'check' });
  return result.failures.map((f) => ({ name: f.name, error: f.error }));
}
