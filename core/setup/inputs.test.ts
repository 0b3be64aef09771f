import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ScenarioContribution } from '../plugin/types.js';
import { internalHttpApiScenario } from '../../plugins/scenario-internal-http-api/scenario.js';
import { thirdPartyProviderScenario } from '../../plugins/scenario-third-party-provider/scenario.js';
import { firstSuccessCommands, shellQuote } from './commands.js';
import { collectInput, fieldFlag, flagKey, readSecretInput } from './inputs.js';

describe('fieldFlag and flagKey', () => {
  it.each([
    [{ name: 'writeProfile', kind: 'boolean' }, 'write-profile', 'writeProfile'],
    [{ name: 'firstPath', kind: 'text' }, 'first-path', 'firstPath'],
    [{ name: 'credential', kind: 'secret' }, 'credential-file', 'credentialFile'],
    [{ name: 'api_key_header', kind: 'text' }, 'api-key-header', 'apiKeyHeader'],
  ] as const)('%j → --%s (stored as %s)', (field, flag, key) => {
    expect(fieldFlag(field)).toBe(flag);
    expect(flagKey(flag)).toBe(key);
  });
});

describe('collectInput', () => {
  it('takes flags, splits lists, leaves defaults to the plan', async () => {
    const input = await collectInput(internalHttpApiScenario, { resource: 'billing-api', scopes: 'a:b, c:d', upstream: 'http://x', writeProfile: true, policy: false }, undefined);
    expect(input).toEqual({ resource: 'billing-api', scopes: ['a:b', 'c:d'], upstream: 'http://x', writeProfile: true, policy: false });
  });

  it('without a terminal, names every missing flag at once with its help', async () => {
    await expect(collectInput(internalHttpApiScenario, {}, undefined)).rejects.toThrow('caracal setup --scenario internal-http-api is missing --resource, --scopes, --upstream');
  });

  it('asks for what is missing on a terminal, and checks the answer', async () => {
    const asked: string[] = [];
    const input = await collectInput(internalHttpApiScenario, { scopes: 'a' }, (field) => {
      asked.push(field.name);
      return Promise.resolve(field.name === 'resource' ? 'billing-api' : 'http://127.0.0.1:4780');
    });
    expect(asked).toEqual(['resource', 'upstream']);
    expect(input).toMatchObject({ resource: 'billing-api', upstream: 'http://127.0.0.1:4780' });
    await expect(collectInput(internalHttpApiScenario, { scopes: 'a', upstream: 'http://x' }, () => Promise.resolve('Not A Slug'))).rejects.toThrow(/--resource: use resource:\/\/<slug>/);
  });

  it('reads a secret field from the file its flag names (or stdin), never from argv', async () => {
    const scenario: ScenarioContribution = {
      id: 's',
      title: 'S',
      description: '',
      steps: [{ id: 'p', title: 'P', fields: [{ name: 'credential', label: 'Credential', help: 'the key', kind: 'secret', required: true }] }],
      plan: () => ({ scenario: 's', objects: [], policy: null, credentials: [] }),
    };
    expect(await collectInput(scenario, { credentialFile: '-' }, undefined, () => 's3cret\n')).toEqual({ credential: 's3cret' });
    await expect(collectInput(scenario, {}, () => Promise.resolve('typed'))).rejects.toThrow(/missing --credential-file/);
  });
});

describe('collectInput for the third-party-provider scenario', () => {
  const common = { resource: 'llm-api', scopes: 'llm:call', upstream: 'https://api.example.com' };
  const dir = mkdtempSync(join(tmpdir(), 'caracal-inputs-'));
  const credentialFile = (content: string, mode = 0o600) => {
    const path = join(dir, `c${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    return path;
  };

  it.each([
    ['api-key', { apiKeyHeader: 'X-Api-Key', authScheme: 'Token' }, { apiKeyHeader: 'X-Api-Key', authScheme: 'Token' }],
    ['bearer', { authScheme: 'Bearer' }, { authScheme: 'Bearer' }],
    ['basic', { allowedHosts: 'api.example.com, *.example.com' }, { allowedHosts: ['api.example.com', '*.example.com'] }],
    [
      'oauth2-client-credentials',
      { tokenUrl: 'https://auth.example.com/token', clientId: 'cid', providerScopes: 'a,b', audience: 'https://api.example.com' },
      { tokenUrl: 'https://auth.example.com/token', clientId: 'cid', providerScopes: ['a', 'b'], audience: 'https://api.example.com' },
    ],
  ])('maps the %s flags to the provider fields', async (kind, flags, expected) => {
    const input = await collectInput(thirdPartyProviderScenario, { ...common, providerKind: kind, ...flags, credentialFile: credentialFile('s3cret\n') }, undefined);
    expect(input).toEqual({ ...common, scopes: ['llm:call'], providerKind: kind, ...expected, credential: 's3cret' });
  });

  it('refuses a flag that does not apply to the chosen kind, naming the kind it needs', async () => {
    await expect(collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'api-key', apiKeyHeader: 'X-Api-Key', tokenUrl: 'https://a/t' }, undefined)).rejects.toThrow(
      '--token-url applies only when --provider-kind is oauth2-client-credentials',
    );
    await expect(collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'basic', authScheme: 'Token' }, undefined)).rejects.toThrow('--auth-scheme applies only when --provider-kind is api-key or bearer');
  });

  it('asks only for what applies, and reports the kind itself missing rather than refusing its dependents', async () => {
    await expect(collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'oauth2-client-credentials' }, undefined)).rejects.toThrow('is missing --token-url, --client-id');
    await expect(collectInput(thirdPartyProviderScenario, { ...common, tokenUrl: 'https://a/t' }, undefined)).rejects.toThrow('is missing --provider-kind');
    const asked: string[] = [];
    await collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'bearer' }, (field) => {
      asked.push(field.name);
      return Promise.resolve('x');
    });
    expect(asked).toEqual([]);
  });

  it('checks a choice against its values', async () => {
    await expect(collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'password' }, undefined)).rejects.toThrow(/--provider-kind: "password" is not one of api-key, bearer, basic, oauth2-client-credentials/);
  });

  it('keeps a secret as written but for its line end, from a file or stdin', async () => {
    const read = async (flags: Record<string, unknown>, stdin = '') =>
      (await collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'basic', ...flags }, undefined, () => stdin)).credential;
    expect(await read({ credentialFile: credentialFile('ann: pass word \r\n') })).toBe('ann: pass word ');
    expect(await read({ credentialFile: '-' }, 'ann:pw\n')).toBe('ann:pw');
    expect(await read({})).toBeUndefined();
  });

  it('refuses a credential file other users can read or write, and says how to fix it', async () => {
    const path = credentialFile('secret-value\n', 0o644);
    const attempt = collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'bearer', credentialFile: path }, undefined);
    await expect(attempt).rejects.toThrow(`--credential-file: ${path} is accessible to other users (mode 0644)`);
    expect(((await attempt.catch((e: unknown) => e)) as { hint?: string }).hint).toContain(`chmod 600 '${path}'`);
    expect(() => readSecretInput('--credential-file', credentialFile('x', 0o620))).toThrow(/mode 0620/);
    expect(readSecretInput('--credential-file', credentialFile('x', 0o644), 'win32')).toBe('x');
    expect(() => readSecretInput('--credential-file', join(dir, 'missing'))).toThrow(/cannot read .*missing \(ENOENT\)/);
  });

  it('never echoes a secret in a refusal', async () => {
    const path = credentialFile('two\nlines-DO-NOT-LEAK\n');
    const error = await collectInput(thirdPartyProviderScenario, { ...common, providerKind: 'bearer', credentialFile: path }, undefined).catch((e: unknown) => e);
    expect(String(error)).toMatch(/--credential-file: the credential is one line/);
    expect(JSON.stringify({ message: (error as Error).message, hint: (error as { hint?: string }).hint })).not.toContain('DO-NOT-LEAK');
  });
});

describe('firstSuccessCommands', () => {
  it('quotes only what needs quoting', () => {
    expect(shellQuote('/home/me/caracal.toml')).toBe('/home/me/caracal.toml');
    expect(shellQuote("/tmp/it's here")).toBe(`'/tmp/it'\\''s here'`);
  });

  it('prints a curl line whose shell part sends the token from the variable on stdin', async () => {
    const server = createServer((req, res) => res.end(JSON.stringify({ authorization: req.headers.authorization, resource: req.headers['x-caracal-resource'], url: req.url })));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { curl } = firstSuccessCommands({ profilePath: '/p.toml', gatewayUrl, env: 'CARACAL_X_TOKEN', resource: 'resource://x', method: 'GET', path: '/hello' });
      const inner = /caracal run -- sh -c '(.*)'$/.exec(curl)?.[1];
      expect(inner).toBeDefined();
      expect(inner).not.toContain("'");
      const { stdout } = await promisify(execFile)('sh', ['-c', inner as string], { env: { PATH: process.env.PATH ?? '', CARACAL_X_TOKEN: 'tkn' } });
      expect(JSON.parse(stdout)).toEqual({ authorization: 'Bearer tkn', resource: 'resource://x', url: '/hello' });
    } finally {
      server.close();
    }
  });
});
