import { describe, expect, it } from 'vitest';
import { providerKinds, providerSchemas } from '../../core/control/routes/provider-config.js';
import { fieldApplies, type ScenarioInput } from '../../core/plugin/types.js';
import { validatePlugin } from '../../core/plugin/validate.js';
import { planInternalHttpApi } from '../scenario-internal-http-api/scenario.js';
import { thirdPartyProviderPlugin } from './index.js';
import { planThirdPartyProvider, thirdPartyProviderScenario } from './scenario.js';

const base = { resource: 'llm-api', scopes: ['llm:call'], upstream: 'https://api.example.com/v1/' };
const apiKey = { ...base, providerKind: 'api-key', apiKeyHeader: 'X-Api-Key', credential: 'sk-test-1' };
const fields = thirdPartyProviderScenario.steps.flatMap((s) => s.fields);
const field = (name: string) => fields.find((f) => f.name === name)!;
const providerSpec = (input: ScenarioInput) => planThirdPartyProvider(input).objects.find((o) => o.kind === 'provider')?.spec;

describe('the third-party-provider scenario', () => {
  it('has the guided-setup steps of DESIGN.md §1 with a provider step, each field self-describing', () => {
    expect(validatePlugin(thirdPartyProviderPlugin, 'builtin').scenarios?.[0]?.id).toBe('third-party-provider');
    expect(thirdPartyProviderScenario.steps.map((s) => s.id)).toEqual(['zone', 'app', 'resource', 'provider', 'policy', 'review']);
    expect(thirdPartyProviderScenario.steps[3]?.fields.map((f) => f.name)).toEqual([
      'providerKind', 'providerName', 'apiKeyHeader', 'apiKeyQuery', 'authScheme', 'tokenUrl', 'clientId', 'providerScopes', 'audience', 'allowedHosts', 'credential',
    ]);
    for (const f of fields) expect(f.label !== '' && f.help.length > 20, f.name).toBe(true);
    expect(field('providerKind').choices?.map((c) => c.value)).toEqual(providerKinds);
    // The kinds list is written out (it needs no zod); it names exactly the kinds with schemas.
    expect(Object.keys(providerSchemas().config)).toEqual(providerKinds);
    expect(Object.keys(providerSchemas().credentials)).toEqual(providerKinds);
    expect(field('credential').kind).toBe('secret');
  });

  it('shares its common steps with internal-http-api: the same plan apart from the provider', () => {
    const internal = planInternalHttpApi(base);
    const third = planThirdPartyProvider(apiKey);
    expect(third.objects.filter((o) => o.kind !== 'provider').map((o) => ({ ...o, spec: { ...o.spec, provider: undefined } }))).toEqual(
      internal.objects.map((o) => ({ ...o, spec: { ...o.spec, provider: undefined } })),
    );
    expect(third.policy).toEqual(internal.policy);
    expect(third.credentials).toEqual(internal.credentials);
  });

  it('plans the provider before the resource, which names it', () => {
    const plan = planThirdPartyProvider(apiKey);
    expect(plan.scenario).toBe('third-party-provider');
    expect(plan.objects.map((o) => o.kind)).toEqual(['zone', 'application', 'provider', 'resource', 'policy', 'policy_set']);
    expect(plan.objects[2]).toEqual({
      kind: 'provider',
      ref: 'provider',
      spec: { zone: { $ref: 'zone' }, name: 'llm-api', kind: 'api-key', config: { header: 'x-api-key', allowed_hosts: [] }, credentials: { api_key: 'sk-test-1' } },
    });
    expect(plan.objects[3]?.spec).toMatchObject({ id: 'resource://llm-api', upstream_url: 'https://api.example.com/v1', provider: { $ref: 'provider' } });
  });

  it.each([
    ['api-key in a header with a scheme', { ...apiKey, authScheme: 'Token' }, { header: 'x-api-key', scheme: 'Token', allowed_hosts: [] }, { api_key: 'sk-test-1' }],
    ['api-key in the query', { ...apiKey, apiKeyHeader: undefined, apiKeyQuery: 'api_key' }, { query: 'api_key', allowed_hosts: [] }, { api_key: 'sk-test-1' }],
    ['bearer', { ...base, providerKind: 'bearer', credential: 'tok' }, { header: 'authorization', scheme: 'Bearer', allowed_hosts: [] }, { token: 'tok' }],
    ['bearer with its own scheme', { ...base, providerKind: 'bearer', authScheme: 'Token', credential: 'tok' }, { header: 'authorization', scheme: 'Token', allowed_hosts: [] }, { token: 'tok' }],
    ['basic (the first colon splits)', { ...base, providerKind: 'basic', credential: 'ann:pa:ss word' }, { allowed_hosts: [] }, { username: 'ann', password: 'pa:ss word' }],
    ['basic as JSON', { ...base, providerKind: 'basic', credential: '{"username": "ann", "password": "pw"}' }, { allowed_hosts: [] }, { username: 'ann', password: 'pw' }],
    [
      'oauth2 client credentials',
      { ...base, providerKind: 'oauth2-client-credentials', tokenUrl: 'https://auth.example.com/token', clientId: 'cid', providerScopes: ['a', 'b', 'a'], audience: 'https://api.example.com', allowedHosts: ['api.example.com'], credential: 'cs' },
      { token_url: 'https://auth.example.com/token', client_id: 'cid', scopes: ['a', 'b'], audience: 'https://api.example.com', auth_method: 'client_secret_basic', allowed_hosts: ['api.example.com'] },
      { client_secret: 'cs' },
    ],
  ] as const)('maps %s to the config and credentials the admin API accepts', (_name, input, config, credentials) => {
    const spec = providerSpec(input) as { kind: keyof ReturnType<typeof providerSchemas>['config']; config: unknown; credentials: unknown };
    expect(spec.config).toEqual(config);
    expect(spec.credentials).toEqual(credentials);
    expect(providerSchemas().config[spec.kind].safeParse(spec.config).success).toBe(true);
    expect(providerSchemas().credentials[spec.kind].safeParse(spec.credentials).success).toBe(true);
  });

  it('names the provider after the resource unless given a name, and plans no credentials when none is given (a re-run keeps the stored one)', () => {
    expect(providerSpec({ ...apiKey, providerName: 'openai' })).toMatchObject({ name: 'openai' });
    expect(providerSpec({ ...apiKey, credential: undefined })).not.toHaveProperty('credentials');
  });

  it('marks the fields that apply only to some kinds, and ignores their stale answers', () => {
    const applies = (name: string, providerKind: string) => fieldApplies(field(name), { providerKind }, thirdPartyProviderScenario.steps);
    expect(providerKinds.filter((k) => applies('apiKeyHeader', k))).toEqual(['api-key']);
    expect(providerKinds.filter((k) => applies('authScheme', k))).toEqual(['api-key', 'bearer']);
    expect(providerKinds.filter((k) => applies('tokenUrl', k))).toEqual(['oauth2-client-credentials']);
    expect(providerKinds.filter((k) => applies('allowedHosts', k))).toEqual(providerKinds);
    // A form that kept oauth2 answers after switching to bearer plans a clean bearer provider.
    expect(providerSpec({ ...base, providerKind: 'bearer', tokenUrl: 'https://x/t', clientId: 'c', apiKeyQuery: 'k', credential: 't' })).toMatchObject({ config: { header: 'authorization', scheme: 'Bearer', allowed_hosts: [] } });
  });

  it.each([
    [{ ...base, credential: 'x' }, /needs "providerKind"/],
    [{ ...apiKey, providerKind: 'password' }, /"password" is not one of api-key, bearer, basic, oauth2-client-credentials/],
    [{ ...apiKey, apiKeyHeader: undefined }, /give either API key header \(--api-key-header, e\.g\. X-Api-Key\) or API key query parameter/],
    [{ ...apiKey, apiKeyQuery: 'k' }, /not both/],
    [{ ...apiKey, apiKeyHeader: undefined, apiKeyQuery: 'k', authScheme: 'Token' }, /applies only to a key sent in a header/],
    [{ ...apiKey, apiKeyHeader: 'Bad Header' }, /a header name is 1–100 token characters/],
    [{ ...apiKey, allowedHosts: ['api.example.com', 'Not A Host'] }, /"Not A Host": a host is a lowercase DNS name/],
    [{ ...apiKey, allowedHosts: ['*.other.com', 'api.example.com:8443'] }, /the upstream host api\.example\.com is not among the allowed hosts \(\*\.other\.com, api\.example\.com:8443\)/],
    [{ ...base, providerKind: 'oauth2-client-credentials', clientId: 'c', credential: 's' }, /needs "tokenUrl" when providerKind is oauth2-client-credentials/],
    [{ ...base, providerKind: 'oauth2-client-credentials', tokenUrl: 'ftp://x', clientId: 'c', credential: 's' }, /use an absolute http\(s\) URL/],
    [{ ...base, providerKind: 'oauth2-client-credentials', tokenUrl: 'https://a/t', clientId: 'c', providerScopes: ['has space'] }, /"has space" is not a scope/],
    [{ ...base, providerKind: 'basic', credential: 'no-colon' }, /a basic credential file holds user:password/],
    [{ ...base, providerKind: 'basic', credential: 'ann:' }, /the basic credential is not usable \(password: must not be empty\)/],
    [{ ...base, providerKind: 'bearer', credential: '{"api_key": "k"}' }, /the bearer credential is not usable \(token: .*; credential: Unrecognized key: "api_key"\)/],
    [{ ...apiKey, credential: 'two\nlines' }, /one line of at most 16 KiB/],
  ])('refuses bad answers with a message that says what to give (%#)', (answers, message) => {
    expect(() => planThirdPartyProvider(answers)).toThrow(message);
  });

  it('never puts a credential into an error message', () => {
    const secret = 'sk-live-DO-NOT-LEAK';
    for (const input of [{ ...base, providerKind: 'basic', credential: secret }, { ...apiKey, credential: `${secret}\u0007` }]) {
      try {
        planThirdPartyProvider(input);
        expect.unreachable();
      } catch (error) {
        expect(String((error as Error).message)).not.toContain('DO-NOT-LEAK');
        expect(JSON.stringify(error)).not.toContain('DO-NOT-LEAK');
      }
    }
  });

  it('is refused at load when a when names no earlier field (the loader checks it)', () => {
    const steps = thirdPartyProviderScenario.steps.map((st) => ({ ...st, fields: st.fields.map((f) => (f.name === 'tokenUrl' ? { ...f, when: { field: 'clientId', in: ['x'] } } : f)) }));
    expect(() => validatePlugin({ name: 'x', caracal: '^1', scenarios: [{ ...thirdPartyProviderScenario, steps }] }, 'x')).toThrow(
      /scenarios\.0\.steps\.3\.fields\.5\.when\.field: "clientId" is not a field before "tokenUrl"/,
    );
  });

  it('is pure: the same answers give the same plan', () => {
    expect(planThirdPartyProvider(apiKey)).toEqual(planThirdPartyProvider(apiKey));
  });
});
