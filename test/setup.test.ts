import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { BIN, caracal, setupWorkload, workloadEnv, type SetupJson } from './support/workload.js';

/**
 * `caracal setup --scenario internal-http-api` against a real control plane (DESIGN.md §1): the
 * `--json` contract, the files it writes and their modes, re-runs that reuse what exists, the
 * refusals that protect a one-time secret, and the advice after a failure midway.
 */

let stack: Stack;
let upstream: Upstream;

beforeAll(async () => {
  stack = await startStack();
  upstream = await startUpstream();
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
});

async function mintWith(appId: string, clientSecret: string): Promise<number> {
  const basic = Buffer.from(`${appId}:${clientSecret}`).toString('base64');
  const response = await fetch(`${stack.controlUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'resource://billing-api' }).toString(),
  });
  await response.text();
  return response.status;
}

describe('caracal setup --json', () => {
  let env: Record<string, string>;
  let configDir: string;
  let result: SetupJson;

  beforeAll(async () => {
    ({ env, configDir } = workloadEnv(stack));
    result = await setupWorkload(env, upstream.url, [], { zone: 'json' });
  });

  it('prints exactly the contract keys of DESIGN.md §1 (more allowed), with the created objects', () => {
    for (const key of ['scenario', 'zone_id', 'application_id', 'resource_id', 'client_secret', 'policy_set_id', 'policy_set_version', 'profile_path', 'secret_file', 'profile', 'gateway_url', 'control_url', 'commands', 'created']) {
      expect(result, key).toHaveProperty(key);
    }
    expect(result).toMatchObject({
      scenario: 'internal-http-api',
      resource_id: 'resource://billing-api',
      policy_set_version: 1,
      profile_path: join(configDir, 'caracal.toml'),
      gateway_url: stack.gatewayUrl,
      control_url: stack.controlUrl,
      created: ['zone', 'application', 'resource', 'policy', 'policy_set'],
    });
    expect(result.zone_id).toMatch(/^zn_/);
    expect(result.application_id).toMatch(/^app_/);
    expect(result.client_secret).toMatch(/^cs_/);
    expect(result.policy_set_id).toMatch(/^pset_/);
    expect(result.secret_file).toBe(join(configDir, 'secrets', result.zone_id, result.application_id));
    expect(result.commands.run).toBe(`CARACAL_CONFIG=${result.profile_path} caracal run -- <command>`);
    expect(result.commands.curl).toContain('$CARACAL_BILLING_API_TOKEN');
  });

  it('writes the profile it printed and an owner-only secret file, in owner-only folders', () => {
    expect(readFileSync(result.profile_path, 'utf8')).toBe(result.profile);
    expect(readFileSync(result.secret_file, 'utf8').trim()).toBe(result.client_secret);
    expect(statSync(result.profile_path).mode & 0o777).toBe(0o600);
    expect(statSync(result.secret_file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(result.secret_file)).mode & 0o777).toBe(0o700);
    expect(statSync(join(configDir, 'secrets')).mode & 0o777).toBe(0o700);
    expect(result.profile).toContain(`client_secret_file = "${result.secret_file}"`);
    expect(result.profile).not.toContain(result.client_secret);
    expect(result.profile).toContain('env = "CARACAL_BILLING_API_TOKEN"');
  });

  it('activates a policy that lets the app get a token', async () => {
    expect(await mintWith(result.application_id, result.client_secret)).toBe(200);
    const active = await stack.adminOk<{ active: { policy_set_id: string; version: number } }>('GET', `/v1/zones/json/policy/active`);
    expect(active.active).toMatchObject({ policy_set_id: result.policy_set_id, version: 1 });
  });

  it('prints a curl line that works as pasted (caracal on PATH)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'caracal-bin-'));
    symlinkSync(BIN, join(bin, 'caracal'));
    // Asynchronously: the upstream answering it lives in this process.
    const { stdout } = await promisify(execFile)('sh', ['-c', result.commands.curl], {
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir() },
      encoding: 'utf8',
    });
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, method: 'GET', url: '/' });
  });

  it('refuses to reuse the app without --rotate-secret, before changing anything', async () => {
    const run = await caracal(['setup', '--zone', 'json', '--resource', 'billing-api', '--scopes', 'billing:read', '--upstream', upstream.url, '--write-profile', '--overwrite', '--json'], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/app "agent" \(app_\w+\) already exists in zone json; its client secret was shown once/);
    expect(run.stderr).toMatch(/hint: pass --rotate-secret/);
    expect(await mintWith(result.application_id, result.client_secret)).toBe(200);
  });

  it('refuses to overwrite the profile without --overwrite, before rotating the secret', async () => {
    const run = await caracal(['setup', '--zone', 'json', '--resource', 'billing-api', '--scopes', 'billing:read', '--upstream', upstream.url, '--write-profile', '--rotate-secret', '--json'], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`the profile ${result.profile_path} already exists; refusing to overwrite it`);
    expect(await mintWith(result.application_id, result.client_secret)).toBe(200);
  });

  it('re-running with --rotate-secret --overwrite reuses every object and replaces the secret', async () => {
    const again = await setupWorkload(env, upstream.url, ['--rotate-secret', '--overwrite'], { zone: 'json' });
    expect(again.created).toEqual([]);
    expect(again.reused).toEqual(['zone', 'application', 'resource', 'policy', 'policy_set']);
    expect([again.zone_id, again.application_id, again.policy_set_id, again.policy_set_version]).toEqual([result.zone_id, result.application_id, result.policy_set_id, 1]);
    expect(again.client_secret).not.toBe(result.client_secret);
    expect(readFileSync(again.secret_file, 'utf8').trim()).toBe(again.client_secret);
    expect(await mintWith(again.application_id, again.client_secret)).toBe(200);
    expect(await mintWith(result.application_id, result.client_secret)).toBe(401);
  });
});

describe('caracal setup: more than one app in a zone', () => {
  it('extends the active policy set, so the first app keeps its access', async () => {
    const { env } = workloadEnv(stack);
    const first = await setupWorkload(env, upstream.url, [], { zone: 'shared', app: 'first' });
    const second = await setupWorkload(env, upstream.url, ['--profile-path', join(env.CARACAL_CONFIG_DIR as string, 'second.toml')], { zone: 'shared', app: 'second' });
    expect(second.created).toEqual(['application', 'policy']);
    expect(second.reused).toEqual(['zone', 'resource', 'policy_set']);
    expect(second.policy_set_id).toBe(first.policy_set_id);
    expect(second.policy_set_version).toBe(2);
    expect(await mintWith(first.application_id, first.client_secret)).toBe(200);
    expect(await mintWith(second.application_id, second.client_secret)).toBe(200);
  });
});

describe('caracal setup: bad input and failures midway', () => {
  it('names every missing flag when no terminal is attached', async () => {
    const { env } = workloadEnv(stack);
    const run = await caracal(['setup', '--scenario', 'internal-http-api', '--scopes', 'a:b'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('caracal setup --scenario internal-http-api is missing --resource, --upstream');
    expect(run.stderr).toMatch(/--upstream: Where the Gateway forwards calls/);
  });

  it('checks values with the scenario\'s own rules', async () => {
    const { env } = workloadEnv(stack);
    const run = await caracal(['setup', '--resource', 'Billing API', '--scopes', 'a', '--upstream', 'http://127.0.0.1:1'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--resource: use resource:\/\/<slug> or a bare slug/);
  });

  it('an unknown runtime lists the installed ones', async () => {
    const { env } = workloadEnv(stack);
    const run = await caracal(['setup', '--resource', 'x', '--scopes', 'a', '--upstream', 'http://127.0.0.1:9', '--runtime', 'pty'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--runtime pty: no such runtime[\s\S]*installed runtimes: env, file, proxy/);
  });

  it('writes the runtime it was given into the profile', async () => {
    const { env } = workloadEnv(stack);
    const result = await setupWorkload(env, upstream.url, ['--runtime', 'proxy'], { zone: 'proxied' });
    expect(result.profile).toContain('runtime = "proxy"');
  });

  it('an unknown scenario lists the installed ones', async () => {
    const { env } = workloadEnv(stack);
    const run = await caracal(['setup', '--scenario', 'nope'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no scenario "nope"[\s\S]*installed scenarios: internal-http-api/);
  });

  it('a step that fails says what was created and how to resume or undo', async () => {
    const { env } = workloadEnv(stack);
    await setupWorkload(env, upstream.url, [], { zone: 'midway', app: 'owner' });
    const run = await caracal(['setup', '--zone', 'midway', '--app', 'latecomer', '--resource', 'billing-api', '--scopes', 'billing:read', '--upstream', 'http://127.0.0.1:9', '--json'], env);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/setup \(internal-http-api\) stopped at resource resource:\/\/billing-api: resource resource:\/\/billing-api already exists in this zone with upstream/);
    expect(run.stderr).toMatch(/created so far: application latecomer \(app_\w+, created\)/);
    expect(run.stderr).toMatch(/re-run the same command: what exists is reused, adding --rotate-secret/);
    expect(run.stderr).toMatch(/or undo: caracal apps delete app_\w+ --zone midway/);
    expect(run.stderr).toMatch(/caracal resources update resource:\/\/billing-api --zone/);
  });

  it('the control plane unreachable: a clear message and nothing written', async () => {
    const { env, configDir } = workloadEnv(stack);
    const run = await caracal(['setup', '--resource', 'x', '--scopes', 'a', '--upstream', 'http://127.0.0.1:9', '--write-profile', '--control-url', 'http://127.0.0.1:9'], env);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/control plane not reachable at http:\/\/127\.0\.0\.1:9/);
    expect(() => statSync(join(configDir, 'caracal.toml'))).toThrow();
  });

  it('prints a readable result for a person, with the secret once and the first-success commands', async () => {
    const { env } = workloadEnv(stack);
    mkdirSync(env.CARACAL_CONFIG_DIR as string, { recursive: true });
    const run = await caracal(['setup', '--zone', 'human', '--resource', 'billing-api', '--scopes', 'billing:read', '--upstream', upstream.url], env);
    expect(run.code, run.stderr).toBe(0);
    const secrets = run.stdout.match(/cs_[\w-]{40,}/g) ?? [];
    expect(secrets).toHaveLength(1);
    expect(run.stdout).toMatch(/profile +.*caracal\.toml +\(not written: pass --write-profile\)/);
    expect(run.stdout).toContain('caracal run -- <command>');
    expect(run.stdout).toMatch(/policy set +pset_\w+ version 1 \(active\)/);
  });
});
