import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit/event.js';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { BIN } from './support/workload.js';

/**
 * `caracal audit tail` through the real CLI against a real stack: it follows the server-sent
 * events of `GET /v1/audit/stream`, prints each new event as a JSON line, applies its filters, and
 * resumes where it stopped when the control plane restarts.
 */

let stack: Stack;
let upstream: Upstream;

beforeAll(async () => {
  stack = await startStack();
  upstream = await startUpstream();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
});

/** `caracal audit tail --json` with extra arguments, collecting what it prints. */
function tail(args: readonly string[]) {
  const child = spawn(process.execPath, [BIN, '--home', stack.home, 'audit', 'tail', '--json', '--backlog', '0', ...args], {
    env: { ...process.env, CARACAL_CONTROL_URL: stack.controlUrl, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '', exited: undefined as number | null | undefined };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString('utf8')));
  child.once('exit', (code) => (out.exited = code));
  const printed = () => out.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as AuditEvent);
  return { child, out, printed };
}

async function until(condition: () => boolean, what: () => string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('caracal audit tail', () => {
  it('prints the events recorded after it started, filtered, one JSON line each', async () => {
    const { child, out, printed } = tail(['--type', 'admin.change']);
    try {
      const names = () => printed().map((e) => (e.detail as { after?: { name?: string } }).after?.name ?? '');
      // The tail shows what is recorded after its stream opened: create zones until two show up.
      const deadline = Date.now() + 15_000;
      for (let n = 1; names().length < 2; n++) {
        if (out.exited !== undefined) throw new Error(`audit tail exited (${out.exited}) early`);
        if (Date.now() > deadline) throw new Error(`audit tail printed ${JSON.stringify(out.stdout)}`);
        await stack.adminOk('POST', '/v1/zones', { name: `tail-${n}` });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(printed().every((e) => e.type === 'admin.change')).toBe(true);
      // In order, none skipped once the stream is open: tail-k, tail-k+1, …
      const numbers = names().map((name) => Number(name.replace('tail-', '')));
      expect(numbers.slice(1)).toEqual(numbers.slice(0, -1).map((k) => k + 1));
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);

  it('resumes after the control plane restarts, and misses nothing recorded while it was down', async () => {
    const seeded = await stack.seedInternalApi({ upstreamUrl: upstream.url, scopes: ['billing:read'] });
    const headers = stack.gatewayHeaders(seeded, await stack.mint(seeded));
    const call = async () => {
      const response = await fetch(`${stack.gatewayUrl}/v1/invoices`, { headers });
      expect(response.status).toBe(200);
      return response.headers.get('x-request-id') ?? '';
    };
    const { child, out, printed } = tail(['--type', 'gateway.request']);
    try {
      const ids = () => printed().map((e) => e.request_id);
      // The tail shows calls made after its stream opened: call until one shows up.
      const before: string[] = [];
      for (const deadline = Date.now() + 15_000; !before.some((id) => ids().includes(id)); ) {
        if (Date.now() > deadline) throw new Error(`audit tail printed ${JSON.stringify(out.stdout + out.stderr)}`);
        before.push(await call());
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await until(() => ids().includes(before.at(-1) ?? ''), () => out.stdout + out.stderr);
      let whileDown = '';
      // It stops at once though a stream is open (it ends the stream), and exits cleanly.
      const code = await stack.restartControl(async () => {
        whileDown = await call();
      });
      expect(code).toBe(0);
      const after = await call();
      await until(() => ids().includes(after), () => out.stdout + out.stderr);
      // Every call after the first shown one, in order, once: including the one made while the control plane was down.
      const shown = ids();
      expect(shown.slice(shown.indexOf(before.at(-1) ?? ''))).toEqual([before.at(-1), whileDown, after]);
      expect(new Set(shown).size).toBe(shown.length);
      expect(out.stderr).toContain('the audit stream dropped');
      expect(out.stderr).toContain('the audit stream resumed');
      expect(out.exited).toBeUndefined();
    } finally {
      child.kill('SIGTERM');
    }
  }, 45_000);
});
