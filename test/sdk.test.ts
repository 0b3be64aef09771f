import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { ledgerEvents, ROOT, setupWorkload, workloadEnv, type SetupJson } from './support/workload.js';

/**
 * The TypeScript SDK as a workload uses it: a script in its own process imports `caracal/sdk`
 * (the package's own export, resolved by self-reference) and reads the profile `caracal setup`
 * wrote, through the same lookup as `caracal run`.
 */

let stack: Stack;
let upstream: Upstream;
let env: Record<string, string>;
let setup: SetupJson;
const scripts = mkdtempSync(join(ROOT, 'test', '.sdk-scripts-'));

/** Uses the SDK and prints what it saw as one JSON line. */
const SUCCESS = `
import { Caracal } from 'caracal/sdk';
const caracal = new Caracal();
const out = {};
const first = await caracal.fetch('billing-api', '/invoices?page=1', { headers: { 'x-trace': 'sdk', authorization: 'Bearer not-mine' } });
out.first = { status: first.status, body: await first.json() };
const tokens = await Promise.all(Array.from({ length: 10 }, () => caracal.token('resource://billing-api')));
out.sameToken = new Set(tokens).size === 1;
const missing = await caracal.fetch('billing-api', '/missing');
out.upstream404 = { status: missing.status, body: await missing.json() };
try { await caracal.token('other-api'); } catch (error) { out.unlisted = { code: error.code, message: error.message }; }
console.log(JSON.stringify(out));
`;

/** Calls an upstream that is down: the Gateway refuses, the SDK throws its typed error. */
const REFUSED = `
import { Caracal, CaracalGatewayError } from 'caracal/sdk';
try {
  await new Caracal().fetch('billing-api', '/down');
  console.log('null');
} catch (error) {
  console.log(JSON.stringify({ isGatewayError: error instanceof CaracalGatewayError, status: error.status, code: error.code, reason: error.reason, category: error.category, requestId: error.requestId, hint: error.hint }));
}
`;

beforeAll(async () => {
  stack = await startStack();
  upstream = await startUpstream();
  env = workloadEnv(stack).env;
  setup = await setupWorkload(env, upstream.url);
  writeFileSync(join(scripts, 'success.mjs'), SUCCESS);
  writeFileSync(join(scripts, 'refused.mjs'), REFUSED);
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
  const { rmSync } = await import('node:fs');
  rmSync(scripts, { recursive: true, force: true });
});

async function runScript(name: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(scripts, name)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), CARACAL_CONFIG: setup.profile_path },
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("import { Caracal } from 'caracal/sdk'", () => {
  it('calls the resource through the Gateway with its own token, caches it (one mint), and returns the upstream\'s own errors', async () => {
    upstream.setHandler((req, res, recorded) => {
      const status = recorded.url === '/missing' ? 404 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: status === 200, url: recorded.url, trace: req.headers['x-trace'] ?? null }));
    });
    const out = await runScript('success.mjs');
    expect(out.first).toEqual({ status: 200, body: { ok: true, url: '/invoices?page=1', trace: 'sdk' } });
    expect(out.sameToken).toBe(true);
    expect(out.upstream404).toEqual({ status: 404, body: { ok: false, url: '/missing', trace: null } });
    expect(out.unlisted).toMatchObject({ code: 'CRC_USAGE' });
    expect((out.unlisted as { message: string }).message).toContain('resource://other-api is not in the profile');
    const issued = await ledgerEvents(stack.databasePath, 'token.issued', (r) => r.app === setup.application_id);
    // setup mints nothing: this is the SDK's one mint for twelve uses.
    expect(issued).toHaveLength(1);
    const requests = await ledgerEvents(stack.databasePath, 'gateway.request', (r) => r.app === setup.application_id, 2);
    expect(requests.map((r) => [r.http_path, r.http_status, r.token_jti])).toEqual([
      ['/invoices', 200, issued[0]!.token_jti],
      ['/missing', 404, issued[0]!.token_jti],
    ]);
  });

  it('throws CaracalGatewayError with the Gateway\'s code, category and request ID when the Gateway refuses', async () => {
    const down = upstream;
    await down.close();
    const out = await runScript('refused.mjs');
    expect(out).toMatchObject({ isGatewayError: true, status: 502, category: 'upstream' });
    expect(out.requestId).toMatch(/^req_/);
    expect(typeof out.code).toBe('string');
    expect(typeof out.hint).toBe('string');
    const recorded = await ledgerEvents(stack.databasePath, 'gateway.request', (r) => r.request_id === out.requestId);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.category).toBe('upstream');
  });

  it('resolves the package self-reference to the built SDK', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', "const sdk = await import('caracal/sdk'); console.log(Object.keys(sdk).sort().join(','))"], { cwd: ROOT, encoding: 'utf8' });
    expect(stdout.trim()).toBe('Caracal,CaracalError,CaracalGatewayError,TokenRequestError');
  });
});
