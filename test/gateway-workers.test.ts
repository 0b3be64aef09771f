import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from './support/http.js';
import { readLedger } from './support/ledger.js';
import { startStack, type Seeded, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal } from './support/workload.js';

/**
 * `caracal serve gateway --workers N` (here through CARACAL_GATEWAY_WORKERS, as `caracal up` would
 * pass config.toml's `[gateway] workers`): N worker processes behind one port, metrics summed over
 * all of them, a killed worker replaced, and a graceful stop that leaves one audit row per response.
 */

let stack: Stack;
let upstream: Upstream;
let seeded: Seeded;
let token: string;
let served = 0;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ gatewayEnv: { CARACAL_GATEWAY_WORKERS: '2' } });
  seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
  token = await stack.mint(seeded);
});

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

/** The primary's child processes (the workers). */
function workers(): string[] {
  const pid = stack.gatewayPid;
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
}

/** `count` calls, each on its own connection (the primary hands connections to workers in turn). */
async function calls(count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await send(`${stack.gatewayUrl}/v1/items/${i}`, { headers: stack.gatewayHeaders(seeded, token) });
    statuses.push(reply.status);
    served += 1;
  }
  return statuses;
}

async function allowedCount(): Promise<number> {
  const reply = await send(`${stack.gatewayUrl}/_caracal/metrics`);
  expect(reply.status).toBe(200);
  const line = reply.body
    .toString('utf8')
    .split('\n')
    .find((l) => l.startsWith('caracal_gateway_requests_total{decision="allow",status="200"}'));
  return Number(line?.split(' ')[1] ?? 0);
}

async function until<T>(read: () => T, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = read();
  }
  return value;
}

describe('gateway --workers', () => {
  it('serves from two worker processes behind one port and sums their metrics', async () => {
    expect(workers()).toHaveLength(2);
    expect(await calls(40)).toEqual(Array.from({ length: 40 }, () => 200));
    // Each worker counts only what it served; the primary sums them (one worker alone would show ~20).
    expect(await allowedCount()).toBe(40);
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    // What the worker served is stored before it is killed (a killed process flushes nothing).
    await until(() => readLedger(stack.databasePath).length, (rows) => rows >= served);
    const [victim] = workers();
    process.kill(Number(victim), 'SIGKILL');
    const replaced = await until(workers, (now) => now.length === 2 && !now.includes(victim as string));
    expect(replaced).toHaveLength(2);
    expect(replaced).not.toContain(victim);
    expect(await calls(10)).toEqual(Array.from({ length: 10 }, () => 200));
  });

  it('refuses a second Gateway on the same port: its worker cannot listen, and the primary says so', async () => {
    const port = new URL(stack.gatewayUrl).port;
    const run = await caracal(['--home', stack.home, 'serve', 'gateway', '--workers', '2', '--port', port], { CARACAL_LOG_LEVEL: 'error' });
    expect(run.code).not.toBe(0);
    expect(run.stderr + run.stdout).toMatch(/a Gateway worker stopped before it listened/);
  });

  it('stops cleanly when told to while its workers are still starting', async () => {
    let pid = 0;
    const children = () => {
      try {
        return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        return [];
      }
    };
    const started = Date.now();
    const run = caracal(['--home', stack.home, 'serve', 'gateway', '--workers', '2', '--port', '0'], { CARACAL_LOG_LEVEL: 'error' }, { onSpawn: (p) => (pid = p) });
    // As soon as both workers exist (they are still loading), SIGTERM the supervisor.
    await until(children, (now) => now.length === 2, 15_000);
    process.kill(pid, 'SIGTERM');
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    // Not the 30 s a worker that missed the stop would cost before it is killed.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('refuses a worker count that is not 1 to 64, naming the setting', async () => {
    for (const bad of ['0', 'many']) {
      const run = await caracal(['--home', stack.home, 'serve', 'gateway', '--workers', bad], {});
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/gateway\.workers/);
    }
  });

  it('stops gracefully on SIGTERM: exit 0, every worker gone, one audit row per response', async () => {
    const before = workers();
    expect(await stack.stopGateway()).toBe(0);
    for (const pid of before) expect(() => process.kill(Number(pid), 0)).toThrow();
    expect(readLedger(stack.databasePath)).toHaveLength(served);
  });
});
