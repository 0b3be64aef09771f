import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';
import { startUpstream, type Upstream } from './support/upstream.js';
import { caracal, workloadEnv, type CliRun, type SetupJson } from './support/workload.js';

/**
 * `caracal setup --scenario third-party-provider` against a real stack (DESIGN.md §1, §2a): the
 * provider flags of each kind, the credential read from an owner-only file or stdin and never
 * shown again (not in output, errors, audit, logs or the database in clear), `provider_id` in the
 * JSON contract, the Gateway injecting the credential, and re-runs that replace or keep it.
 */

let stack: Stack;
let upstream: Upstream;
let env: Record<string, string>;
let secrets: string;

beforeAll(async () => {
  [stack, upstream] = await Promise.all([startStack(), startUpstream()]);
  ({ env } = workloadEnv(stack));
  secrets = mkdtempSync(join(tmpdir(), 'caracal-credentials-'));
});

afterAll(async () => {
  await upstream?.close();
  await stack?.stop();
});

interface ThirdPartyJson extends SetupJson {
  readonly provider_id: string | null;
  readonly objects: readonly { kind: string; id: string; action: string }[];
}

interface ProviderView {
  id: string;
  name: string;
  kind: string;
  config: Record<string, unknown>;
  credential_keys: string[];
}

/** Writes a credential file with the given mode. */
function credentialFile(name: string, content: string, mode = 0o600): string {
  const path = join(secrets, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

/** `caracal setup --scenario third-party-provider` with the common flags and `args`. */
function setup(zone: string, args: readonly string[], input?: string): Promise<CliRun> {
  return caracal(['setup', '--scenario', 'third-party-provider', '--zone', zone, '--resource', 'llm-api', '--scopes', 'llm:call', '--upstream', `${upstream.url}/v1`, '--json', ...args], env, input === undefined ? {} : { input });
}

function parse(run: CliRun): ThirdPartyJson {
  if (run.code !== 0) throw new Error(`caracal setup exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout) as ThirdPartyJson;
}

async function provider(zone: string, id: string): Promise<ProviderView> {
  return stack.adminOk<ProviderView>('GET', `/v1/zones/${zone}/providers/${id}`);
}

/** One call through the Gateway as the set-up app; resolves with what the upstream received. */
async function callThrough(result: ThirdPartyJson): Promise<{ status: number; body: string; headers: Record<string, unknown>; url: string }> {
  const token = await stack.mint({ appId: result.application_id, clientSecret: result.client_secret, resourceId: result.resource_id });
  upstream.reset();
  const response = await fetch(`${stack.gatewayUrl}/models?x=1`, { headers: stack.gatewayHeaders({ resourceId: result.resource_id }, token) });
  const body = await response.text();
  const seen = upstream.requests[0];
  return { status: response.status, body, headers: seen?.headers ?? {}, url: seen?.url ?? '' };
}

/**
 * Calls through the Gateway until `done` holds for what the upstream saw: a provider change reaches
 * the Gateway's snapshot through the store watch, within a second (DESIGN.md §6), not at once.
 */
async function callThroughUntil(result: ThirdPartyJson, done: (seen: Awaited<ReturnType<typeof callThrough>>) => boolean): Promise<Awaited<ReturnType<typeof callThrough>>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const seen = await callThrough(result);
    if (done(seen) || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every file of the home (database, WAL, logs, keys) as bytes, to look for a secret in clear. */
function homeBytes(): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(readFileSync(path).toString('latin1'));
    }
  };
  walk(stack.home);
  return out.join('\n');
}

describe('caracal setup --scenario third-party-provider, api-key from a file', () => {
  const key = 'sk-e2e-FIRST-api-key-value';
  let result: ThirdPartyJson;
  let run: CliRun;

  beforeAll(async () => {
    run = await setup('tp-key', ['--provider-kind', 'api-key', '--api-key-header', 'X-Api-Key', '--allowed-hosts', '127.0.0.1', '--credential-file', credentialFile('key', `${key}\n`)]);
    result = parse(run);
  });

  it('prints the JSON contract with provider_id, creating the provider before the resource', () => {
    expect(result).toMatchObject({ scenario: 'third-party-provider', resource_id: 'resource://llm-api', created: ['zone', 'application', 'provider', 'resource', 'policy', 'policy_set'] });
    expect(result.provider_id).toMatch(/^prv_/);
    for (const key of ['zone_id', 'application_id', 'client_secret', 'policy_set_id', 'policy_set_version', 'profile_path', 'secret_file', 'profile', 'gateway_url', 'control_url', 'commands']) expect(result).toHaveProperty(key);
  });

  it('created the provider with its config, and the API shows only the names of its credentials', async () => {
    const view = await provider(result.zone_id, result.provider_id as string);
    expect(view).toMatchObject({ name: 'llm-api', kind: 'api-key', config: { header: 'x-api-key', allowed_hosts: ['127.0.0.1'] }, credential_keys: ['api_key'] });
    expect(JSON.stringify(view)).not.toContain(key);
    const resource = await stack.adminOk<{ provider_id: string }>('GET', `/v1/zones/${result.zone_id}/resources/${encodeURIComponent(result.resource_id)}`);
    expect(resource.provider_id).toBe(result.provider_id);
  });

  it('lets the Gateway inject the key: the upstream gets it, never the Caracal token', async () => {
    const seen = await callThrough(result);
    expect(seen.status, seen.body).toBe(200);
    expect(seen.headers['x-api-key']).toBe(key);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.url).toBe('/v1/models?x=1');
  });

  it('never shows the credential: not in the output, nor in clear anywhere in the home (database, audit, logs)', () => {
    expect(run.stdout + run.stderr).not.toContain(key);
    expect(homeBytes()).not.toContain(key);
  });

  it('a re-run with a new credential file replaces it (same provider, the Gateway uses the new key at once)', async () => {
    const again = parse(await setup('tp-key', ['--provider-kind', 'api-key', '--api-key-header', 'X-Api-Key', '--allowed-hosts', '127.0.0.1', '--rotate-secret', '--credential-file', credentialFile('key2', 'sk-e2e-SECOND-key\n')]));
    expect(again.provider_id).toBe(result.provider_id);
    expect(again.objects.find((o) => o.kind === 'provider')?.action).toBe('rotated');
    expect((await callThroughUntil(again, (seen) => seen.headers['x-api-key'] !== key)).headers['x-api-key']).toBe('sk-e2e-SECOND-key');
    result = again;
  });

  it('a re-run without a credential keeps the stored one; changed settings update the provider', async () => {
    const again = parse(await setup('tp-key', ['--provider-kind', 'api-key', '--api-key-header', 'X-Other-Key', '--allowed-hosts', '127.0.0.1', '--rotate-secret']));
    expect(again.objects.find((o) => o.kind === 'provider')).toMatchObject({ id: result.provider_id, action: 'updated' });
    expect((await provider(again.zone_id, result.provider_id as string)).config).toMatchObject({ header: 'x-other-key' });
    expect((await callThroughUntil(again, (seen) => seen.headers['x-other-key'] !== undefined)).headers['x-other-key']).toBe('sk-e2e-SECOND-key');
  });
});

describe('caracal setup --scenario third-party-provider, other kinds', () => {
  it('reads a basic credential "user:password" from stdin with --credential-file -', async () => {
    const result = parse(await setup('tp-basic', ['--provider-kind', 'basic', '--credential-file', '-'], 'ann:pa ss:word\n'));
    expect(await provider(result.zone_id, result.provider_id as string)).toMatchObject({ kind: 'basic', credential_keys: ['password', 'username'] });
    const seen = await callThrough(result);
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('ann:pa ss:word').toString('base64')}`);
  });

  it('maps the oauth2 client-credentials flags to the provider config', async () => {
    const result = parse(
      await setup('tp-oauth', [
        '--provider-kind', 'oauth2-client-credentials', '--token-url', `${upstream.url}/oauth/token`, '--client-id', 'caracal-e2e',
        '--provider-scopes', 'read,write', '--audience', 'https://api.example.com', '--provider-name', 'example-oauth', '--credential-file', credentialFile('client-secret', 'client-secret-value\n'),
      ]),
    );
    expect(await provider(result.zone_id, result.provider_id as string)).toMatchObject({
      name: 'example-oauth',
      kind: 'oauth2-client-credentials',
      config: { token_url: `${upstream.url}/oauth/token`, client_id: 'caracal-e2e', scopes: ['read', 'write'], audience: 'https://api.example.com', auth_method: 'client_secret_basic' },
      credential_keys: ['client_secret'],
    });
  });

  it('maps bearer with its own scheme', async () => {
    const result = parse(await setup('tp-bearer', ['--provider-kind', 'bearer', '--auth-scheme', 'Token', '--credential-file', '-'], 'tok-123'));
    expect((await callThrough(result)).headers.authorization).toBe('Token tok-123');
  });
});

describe('caracal setup --scenario third-party-provider refusals (nothing is created)', () => {
  const zoneExists = async (zone: string) => (await stack.admin('GET', `/v1/zones/${zone}`)).status === 200;

  it.each([
    ['a credential file other users can read', () => ['--provider-kind', 'bearer', '--credential-file', credentialFile('open', 'sk-OPEN-secret\n', 0o644)], /is accessible to other users \(mode 0644\)/, /chmod 600/],
    ['no credential for a provider that does not exist yet', () => ['--provider-kind', 'bearer'], /provider "llm-api" does not exist in zone tp-refused yet, so setup needs its credential/, /--credential-file PATH/],
    ['a flag of another kind', () => ['--provider-kind', 'api-key', '--api-key-header', 'X-Api-Key', '--token-url', 'https://a/t', '--credential-file', '-'], /--token-url applies only when --provider-kind is oauth2-client-credentials/, /drop --token-url/],
    ['api-key without a place for the key', () => ['--provider-kind', 'api-key', '--credential-file', '-'], /give either API key header \(--api-key-header/, /./],
    ['a basic credential without a colon', () => ['--provider-kind', 'basic', '--credential-file', '-'], /a basic credential file holds user:password/, /./],
  ])('refuses %s with a message that says how to fix it', async (_name, args, message, hint) => {
    const run = await setup('tp-refused', args(), 'sk-STDIN-secret-no-colon\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(hint);
    expect(run.stderr + run.stdout).not.toMatch(/sk-(OPEN|STDIN)-secret/);
    expect(await zoneExists('tp-refused')).toBe(false);
  });

  it('refuses a third-party flag under another scenario instead of ignoring it', async () => {
    const run = await caracal(['setup', '--scenario', 'internal-http-api', '--resource', 'x', '--scopes', 'a', '--upstream', upstream.url, '--provider-kind', 'bearer'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--provider-kind is not a flag of scenario internal-http-api (it belongs to third-party-provider)');
  });
});
