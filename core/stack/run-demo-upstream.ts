import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HomePaths } from '../config/paths.js';
import { CaracalError } from '../errors.js';
import { untilSignal } from '../service/until-signal.js';
import { createDemoUpstream } from './demo-upstream.js';
import { isPortInUse, portInUseError } from './port-in-use.js';
import { probe } from './probe.js';
import { DEMO_UPSTREAM, isAlive, readRunFile, writeRunFile } from './run-files.js';

const BIN = fileURLToPath(new URL('../../../bin/caracal.js', import.meta.url));

const DEMO_PORT_FIX = 'caracal demo-upstream --port N (then use http://127.0.0.1:N as the upstream in caracal setup)';

/** Runs the demo upstream in the foreground, or starts it detached (recorded for `caracal down`). */
export async function runDemoUpstream(paths: HomePaths, host: string, port: number, detach: boolean): Promise<void> {
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!detach) {
    const server = createDemoUpstream();
    await listen(server, host, port);
    const actual = (server.address() as AddressInfo).port;
    process.stderr.write(`demo upstream listening on http://${host}:${actual} (Ctrl-C stops it)\n`);
    await untilSignal(async () => {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    });
    return;
  }
  const existing = readRunFile(paths.run, DEMO_UPSTREAM);
  if (existing !== undefined && isAlive(existing.pid)) {
    process.stderr.write(`demo upstream already running at ${existing.url} (pid ${existing.pid})\n`);
    return;
  }
  if (port === 0) throw new CaracalError('CRC_USAGE', '--detach needs a fixed --port, not 0');
  // The detached child could only say so in its log: refuse a busy port here, where it is seen.
  if (await isPortInUse(host, port)) throw portInUseError(port, 'demo upstream', DEMO_PORT_FIX);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const log = join(paths.logs, 'demo-upstream.log');
  const fd = openSync(log, 'a', 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, [BIN, '--home', paths.home, 'demo-upstream', '--host', host, '--port', String(port)], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new CaracalError('CRC_SERVICE_UNAVAILABLE', 'could not start the demo upstream');
  writeRunFile(paths.run, { name: DEMO_UPSTREAM, pid, url, host, port, log, started_at: new Date().toISOString() });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `the demo upstream exited at start-up; see ${log}`);
    if ((await probe(`${url}/status/200`, 500)).ok) {
      process.stderr.write(`demo upstream running at ${url} (pid ${pid}; caracal down stops it)\n`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `the demo upstream did not answer within 10 s; see ${log}`);
}

/** Listens on host:port; a busy port is the catalog's port error, anything else names the address. */
async function listen(server: Server, host: string, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUseError(port, 'demo upstream', DEMO_PORT_FIX, error);
    throw new CaracalError('CRC_SERVICE_UNAVAILABLE', `demo upstream cannot listen on ${host}:${port}: ${(error as Error).message}`, {
      cause: error,
      hint: 'choose another address with --host H or --port N',
    });
  }
}
