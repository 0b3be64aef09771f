import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, ledgerEvents, setupWorkload, workloadEnv, type SetupJson } from './support/workload.js';

/**
 * Bad input to `caracal run` (DESIGN.md §8): each failure before the child starts is one clear
 * message and exit code 1, and the child never starts — the command would create a marker file,
 * and the marker does not exist afterwards. No secret appears in any message.
 */

let stack: Stack;
let upstream: Upstream;
let env: Record<string, string>;
let setup: SetupJson;
const dir = mkdtempSync(join(tmpdir(), 'caracal-run-errors-'));

beforeAll(async () => {
  stack = await startStack();
  upstream = await startUpstream();
  env = workloadEnv(stack).env;
  setup = await setupWorkload(env, upstream.url);
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
});

/** Runs `caracal run` with a command that would leave a marker; returns the run and whether the marker exists. */
async function attempt(name: string, profile: string, extraEnv: Record<string, string> = {}) {
  const marker = join(dir, `${name}.marker`);
  const run = await caracal(['run', '--', 'node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'started')`], { ...env, CARACAL_CONFIG: profile, ...extraEnv });
  return { run, started: existsSync(marker) };
}

/** A copy of the setup's profile with one edit. */
function profileWith(name: string, edit: (text: string) => string): string {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, edit(readFileSync(setup.profile_path, 'utf8')), { mode: 0o600 });
  return path;
}

describe('caracal run refuses bad input before starting anything', () => {
  it('the profile itself works (the marker is written)', async () => {
    const { run, started } = await attempt('ok', setup.profile_path);
    expect(run.code, run.stderr).toBe(0);
    expect(started).toBe(true);
  });

  const cases: [string, () => Promise<{ profile: string; env?: Record<string, string> }>, RegExp[]][] = [
    ['a missing profile', () => Promise.resolve({ profile: join(dir, 'nope.toml') }), [/no runtime profile: .*nope\.toml \(named by CARACAL_CONFIG\) does not exist/, /hint: .*caracal setup/]],
    [
      'unknown keys',
      () => Promise.resolve({ profile: profileWith('unknown', (t) => t.replace('[[credentials]]', '[[credentials]]\nscope = ["x"]').replace('version = 1', 'version = 1\nverbose = true')) }),
      [/unknown\.toml:4:1: unknown key "verbose"/, /unknown\.toml:\d+:1: unknown key "scope" \(did you mean "scopes"\?\)/, /invalid \(2 problems\)/],
    ],
    ['a bad type', () => Promise.resolve({ profile: profileWith('type', (t) => t.replace('scopes = ["billing:read"]', 'scopes = "billing:read"')) }), [/type\.toml:\d+:1: "scopes" must be a list of strings/]],
    ['an unsafe variable name', () => Promise.resolve({ profile: profileWith('unsafe', (t) => t.replace('CARACAL_BILLING_API_TOKEN', 'NODE_OPTIONS')) }), [/unsafe\.toml:\d+:1: "NODE_OPTIONS" is an unsafe variable name/]],
    [
      'a group-readable secret file',
      () => {
        chmodSync(setup.secret_file, 0o640);
        return Promise.resolve({ profile: setup.profile_path });
      },
      [/accessible to other users \(mode 0640\); refusing to use it/, /hint: make it owner-only: chmod 600 '.*'/],
    ],
    [
      'an unreachable control plane',
      async () => {
        chmodSync(setup.secret_file, 0o600);
        const port = await freePort();
        return { profile: profileWith('unreachable', (t) => t.replace(stack.controlUrl, `http://127.0.0.1:${port}`)) };
      },
      [/the control plane is not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/, /hint: start the stack with `caracal up`/],
    ],
    ['an unknown runtime', () => Promise.resolve({ profile: profileWith('runtime', (t) => t.replace('runtime = "env"', 'runtime = "pty"')) }), [/runtime = "pty" in .*runtime\.toml: no such runtime/, /installed runtimes: env, file, proxy/]],
  ];

  it.each(cases)('%s: one clear message, exit 1, no child', async (name, prepare, messages) => {
    const { profile, env: extra } = await prepare();
    const { run, started } = await attempt(name.replace(/\W+/g, '-'), profile, extra);
    expect(run.code).toBe(1);
    expect(started).toBe(false);
    for (const message of messages) expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain(setup.client_secret);
    expect(run.stdout).toBe('');
  });

  it('a revoked app: the token service refuses its secret, the message says so, no child', async () => {
    await stack.adminOk('POST', '/v1/revocations', { kind: 'app', app: setup.application_id, zone: setup.zone_id, reason: 'test' });
    const { run, started } = await attempt('revoked', setup.profile_path);
    expect(run.code).toBe(1);
    expect(started).toBe(false);
    expect(run.stderr).toMatch(new RegExp(`refused the client secret of app ${setup.application_id} \\(invalid_client\\) \\(request req_\\w+\\): the app was revoked or its secret rotated`));
    expect(run.stderr).toMatch(/hint: issue a new secret/);
    expect(run.stderr).not.toContain(setup.client_secret);
    // Nothing was launched: the ledger has no run.launch for the failed attempt.
    const denied = await ledgerEvents(stack.databasePath, 'token.denied', (r) => r.app === setup.application_id);
    expect(denied.length).toBeGreaterThanOrEqual(1);
    const launches = await ledgerEvents(stack.databasePath, 'run.launch', (r) => r.app === setup.application_id);
    expect(launches).toHaveLength(1);
  });
});
