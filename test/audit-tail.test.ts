import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/audit/event.js';
import { startStack, type Stack } from './support/stack.js';
import { BIN } from './support/workload.js';

/**
 * `caracal audit tail` through the real CLI against a real stack: it follows the server-sent
 * events of `GET /v1/audit/stream`, prints each new event as a JSON line, and applies its filters.
 */

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('caracal audit tail', () => {
  it('prints the events recorded after it started, filtered, one JSON line each', async () => {
    const child = spawn(process.execPath, [BIN, '--home', stack.home, 'audit', 'tail', '--json', '--backlog', '0', '--type', 'admin.change'], {
      env: { ...process.env, CARACAL_CONTROL_URL: stack.controlUrl, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      let exited: number | null | undefined;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.once('exit', (code) => (exited = code));
      const printed = () => stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as AuditEvent);
      const names = () => printed().map((e) => (e.detail as { after?: { name?: string } }).after?.name ?? '');
      // The tail shows what is recorded after its stream opened: create zones until two show up.
      const deadline = Date.now() + 15_000;
      for (let n = 1; names().length < 2; n++) {
        if (exited !== undefined) throw new Error(`audit tail exited (${exited}) early`);
        if (Date.now() > deadline) throw new Error(`audit tail printed ${JSON.stringify(stdout)}`);
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
});
