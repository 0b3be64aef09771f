import { openSync, closeSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from '../config/settings.js';
import { homePaths } from '../config/paths.js';
import { CaracalError } from '../errors.js';
import { isPortInUse, portInUseError } from './port-in-use.js';
import { probe } from './probe.js';
import { isAlive, readRunFile, removeRunFile, writeRunFile } from './run-files.js';
import { stackServices, type StackService } from './services.js';

/** How long `up` waits for every service to be ready (DESIGN.md §2). */
export const UP_TIMEOUT_MS = 60_000;

const BIN = fileURLToPath(new URL('../../../bin/caracal.js', import.meta.url));

/** Progress of `up`, one event per service state change (the CLI prints a line for each). */
export type UpEvent =
  | { readonly service: string; readonly state: 'running'; readonly url: string; readonly pid: number }
  | { readonly service: string; readonly state: 'starting'; readonly url: string; readonly pid: number; readonly log: string }
  | { readonly service: string; readonly state: 'stale'; readonly pid: number }
  | { readonly service: string; readonly state: 'ready'; readonly url: string; readonly ms: number };

/**
 * Starts the embedded stack as detached processes (pid/run files, logs in `<home>/logs`) and
 * resolves once every service answers its readiness probe. Idempotent: a running service is
 * reported, not started twice; a run file whose process is gone is cleaned up first.
 */
export async function up(settings: Settings, onEvent: (event: UpEvent) => void, timeoutMs = UP_TIMEOUT_MS): Promise<void> {
  const paths = homePaths(settings.home);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  const started: { service: StackService; url: string; log: string; pid: number }[] = [];
  const begin = Date.now();
  for (const service of stackServices(settings)) {
    const run = readRunFile(paths.run, service.name);
    if (run !== undefined && isAlive(run.pid)) {
      onEvent({ service: service.name, state: 'running', url: run.url, pid: run.pid });
      started.push({ service, url: run.url, log: run.log, pid: run.pid });
      continue;
    }
    if (run !== undefined) {
      removeRunFile(paths.run, service.name);
      onEvent({ service: service.name, state: 'stale', pid: run.pid });
    }
    await assertPortFree(service);
    const log = join(paths.logs, `${service.name}.log`);
    const pid = spawnService(settings.home, service, log);
    writeRunFile(paths.run, { name: service.name, pid, url: service.url, host: service.host, port: service.port, log, started_at: new Date().toISOString() });
    onEvent({ service: service.name, state: 'starting', url: service.url, pid, log });
    started.push({ service, url: service.url, log, pid });
  }
  await Promise.all(
    started.map(async ({ service, url, log, pid }) => {
      const deadline = begin + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        if (!isAlive(pid)) {
          removeRunFile(paths.run, service.name);
          throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `the ${service.name} service exited during start-up; its log is ${log}`, {
            hint: `read the end of the log: caracal logs ${service.name}`,
          });
        }
        const result = await probe(`${url}${service.readyPath}`, 1000);
        if (result.ok) {
          onEvent({ service: service.name, state: 'ready', url, ms: Date.now() - begin });
          return;
        }
        last = result.detail;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `the ${service.name} service was not ready after ${Math.round(timeoutMs / 1000)} s (${last}); its log is ${log}`, {
        hint: `read the log (caracal logs ${service.name}); stop the stack with caracal down`,
      });
    }),
  );
}

/** Spawns `caracal serve <name>` detached, with stdout and stderr appended to its log file. */
function spawnService(home: string, service: StackService, log: string): number {
  const fd = openSync(log, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [BIN, '--home', home, 'serve', service.name, '--host', service.host, '--port', String(service.port)], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    child.unref();
    if (child.pid === undefined) throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `could not start the ${service.name} service`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Refuses to start on a port something else already listens on, naming the ways to change it. */
async function assertPortFree(service: StackService): Promise<void> {
  if (!(await isPortInUse(service.host, service.port))) return;
  const env = `CARACAL_${service.name.toUpperCase()}_PORT`;
  throw portInUseError(service.port, service.name, `caracal up --${service.name}-port N, or ${env}=N, or [${service.name}] port = N in the home's config.toml`);
}
