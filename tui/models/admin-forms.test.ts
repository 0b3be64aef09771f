import { describe, expect, it } from 'vitest';
import { providerKinds, providerSchemas } from '../../core/control/routes/provider-config.js';
import { commonFields } from '../../plugins/scenario-common/fields.js';
import { thirdPartyProviderScenario } from '../../plugins/scenario-third-party-provider/scenario.js';
import {
  credentialField,
  credentialsOf,
  promptCompletions,
  promptPanelLines,
  promptProblem,
  providerConfigFields,
  providerConfigOf,
  providerKindField,
  resourceFields,
  resourceInputOf,
  upstreamUrlOf,
} from './admin-forms.js';

const names = (kind: (typeof providerKinds)[number]) => providerConfigFields(kind).map((f) => f.name);

describe('provider fields per kind', () => {
  it.each([
    ['api-key', ['apiKeyHeader', 'apiKeyQuery', 'authScheme', 'allowedHosts']],
    ['bearer', ['authScheme', 'allowedHosts']],
    ['basic', ['allowedHosts']],
    ['oauth2-client-credentials', ['tokenUrl', 'clientId', 'providerScopes', 'audience', 'allowedHosts']],
  ] as const)('%s asks %j (the scenario\'s `when`), never the kind, name or credential', (kind, expected) => {
    expect(names(kind)).toEqual(expected);
  });

  it('are the third-party scenario\'s own field objects, so help and checks cannot drift', () => {
    const step = thirdPartyProviderScenario.steps.find((s) => s.id === 'provider');
    for (const field of providerConfigFields('oauth2-client-credentials')) expect(step?.fields).toContain(field);
    expect(step?.fields).toContain(providerKindField);
    expect(providerKindField.choices?.map((c) => c.value)).toEqual(providerKinds);
  });

  it('check answers with the scenario\'s messages', () => {
    const header = providerConfigFields('api-key')[0];
    expect(header).toBeDefined();
    if (header === undefined) return;
    expect(promptProblem(header)('X Api Key')).toMatch(/a header name is 1–100 token characters/);
    expect(promptProblem(header)('')).toBeUndefined();
    expect(promptProblem(providerKindField)('apikey')).toMatch(/choose one of api-key, bearer, basic, oauth2-client-credentials/);
    expect(promptProblem(credentialField)('   ')).toBe('Credential is required');
  });
});

describe('provider config from the answers', () => {
  it('reads each kind into a config the admin API schema accepts', () => {
    const cases = [
      ['api-key', { apiKeyHeader: 'X-Api-Key', allowedHosts: 'api.example.com, *.example.com' }, { header: 'X-Api-Key', allowed_hosts: ['api.example.com', '*.example.com'] }],
      ['api-key', { apiKeyQuery: 'api_key', apiKeyHeader: '' }, { query: 'api_key' }],
      ['bearer', { authScheme: 'Token' }, { scheme: 'Token' }],
      ['basic', {}, {}],
      ['oauth2-client-credentials', { tokenUrl: 'https://auth.example.com/token', clientId: 'me', providerScopes: 'read, write, read' }, { token_url: 'https://auth.example.com/token', client_id: 'me', scopes: ['read', 'write'] }],
    ] as const;
    for (const [kind, answers, config] of cases) {
      const read = providerConfigOf(kind, answers);
      expect(read).toEqual(config);
      expect(providerSchemas().config[kind].safeParse(read).success).toBe(true);
    }
  });

  it('ignores answers of fields that do not apply to the kind', () => {
    expect(providerConfigOf('basic', { apiKeyHeader: 'X-Api-Key', tokenUrl: 'https://auth.example.com/token' })).toEqual({});
  });

  it('refuses an api-key sent in no place or two, as setup does', () => {
    expect(() => providerConfigOf('api-key', {})).toThrow(/sends the key in one place/);
    expect(() => providerConfigOf('api-key', { apiKeyHeader: 'X-Api-Key', apiKeyQuery: 'key' })).toThrow(/not both/);
  });

  it('refuses a missing required oauth2 field, naming it', () => {
    expect(() => providerConfigOf('oauth2-client-credentials', { clientId: 'me' })).toThrow(/needs "tokenUrl"/);
  });
});

describe('credentials from the masked prompt', () => {
  it('parses each kind as `caracal providers set-credentials` does', () => {
    expect(credentialsOf('api-key', 'k-123')).toEqual({ api_key: 'k-123' });
    expect(credentialsOf('bearer', 't')).toEqual({ token: 't' });
    expect(credentialsOf('basic', 'me:pa:ss')).toEqual({ username: 'me', password: 'pa:ss' });
    expect(credentialsOf('oauth2-client-credentials', '{"client_secret":"s"}')).toEqual({ client_secret: 's' });
  });

  it('refuses a basic credential without a colon without echoing it', () => {
    let message = '';
    try {
      credentialsOf('basic', 'hunter2-secret');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/user:password/);
    expect(message).not.toContain('hunter2-secret');
  });
});

describe('resource fields', () => {
  it('are the guided setup\'s resource ID, scopes and upstream, then an optional provider', () => {
    expect(resourceFields.slice(0, 3)).toEqual([commonFields.resource, commonFields.scopes, commonFields.upstream]);
    expect(resourceFields[3]).toMatchObject({ name: 'provider', required: false });
  });

  it('make the create body: scopes split and deduplicated, trailing slashes dropped, no provider when empty', () => {
    expect(resourceInputOf({ resource: 'weather-api', scopes: 'read, write,read', upstream: 'https://api.example.com/v1/', provider: '' })).toEqual({
      id: 'weather-api',
      scopes: ['read', 'write'],
      upstream_url: 'https://api.example.com/v1',
    });
    expect(resourceInputOf({ resource: 'w', scopes: 'r', upstream: 'http://127.0.0.1:1', provider: ' weather ' })).toMatchObject({ provider: 'weather' });
    expect(upstreamUrlOf(' http://h:1// ')).toBe('http://h:1');
  });
});

describe('prompt panel and completion', () => {
  it('shows the field, its help wrapped, its choices and the answers so far', () => {
    const lines = promptPanelLines('New provider', providerKindField, [{ label: 'zone', value: 'dev' }], 60);
    expect(lines[0]).toBe('New provider · Provider kind');
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines.some((l) => l.startsWith('  api-key — API key'))).toBe(true);
    expect(lines.at(-1)).toBe('so far: zone dev');
    expect(promptPanelLines('New resource', resourceFields[3] ?? credentialField, [], 80)[0]).toBe('New resource · Provider (optional: enter skips)');
  });

  it('completes choices and given options by prefix', () => {
    expect(promptCompletions(providerKindField, 'b')).toEqual(['bearer', 'basic']);
    expect(promptCompletions(providerKindField, 'oa')).toEqual(['oauth2-client-credentials']);
    expect(promptCompletions(commonFields.upstream, 'we', ['weather', 'news'])).toEqual(['weather']);
  });
});
