import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, type SetupJson } from './support/workload.js';

/**
 * Clients find the stack without being told its address (docs/design.md, Configuration): after
 * `caracal up --control-port A --gateway-port B`, admin commands and setup reach it through the
 * home's run files, with no CARACAL_*_URL in the environment; without a running stack they use
 * CARACAL_CONTROL_PORT. (The `caracal` helper passes only PATH, HOME and the env given here.)
 */

const root = mkdtempSync(join(tmpdir(), 'caracal-discovery-'));
const env = { CARACAL_HOME: join(root, 'home'), CARACAL_CONFIG_DIR: join(root, 'config'), NO_COLOR: '1' };
let ports: { control: number; gateway: number };
let upstream: Upstream;

beforeAll(async () => {
  upstream = await startUpstream();
  ports = { control: await freePort(), gateway: await freePort() };
  const up = await caracal(['up', '--control-port', String(ports.control), '--gateway-port', String(ports.gateway)], env);
  if (up.code !== 0) throw new Error(`caracal up exited ${up.code}:\n${up.stderr}`);
}, 90_000);

afterAll(async () => {
  await caracal(['down'], env);
  await upstream?.close();
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('a stack started on non-default ports', () => {
  it('is reached by admin commands through the run files', async () => {
    const zones = await caracal(['zones', 'list', '--json'], env);
    expect(zones.stderr).toBe('');
    expect(zones.code).toBe(0);
    expect(JSON.parse(zones.stdout)).toHaveProperty('items');
  });

  it('is reached by setup, which writes the running Gateway into the profile', async () => {
    const run = await caracal(
      ['setup', '--scenario', 'internal-http-api', '--zone', 'ports', '--app', 'agent', '--resource', 'billing-api', '--scopes', 'billing:read', '--upstream', upstream.url, '--write-profile', '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as SetupJson;
    expect(result.control_url).toBe(`http://127.0.0.1:${ports.control}`);
    expect(result.gateway_url).toBe(`http://127.0.0.1:${ports.gateway}`);
    expect(readFileSync(result.profile_path, 'utf8')).toContain(`gateway_url = "http://127.0.0.1:${ports.gateway}"`);
  });

  it('shows a detail in the status table that does not repeat the state', async () => {
    const status = await caracal(['status'], env);
    expect(status.code).toBe(0);
    const control = status.stdout.split('\n').find((line) => line.startsWith('control')) ?? '';
    expect(control).toMatch(new RegExp(`127\\.0\\.0\\.1:${ports.control}\\s+healthy\\s+pid \\d+\\s*$`));
    expect(status.stdout).not.toMatch(/healthy\s+healthy/);
  });
});

describe('a stack found by CARACAL_CONTROL_PORT (no run files: started with caracal serve)', () => {
  it('is reached by admin commands', async () => {
    const stack = await startStack();
    try {
      const port = new URL(stack.controlUrl).port;
      const zones = await caracal(['zones', 'list', '--json'], { CARACAL_HOME: stack.home, CARACAL_CONTROL_PORT: port });
      expect(zones.code, zones.stderr).toBe(0);
      expect(JSON.parse(zones.stdout)).toHaveProperty('items');
    } finally {
      await stack.stop();
    }
  }, 60_000);
});
