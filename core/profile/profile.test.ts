import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCaracalError } from '../errors.js';
import { credentialEnvName, envNameProblem, isSafeEnvName } from './env-name.js';
import { parseProfile, renderProfile, type Profile, type ProfileProblem } from './profile.js';

const PATH = '/home/me/.config/caracal/caracal.toml';
const valid: Omit<Profile, 'path'> = {
  zoneId: 'zn_01J0000000000000000000000A',
  applicationId: 'app_01J0000000000000000000000B',
  controlUrl: 'http://127.0.0.1:4700',
  gatewayUrl: 'http://127.0.0.1:4701',
  clientSecretFile: '/home/me/.config/caracal/secrets/zn_01J0000000000000000000000A/app_01J0000000000000000000000B',
  runtime: 'env',
  credentials: [{ resource: 'resource://billing-api', scopes: ['billing:read'], env: 'CARACAL_BILLING_API_TOKEN' }],
};
const text = renderProfile(valid);

/** The problems parseProfile reports for a text (fails the test when it parses). */
function problems(source: string): ProfileProblem[] {
  try {
    parseProfile(source, PATH);
  } catch (error) {
    if (isCaracalError(error, 'CRC_PROFILE_INVALID')) return error.details as ProfileProblem[];
    throw error;
  }
  throw new Error('expected the profile to be refused');
}

const lineOf = (source: string, prefix: string) => source.split('\n').findIndex((l) => l.startsWith(prefix)) + 1;

describe('parseProfile', () => {
  it('reads what renderProfile writes', () => {
    expect(parseProfile(text, PATH)).toEqual({ ...valid, path: PATH });
  });

  it('normalises a bare resource slug, defaults runtime to env and scopes to none', () => {
    const source = text.replace('resource = "resource://billing-api"', 'resource = "billing-api"').replace(/runtime = .*\n/, '').replace(/scopes = .*\n/, '');
    expect(parseProfile(source, PATH)).toMatchObject({ runtime: 'env', credentials: [{ resource: 'resource://billing-api', scopes: [] }] });
  });

  it('resolves a relative secret-file path against the profile\'s folder', () => {
    const source = text.replace(/client_secret_file = .*/, 'client_secret_file = "secrets/app"');
    expect(parseProfile(source, PATH).clientSecretFile).toBe('/home/me/.config/caracal/secrets/app');
  });

  const refusals: [string, (t: string) => string, string, RegExp][] = [
    ['an unknown top-level key', (t) => t.replace('runtime = "env"', 'runtme = "env"'), 'runtme', /unknown key "runtme" \(did you mean "runtime"\?\)/],
    ['an unknown credential key', (t) => t.replace('env = "CARACAL', 'ennv = "CARACAL'), 'ennv', /unknown key "ennv" \(did you mean "env"\?\); allowed keys: resource, scopes, env/],
    ['a bad type', (t) => t.replace('scopes = ["billing:read"]', 'scopes = "billing:read"'), 'scopes', /"scopes" must be a list of strings/],
    ['a wrong version', (t) => t.replace('version = 1', 'version = 2'), 'version', /"version" must be 1/],
    ['a malformed zone ID', (t) => t.replace(/zone_id = .*/, 'zone_id = "local"'), 'zone_id', /must be a zone ID/],
    ['a non-http control URL', (t) => t.replace(/control_url = .*/, 'control_url = "ftp://x"'), 'control_url', /http:\/\/ or https:\/\/ URL/],
    ['a URL with a password', (t) => t.replace(/gateway_url = .*/, 'gateway_url = "http://u:p@x"'), 'gateway_url', /without user name or password/],
    ['a bad resource', (t) => t.replace('resource://billing-api', 'resource://Billing API'), 'resource', /"resource" must be resource:\/\/<slug>/],
    ['an unsafe env name', (t) => t.replace('CARACAL_BILLING_API_TOKEN', 'LD_PRELOAD'), 'env', /"LD_PRELOAD" is an unsafe variable name/],
    ['a lower-case env name', (t) => t.replace('CARACAL_BILLING_API_TOKEN', 'token'), 'env', /"token" is not a usable variable name/],
  ];
  it.each(refusals)('refuses %s at its line', (_name, edit, key, message) => {
    const source = edit(text);
    // A misspelt key may also leave a required one missing: the misspelling is reported at its line.
    const hit = problems(source).find((p) => message.test(p.message));
    expect(hit?.line).toBe(lineOf(source, key));
  });

  it('names a missing key and a missing credentials table', () => {
    const source = text.replace(/application_id = .*\n/, '').replace(/\n\[\[credentials\]\][\s\S]*$/, '\n');
    expect(problems(source).map((p) => p.message)).toEqual(['missing required key "application_id"', 'add at least one [[credentials]] table (resource, scopes, env)']);
  });

  it('refuses the same variable or resource twice, at the second one', () => {
    const twice = `${text}\n[[credentials]]\nresource = "billing-api"\nscopes = []\nenv = "CARACAL_BILLING_API_TOKEN"\n`;
    const found = problems(twice);
    expect(found.map((p) => p.message)).toEqual([
      'resource://billing-api is already listed by credentials #1: list each resource once, with all its scopes',
      '"CARACAL_BILLING_API_TOKEN" is already used by credentials #1: give each credential its own variable',
    ]);
    expect(found[0]?.line).toBe(twice.split('\n').length - 3);
  });

  it('reports a TOML syntax error with its line and column', () => {
    const found = problems(text.replace('version = 1', 'version = = 1'));
    expect(found[0]).toMatchObject({ line: lineOf(text, 'version'), message: expect.stringMatching(/^TOML syntax error/) as unknown });
  });

  it('puts the file, line and column of every problem in the message, with the fix', () => {
    try {
      parseProfile(text.replace('runtime = "env"', 'runtme = "env"'), PATH);
      expect.unreachable();
    } catch (error) {
      expect(isCaracalError(error, 'CRC_PROFILE_INVALID')).toBe(true);
      expect((error as Error).message).toContain(`${PATH}:${lineOf(text, 'runtime')}:1: unknown key "runtme"`);
      expect((error as { hint: string }).hint).toMatch(/docs\/profile\.md/);
    }
  });

  it('round-trips any valid profile through renderProfile (property)', () => {
    const slug = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
    fc.assert(
      fc.property(fc.array(slug, { minLength: 1, maxLength: 4 }), fc.array(fc.stringMatching(/^[a-z]{1,8}:[a-z]{1,8}$/), { maxLength: 3 }), fc.constantFrom('env', 'file', 'proxy'), (slugs, scopes, runtime) => {
        const unique = [...new Set(slugs)];
        const credentials = unique.map((s) => ({ resource: `resource://${s}`, scopes, env: credentialEnvName(`resource://${s}`) }));
        if (new Set(credentials.map((c) => c.env)).size !== credentials.length) return;
        const profile = { ...valid, runtime, credentials };
        expect(parseProfile(renderProfile(profile), PATH)).toEqual({ ...profile, path: PATH });
      }),
    );
  });
});

describe('env names', () => {
  it.each(['NODE_OPTIONS', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'PATH', 'PYTHONPATH', 'BASH_ENV', 'CARACAL_GATEWAY_URL', 'CARACAL_CONFIG'])('%s is unsafe', (name) => {
    expect(envNameProblem(name)).toMatch(/unsafe variable name/);
  });
  it.each(['token', '1TOKEN', 'MY-TOKEN', 'A B', '', 'X'.repeat(129)])('"%s" is not a variable name', (name) => {
    expect(envNameProblem(name)).toMatch(/not a usable variable name/);
  });
  it.each(['CARACAL_BILLING_API_TOKEN', 'MY_TOKEN', '_T'])('%s is safe', (name) => {
    expect(isSafeEnvName(name)).toBe(true);
  });
  it.each([
    ['resource://billing-api', 'CARACAL_BILLING_API_TOKEN'],
    ['crm.v2', 'CARACAL_CRM_V2_TOKEN'],
    ['resource://9lives', 'CARACAL_9LIVES_TOKEN'],
  ])('the default variable of %s is %s, and it is safe', (resource, name) => {
    expect(credentialEnvName(resource)).toBe(name);
    expect(isSafeEnvName(name)).toBe(true);
  });
});
