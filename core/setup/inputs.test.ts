import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ScenarioContribution } from '../plugin/types.js';
import { internalHttpApiScenario } from '../../plugins/scenario-internal-http-api/scenario.js';
import { firstSuccessCommands, shellQuote } from './commands.js';
import { collectInput, fieldFlag, flagKey } from './inputs.js';

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
    expect(await collectInput(scenario, { credentialFile: '-' }, undefined, () => '  s3cret\n')).toEqual({ credential: 's3cret' });
    await expect(collectInput(scenario, {}, () => Promise.resolve('typed'))).rejects.toThrow(/missing --credential-file/);
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
