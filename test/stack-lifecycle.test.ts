import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './support/stack.js';

/**
 * The walkthrough's first contact (DESIGN.md §1–§2), with real detached processes in a temporary
 * home on free ports: up → status → crash → status → up → down → purge.
 */

const BIN = fileURLToPath(new URL('../bin/caracal.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'caracal-stack-'));
const home = join(root, 'home');
const configDir = join(root, 'config');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function caracal(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, '--home', home, ...args],
      { env: { ...process.env, CARACAL_CONFIG_DIR: configDir, NO_COLOR: '1', ...env }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function runFile(name: string): { pid: number; url: string; log: string } {
  return JSON.parse(readFileSync(join(home, 'run', `${name}.json`), 'utf8')) as { pid: number; url: string; log: string };
}

afterAll(async () => {
  await caracal(['down']);
  rmSync(root, { recursive: true, force: true });
});

describe('caracal up, status, down, purge', () => {
  let ports: { control: string; gateway: string };

  it('starts both services and reports them ready', async () => {
    ports = { control: String(await freePort()), gateway: String(await freePort()) };
    const up = await caracal(['up', '--control-port', ports.control, '--gateway-port', ports.gateway]);
    expect(up.stderr).toContain('control ready');
    expect(up.stderr).toContain('gateway ready');
    expect(up.code).toBe(0);
    const status = await caracal(['status', '--ready', '--json']);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout) as { mode: string; services: { name: string; url: string; ok: boolean; detail: string }[] };
    expect(json.mode).toBe('ready');
    expect(json.services).toEqual([
      { name: 'control', url: `http://127.0.0.1:${ports.control}`, ok: true, detail: 'ready', optional: false },
      { name: 'gateway', url: `http://127.0.0.1:${ports.gateway}`, ok: true, detail: 'ready', optional: false },
    ]);
  });

  it('is idempotent: a second up reports the running stack', async () => {
    const before = runFile('gateway').pid;
    const again = await caracal(['up', '--control-port', ports.control, '--gateway-port', ports.gateway]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/gateway already running .*pid \d+/);
    expect(runFile('gateway').pid).toBe(before);
  });

  it('names a killed Gateway in status, exits 1, and up restarts it after cleaning the stale run file', async () => {
    const { pid } = runFile('gateway');
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 25));
      } catch {
        break;
      }
    }
    const status = await caracal(['status', '--json']);
    expect(status.code).toBe(1);
    const json = JSON.parse(status.stdout) as { services: { name: string; ok: boolean; detail: string }[] };
    const gateway = json.services.find((s) => s.name === 'gateway');
    expect(gateway?.ok).toBe(false);
    expect(gateway?.detail).toContain(`process ${pid} is gone`);
    expect(gateway?.detail).toContain('gateway.log');
    expect(json.services.find((s) => s.name === 'control')?.ok).toBe(true);

    const human = await caracal(['status']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/gateway\s+http:\/\/127\.0\.0\.1:\d+\s+down/);

    const up = await caracal(['up', '--control-port', ports.control, '--gateway-port', ports.gateway]);
    expect(up.code).toBe(0);
    expect(up.stderr).toContain(`removed the stale run file of pid ${pid}`);
    expect(runFile('gateway').pid).not.toBe(pid);
    expect((await caracal(['status', '--ready'])).code).toBe(0);
  });

  it('refuses a port another program holds, naming the port and how to change it', async () => {
    const other = await freePort();
    const blocker: Server = createServer((_req, res) => res.end('not caracal'));
    blocker.listen(other, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const clash = await caracal(['--home', join(root, 'other-home'), 'up', '--control-port', String(other), '--gateway-port', String(await freePort())]);
      expect(clash.code).toBe(4);
      expect(clash.stderr).toContain(`port ${other} (control) is already in use`);
      expect(clash.stderr).toContain('--control-port');
      expect(clash.stderr).toContain('CARACAL_CONTROL_PORT');
    } finally {
      blocker.close();
    }
  });

  it('shows the service logs', async () => {
    const logs = await caracal(['logs', 'control']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('control plane listening');
    const missing = await caracal(['logs', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('logs exist for: control, gateway');
  });

  it('stops both gracefully, keeps the data, and status then shows both down', async () => {
    const down = await caracal(['down']);
    expect(down.code).toBe(0);
    expect(down.stderr).toMatch(/gateway \(pid \d+\): stopped/);
    expect(down.stderr).toMatch(/control \(pid \d+\): stopped/);
    expect(existsSync(join(home, 'run', 'gateway.json'))).toBe(false);
    expect(existsSync(join(home, 'caracal.db'))).toBe(true);
    const status = await caracal(['status', '--json']);
    expect(status.code).toBe(1);
    const json = JSON.parse(status.stdout) as { services: { ok: boolean; detail: string }[] };
    expect(json.services.map((s) => s.ok)).toEqual([false, false]);
    expect(json.services[0]?.detail).toContain('not running');
  });

  it('purge lists what it deletes, needs --yes without a terminal, and leaves no Caracal folder', async () => {
    writeFileSync(join(root, 'keep-me.txt'), 'not caracal');
    const dry = await caracal(['purge', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(join(home, 'caracal.db'));
    expect(existsSync(join(home, 'caracal.db'))).toBe(true);
    const refused = await caracal(['purge']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(existsSync(join(home, 'caracal.db'))).toBe(true);
    const purged = await caracal(['purge', '--yes']);
    expect(purged.code).toBe(0);
    expect(existsSync(home)).toBe(false);
    expect(existsSync(configDir)).toBe(false);
    expect(readFileSync(join(root, 'keep-me.txt'), 'utf8')).toBe('not caracal');
  });
});

describe('caracal demo-upstream', () => {
  it('echoes requests, answers /status/<code>, and runs detached until down', async () => {
    const port = await freePort();
    const started = await caracal(['demo-upstream', '--detach', '--port', String(port)]);
    expect(started.code).toBe(0);
    const echo = (await (await fetch(`http://127.0.0.1:${port}/v1/things?a=1`, { method: 'POST', body: 'hello', headers: { authorization: 'Bearer secret-value' } })).json()) as Record<string, unknown>;
    expect(echo).toMatchObject({ method: 'POST', path: '/v1/things', query: { a: '1' }, body: 'hello' });
    expect(JSON.stringify(echo)).not.toContain('secret-value');
    expect((await fetch(`http://127.0.0.1:${port}/status/503`)).status).toBe(503);
    // status lists it (the stack itself is not running here, so status still fails, for the stack's rows only).
    const status = await caracal(['status', '--json']);
    const services = (JSON.parse(status.stdout) as { services: { name: string; ok: boolean; url: string }[] }).services;
    expect(services.find((s) => s.name === 'demo-upstream')).toEqual({ name: 'demo-upstream', ok: true, url: `http://127.0.0.1:${port}`, detail: 'healthy', optional: true });
    expect(services.filter((s) => s.name !== 'demo-upstream').every((s) => !s.ok)).toBe(true);
    expect(status.code).not.toBe(0);
    const down = await caracal(['down']);
    expect(down.stderr).toMatch(/demo-upstream \(pid \d+\): stopped/);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
