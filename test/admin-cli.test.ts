import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControl, type TestControl } from '../core/control/routes/test-support/start-control.js';

/**
 * The admin CLI end to end: a real control plane in this process (port 0, SQLite in a temp
 * home), and the real `caracal` bin in child processes, reading the admin token from the home.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'caracal.js');
let control: TestControl;
let files: string;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `caracal --home HOME <args> --control-url URL` with a clean environment. */
async function caracal(args: readonly string[], options: { home?: string; controlUrl?: string; env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: files, NO_COLOR: '1', ...options.env };
  const result = await execa(process.execPath, [bin, '--home', options.home ?? control.home, ...args, '--control-url', options.controlUrl ?? control.url], {
    env,
    extendEnv: false,
    reject: false,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { code: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

async function json<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const run = await caracal([...args, '--json']);
  expect(run.stderr).toBe('');
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

function file(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const INVALID_POLICY = `version = 1

[[rules]]
id = "read"
effect = "permit"
apps = ["*"]
resources = ["billing-api"]
scopes = ["billing:read"]
`;

let appId = '';

beforeAll(async () => {
  control = await startTestControl();
  files = mkdtempSync(join(tmpdir(), 'caracal-cli-files-'));
});

afterAll(async () => {
  await control?.close();
  if (files) rmSync(files, { recursive: true, force: true });
});

describe('caracal zones', () => {
  it('creates and lists zones (JSON and table)', async () => {
    const zone = await json(['zones', 'create', 'eval', '--description', 'first run']);
    expect(zone).toMatchObject({ name: 'eval', kind: 'evaluation', description: 'first run' });
    const list = await json<{ items: { name: string }[] }>(['zones', 'list']);
    expect(list.items.map((z) => z.name)).toEqual(['eval']);
    const table = await caracal(['zones', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+KIND\s+DESCRIPTION$/);
    expect(table.stdout).toContain('first run');
  });

  it('refuses to delete a zone without --yes (exit 2)', async () => {
    const run = await caracal(['zones', 'delete', 'eval']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--yes');
  });
});

describe('caracal apps', () => {
  it('creates an app and prints its secret once, clearly labelled', async () => {
    const run = await caracal(['apps', 'create', 'billing-agent', '--zone', 'eval']);
    expect(run.code).toBe(0);
    const secret = /\n {2}(cs_[A-Za-z0-9_-]{43})$/.exec(run.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(run.stdout).toContain('client secret of billing-agent');
    expect(run.stdout).toContain('shown once');
    expect(run.stdout.split(secret ?? '').length).toBe(2);
  });

  it('lists apps as JSON without any secret, and as a table', async () => {
    const list = await json<{ items: Record<string, unknown>[] }>(['apps', 'list', '--zone', 'eval']);
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).not.toHaveProperty('client_secret');
    appId = list.items[0]?.id as string;
    const table = await caracal(['apps', 'list', '--zone', 'eval']);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+DISABLED/);
    expect(table.stdout).toContain('billing-agent');
    expect(table.stdout).not.toContain('cs_');
  });

  it('takes the zone from CARACAL_ZONE', async () => {
    const run = await caracal(['apps', 'get', 'billing-agent', '--json'], { env: { CARACAL_ZONE: 'eval' } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: appId });
  });

  it('rotates the secret (JSON carries the new one), disables and enables', async () => {
    const rotated = await json<{ client_secret: string }>(['apps', 'rotate-secret', 'billing-agent', '--zone', 'eval']);
    expect(rotated.client_secret).toMatch(/^cs_/);
    expect(await json(['apps', 'disable', appId, '--zone', 'eval'])).toMatchObject({ disabled: true });
    expect((await json<{ items: unknown[] }>(['apps', 'list', '--zone', 'eval', '--enabled'])).items).toHaveLength(0);
    expect(await json(['apps', 'enable', appId, '--zone', 'eval'])).toMatchObject({ disabled: false });
  });

  it.each([
    ['an unknown app', ['apps', 'get', 'ghost', '--zone', 'eval'], 3, 'app "ghost" does not exist'],
    ['an unknown zone', ['apps', 'list', '--zone', 'nowhere'], 3, 'zone "nowhere" does not exist'],
    ['a name already taken', ['apps', 'create', 'billing-agent', '--zone', 'eval'], 4, 'already exists'],
    ['a missing --zone', ['apps', 'list'], 2, '--zone'],
    ['an update with nothing to change', ['apps', 'update', 'billing-agent', '--zone', 'eval'], 2, 'nothing to change'],
  ])('exits with the error code for %s', async (_name, args, code, words) => {
    const run = await caracal(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(words);
    expect(run.stdout).toBe('');
  });
});

describe('caracal resources and providers', () => {
  it('creates a resource and shows it', async () => {
    const resource = await json(['resources', 'create', 'billing-api', '--scopes', 'billing:read,billing:write', '--upstream', 'http://127.0.0.1:9000', '--zone', 'eval']);
    expect(resource).toMatchObject({ id: 'resource://billing-api', scopes: ['billing:read', 'billing:write'] });
    const shown = await caracal(['resources', 'get', 'resource://billing-api', '--zone', 'eval']);
    expect(shown.stdout).toMatch(/upstream:\s+http:\/\/127\.0\.0\.1:9000/);
  });

  it('refuses a bad upstream URL with a clear message (exit 7)', async () => {
    const run = await caracal(['resources', 'create', 'bad', '--scopes', 'a', '--upstream', 'https://example.com/#x', '--zone', 'eval']);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('must not contain a fragment');
  });

  it('creates a provider from a credential file and never prints the credential', async () => {
    const credential = file('stripe.key', 'sk_live_cli_provider_secret\n');
    const run = await caracal(['providers', 'create', 'stripe', '--kind', 'api-key', '--header', 'X-Api-Key', '--credential-file', credential, '--zone', 'eval', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: 'api-key', credential_keys: ['api_key'], config: { header: 'x-api-key' } });
    expect(run.stdout).not.toContain('sk_live_cli_provider_secret');

    const basic = await caracal(['providers', 'create', 'legacy', '--kind', 'basic', '--credential-file', '-', '--zone', 'eval', '--json'], { input: 'svc:pa55word\n' });
    expect(basic.code).toBe(0);
    expect(JSON.parse(basic.stdout)).toMatchObject({ credential_keys: ['password', 'username'] });

    const switched = await json(['providers', 'update', 'stripe', '--query', 'key', '--zone', 'eval']);
    expect(switched).toMatchObject({ config: { query: 'key', allowed_hosts: [] } });
    const replaced = await caracal(['providers', 'set-credentials', 'stripe', '--credential-file', '-', '--zone', 'eval'], { input: 'sk_live_rotated_secret' });
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('values are write-only');
    expect(replaced.stdout).not.toContain('sk_live_rotated_secret');
  });
});

describe('caracal policies and policy-sets', () => {
  it('validates a policy file: line-precise problems and exit 7 when invalid', async () => {
    const bad = await caracal(['policies', 'validate', file('bad.toml', INVALID_POLICY), '--zone', 'eval']);
    expect(bad.code).toBe(7);
    expect(bad.stderr).toContain('line 5');
    expect(bad.stderr).toContain('nothing was stored');
  });

  it('creates a policy, adds a version, creates a set, activates, simulates and rolls back', async () => {
    const doc = (scope: string) => `[[rules]]\nid = "read"\neffect = "allow"\napps = ["${appId}"]\nresources = ["billing-api"]\nscopes = ["${scope}"]\nmethods = ["GET"]\n`;
    const ok = await caracal(['policies', 'validate', file('ok.toml', doc('billing:read')), '--zone', 'eval']);
    expect(ok.stdout).toContain('valid policy (1 rule)');

    expect(await json(['policies', 'create', 'billing', '--file', file('v1.toml', doc('billing:read')), '--zone', 'eval'])).toMatchObject({ latest_version: 1 });
    expect(await json(['policies', 'add-version', 'billing', file('v2.toml', doc('billing:write')), '--zone', 'eval'])).toMatchObject({ version: 2 });
    const refused = await caracal(['policies', 'add-version', 'billing', file('bad2.toml', INVALID_POLICY), '--zone', 'eval']);
    expect(refused.code).toBe(7);
    expect((await json<{ items: unknown[] }>(['policies', 'versions', 'billing', '--zone', 'eval'])).items).toHaveLength(2);
    expect(await json(['policies', 'get', 'billing', '2', '--zone', 'eval'])).toMatchObject({ version: 2, format: 'toml' });

    expect(await json(['policy-sets', 'create', 'main', '--policy', 'billing@1', '--zone', 'eval'])).toMatchObject({ latest_version: 1 });
    expect(await json(['policy-sets', 'add-version', 'main', '--policy', 'billing', '--zone', 'eval'])).toMatchObject({ version: 2 });
    expect(await json(['policy-sets', 'activate', 'main', '1', '--zone', 'eval'])).toMatchObject({ previous: null, active: { version: 1 } });
    const second = await caracal(['policy-sets', 'activate', 'main', '--zone', 'eval']);
    expect(second.stdout).toMatch(/activated pset_\w+@2 in zone eval \(previously active: pset_\w+@1\)/);

    const list = await caracal(['policy-sets', 'list', '--zone', 'eval']);
    expect(list.stdout).toMatch(/main\s+2\s+version 2/);

    const sim = await caracal(['policy-sets', 'simulate', '--app', 'billing-agent', '--resource', 'billing-api', '--scopes', 'billing:read', '--method', 'GET', '--path', '/x', '--zone', 'eval']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toContain('request GET /x: DENY');
    const simJson = await json<{ decision: { effect: string } }>(['policy-sets', 'simulate', '--app', 'billing-agent', '--resource', 'billing-api', '--scopes', 'billing:read', '--policy-set', 'main@1', '--zone', 'eval']);
    expect(simJson.decision.effect).toBe('allow');

    const back = await json(['policy-sets', 'rollback', '--zone', 'eval']);
    expect(back).toMatchObject({ active: { version: 1 }, previous: { version: 2 } });
    expect(await json(['policy-sets', 'active', '--zone', 'eval'])).toMatchObject({ active: { version: 1 } });
  });
});

describe('caracal revoke and keys', () => {
  it('revokes a token by jti and an app (kill switch, new secret printed once)', async () => {
    const jti = await json(['revoke', '--jti', 'tok_cli_test', '--zone', 'eval', '--reason', 'test']);
    expect(jti).toMatchObject({ revocation: { kind: 'jti', value: 'tok_cli_test' }, app: null });
    const app = await caracal(['revoke', '--app', 'billing-agent', '--zone', 'eval']);
    expect(app.code).toBe(0);
    expect(app.stdout).toContain('revoked every token app billing-agent');
    expect(app.stdout).toMatch(/shown once[^\n]*:\n {2}cs_[A-Za-z0-9_-]{43}$/);
    const list = await json<{ items: { kind: string }[] }>(['revocations', 'list', '--zone', 'eval']);
    expect(list.items.map((r) => r.kind).sort()).toEqual(['app', 'jti']);
    const both = await caracal(['revoke', '--jti', 'x', '--app', 'y', '--zone', 'eval']);
    expect(both.code).toBe(2);
  });

  it('rotates and lists signing keys', async () => {
    const first = await json<{ active: { kid: string } }>(['keys', 'rotate', '--zone', 'eval']);
    const second = await caracal(['keys', 'rotate', '--zone', 'eval']);
    expect(second.stdout).toContain(`${first.active.kid} stays published until`);
    const keys = await json<{ items: { status: string }[] }>(['keys', 'list', '--zone', 'eval']);
    expect(keys.items.map((k) => k.status).sort()).toEqual(['active', 'retired']);
  });
});

describe('connection and authentication', () => {
  it('says how to start the control plane when nothing listens (exit 6)', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = await caracal(['apps', 'list', '--zone', 'eval'], { controlUrl: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(6);
    expect(run.stderr).toContain(`control plane not reachable at http://127.0.0.1:${port}; start it with \`caracal up\``);
  });

  it('refuses without a readable admin token (exit 5), and with a wrong one (exit 5)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'caracal-cli-home-'));
    try {
      const missing = await caracal(['zones', 'list'], { home: empty });
      expect(missing.code).toBe(5);
      expect(missing.stderr).toContain('admin token');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const wrong = await caracal(['zones', 'list', '--admin-token-file', file('wrong-token', 'cat_wrong\n')]);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('CRC_UNAUTHORIZED');
    const fromEnv = await caracal(['zones', 'list', '--json'], { env: { CARACAL_ADMIN_TOKEN: control.adminToken }, home: join(files, 'no-such-home') });
    expect(fromEnv.code).toBe(0);
  });

  it('never logged a secret on the server side', async () => {
    await control.audit.flush();
    const logs = control.logs();
    expect(logs).not.toMatch(/cs_[A-Za-z0-9_-]{43}/);
    expect(logs).not.toContain('sk_live_');
    expect(logs).not.toContain('pa55word');
    expect(logs).not.toContain(control.adminToken);
    const audit = JSON.stringify((await control.store.queryAudit({ limit: 500 })).items);
    expect(audit).not.toMatch(/cs_[A-Za-z0-9_-]{43}/);
    expect(audit).not.toContain('sk_live_');
    expect(audit).not.toContain('pa55word');
  });
});
