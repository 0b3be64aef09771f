import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, ledgerEvents, setupWorkload, workloadEnv, type SetupJson } from './support/workload.js';

/**
 * The walkthrough of DESIGN.md §1 without the console, for each runtime: setup writes the profile,
 * `caracal run` hands the token to a client that calls the Gateway and gets the upstream's answer,
 * and the ledger links the launch, the token and the request. Then the exit-code contract (§8).
 */

let stack: Stack;
let upstream: Upstream;
let env: Record<string, string>;
let setup: SetupJson;
const scripts = mkdtempSync(join(tmpdir(), 'caracal-run-scripts-'));

/** A client that reports what it saw as one JSON line. */
const CLIENT = `
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
const e = process.env;
const jwtLike = Object.entries(e).filter(([, v]) => /^eyJ[\\w-]+\\.[\\w-]+\\.[\\w-]+$/.test(v ?? '')).map(([k]) => k);
let url, headers = {}, file = null;
if (e.CARACAL_BILLING_API_TOKEN_URL) {
  url = e.CARACAL_BILLING_API_TOKEN_URL + '/invoices?page=2';
} else {
  let token = e.CARACAL_BILLING_API_TOKEN;
  if (e.CARACAL_BILLING_API_TOKEN_FILE) {
    const path = e.CARACAL_BILLING_API_TOKEN_FILE;
    token = readFileSync(path, 'utf8');
    file = { path, mode: statSync(path).mode & 0o777, dirMode: statSync(dirname(path)).mode & 0o777 };
  }
  url = e.CARACAL_GATEWAY_URL + '/invoices?page=2';
  headers = { authorization: 'Bearer ' + token, 'x-caracal-resource': 'resource://billing-api' };
}
const res = await fetch(url, { headers });
console.log(JSON.stringify({ status: res.status, body: await res.json(), jwtLike, file, gateway: e.CARACAL_GATEWAY_URL, argv: process.argv.slice(2) }));
`;

beforeAll(async () => {
  stack = await startStack();
  upstream = await startUpstream();
  env = workloadEnv(stack).env;
  setup = await setupWorkload(env, upstream.url);
  writeFileSync(join(scripts, 'client.mjs'), CLIENT);
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
});

interface ClientReport {
  status: number;
  body: { ok: boolean; url: string };
  jwtLike: string[];
  file: { path: string; mode: number; dirMode: number } | null;
  gateway: string;
  argv: string[];
}

describe('caracal run: the walkthrough for each runtime', () => {
  it.each(['env', 'file', 'proxy'])('runtime %s: the client reaches the upstream through the Gateway, and the ledger links launch, token and request', async (runtime) => {
    const hitsBefore = upstream.requests.length;
    const run = await caracal(['run', '--runtime', runtime, '--', 'node', join(scripts, 'client.mjs'), 'an-argument'], { ...env, CARACAL_CONFIG: setup.profile_path });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as ClientReport;
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ ok: true, url: '/invoices?page=2' });
    expect(report.gateway).toBe(stack.gatewayUrl);
    expect(report.argv).toEqual(['an-argument']);
    const seen = upstream.requests[hitsBefore];
    expect(seen?.headers.authorization).toBeUndefined();

    if (runtime === 'env') expect(report.jwtLike).toEqual(['CARACAL_BILLING_API_TOKEN']);
    else expect(report.jwtLike).toEqual([]);
    if (runtime === 'file') {
      expect(report.file?.mode).toBe(0o600);
      expect(report.file?.dirMode).toBe(0o700);
      expect(existsSync(report.file?.path ?? '/'), 'token folder removed after the child exited').toBe(false);
    } else {
      expect(report.file).toBeNull();
    }

    const launches = await ledgerEvents(stack.databasePath, 'run.launch', (r) => r.app === setup.application_id && (JSON.parse(r.detail) as { runtime?: string }).runtime === runtime);
    expect(launches).toHaveLength(1);
    const launch = launches[0]!;
    expect(launch.zone).toBe(setup.zone_id);
    expect(JSON.parse(launch.detail)).toMatchObject({ command: 'node', runtime, resources: ['resource://billing-api'] });
    expect(launch.detail).not.toContain('an-argument');
    const issued = await ledgerEvents(stack.databasePath, 'token.issued', (r) => r.request_id === launch.request_id);
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({ app: setup.application_id, resource: 'resource://billing-api', decision: 'allow' });
    const requestId = seen?.headers['x-request-id'];
    const requests = await ledgerEvents(stack.databasePath, 'gateway.request', (r) => r.request_id === requestId);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ app: setup.application_id, decision: 'allow', http_status: 200, token_jti: issued[0]!.token_jti });
  });

  it('no token and no secret appears in the output of a run', async () => {
    const run = await caracal(['run', '--', 'node', '-e', 'console.log(process.env.CARACAL_GATEWAY_URL)'], { ...env, CARACAL_CONFIG: setup.profile_path });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(stack.gatewayUrl);
    expect(run.stdout + run.stderr).not.toContain(setup.client_secret);
    expect(run.stdout + run.stderr).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('withholds operator secrets (admin token, master key) from the child', async () => {
    const run = await caracal(['run', '--', 'node', '-e', 'console.log(JSON.stringify([process.env.CARACAL_ADMIN_TOKEN ?? null, process.env.CARACAL_MASTER_KEY ?? null]))'], {
      ...env,
      CARACAL_CONFIG: setup.profile_path,
      CARACAL_ADMIN_TOKEN: 'cat_not-for-workloads',
      CARACAL_MASTER_KEY: 'not-for-workloads',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([null, null]);
  });
});

describe('caracal run: exit codes (DESIGN.md §8)', () => {
  const cases: [string, number, readonly string[], RegExp | null][] = [
    ['the child exits 0', 0, ['node', '-e', 'process.exit(0)'], null],
    ['the child exits 3', 3, ['node', '-e', 'process.exit(3)'], null],
    ['the command is not found', 127, ['caracal-no-such-command-xyz'], /command not found: caracal-no-such-command-xyz/],
    ['the child is killed by SIGTERM', 143, ['sh', '-c', 'kill -TERM $$'], null],
    ['the child is killed by SIGKILL', 137, ['sh', '-c', 'kill -KILL $$'], null],
  ];
  it.each(cases)('%s → %i', async (_name, code, command, stderr) => {
    const run = await caracal(['run', '--', ...command], { ...env, CARACAL_CONFIG: setup.profile_path });
    expect(run.code, run.stderr).toBe(code);
    if (stderr) expect(run.stderr).toMatch(stderr);
  });

  it('forwards SIGTERM to the child and returns the code it exits with', async () => {
    const ready = join(scripts, 'ready');
    const got = join(scripts, 'got-signal');
    const child = `require('fs').writeFileSync(${JSON.stringify(ready)}, 'x'); process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(got)}, 'TERM'); process.exit(7); }); setInterval(() => {}, 1000);`;
    let pid = 0;
    const running = caracal(['run', '--', 'node', '-e', child], { ...env, CARACAL_CONFIG: setup.profile_path }, { onSpawn: (p) => (pid = p) });
    const deadline = Date.now() + 20_000;
    while (!existsSync(ready) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(existsSync(ready)).toBe(true);
    process.kill(pid, 'SIGTERM');
    const run = await running;
    expect(run.code).toBe(7);
    expect(readFileSync(got, 'utf8')).toBe('TERM');
  });

  it('a bad profile → 1, naming the file, the line and the fix, and no child starts', async () => {
    const bad = join(scripts, 'bad.toml');
    writeFileSync(bad, readFileSync(setup.profile_path, 'utf8').replace('runtime = "env"', 'runtme = "env"'));
    const line = readFileSync(bad, 'utf8').split('\n').findIndex((l) => l.startsWith('runtme')) + 1;
    const marker = join(scripts, 'bad-profile-marker');
    const run = await caracal(['run', '--profile', bad, '--', 'node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${bad}:${line}:1: unknown key "runtme" (did you mean "runtime"?)`);
    expect(run.stderr).toMatch(/hint: fix the lines above/);
    expect(existsSync(marker)).toBe(false);
  });
});
