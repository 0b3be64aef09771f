import { describe, expect, it } from 'vitest';
import { newId } from '../domain/ids.js';
import type { CaracalError} from '../errors.js';
import { isCaracalError } from '../errors.js';
import { detectPolicyFormat, parsePolicyDocument, validatePolicyRules, type PolicyProblem } from './document.js';

const APP = newId('app');

const toml = `# billing access
version = 1
description = "Billing API access"

[[rules]]
id = "read"
effect = "allow"
apps = ["${APP}"]
resources = ["billing-api"]
scopes = ["billing:read"]
methods = ["get", "HEAD"]
paths = ["/v1/**"]
description = "read invoices"

[[rules]]
id = "no-admin"
effect = "deny"
apps = ["*"]
resources = ["resource://billing-api"]
scopes = ["*"]
paths = ["/v1/admin/**"]
`;

const json = JSON.stringify(
  {
    version: 1,
    description: 'Billing API access',
    rules: [
      {
        id: 'read',
        effect: 'allow',
        apps: [APP],
        resources: ['billing-api'],
        scopes: ['billing:read'],
        methods: ['get', 'HEAD'],
        paths: ['/v1/**'],
        description: 'read invoices',
      },
      { id: 'no-admin', effect: 'deny', apps: ['*'], resources: ['resource://billing-api'], scopes: ['*'], paths: ['/v1/admin/**'] },
    ],
  },
  null,
  2,
);

function problemsOf(source: string, format?: 'toml' | 'json'): { error: CaracalError; details: PolicyProblem[] } {
  try {
    parsePolicyDocument(source, format);
  } catch (error) {
    if (!isCaracalError(error, 'CRC_POLICY_INVALID')) throw error;
    return { error, details: error.details as PolicyProblem[] };
  }
  throw new Error('the document was accepted');
}

const rule = (body: string) => `[[rules]]\nid = "r"\neffect = "allow"\napps = ["*"]\nresources = ["api"]\nscopes = ["s"]\n${body}`;

describe('policy documents', () => {
  it('reads TOML and JSON into the same normalised rules', () => {
    const fromToml = parsePolicyDocument(toml);
    const fromJson = parsePolicyDocument(json);
    expect(fromJson).toEqual(fromToml);
    expect(fromToml).toEqual({
      version: 1,
      description: 'Billing API access',
      rules: [
        {
          id: 'read',
          effect: 'allow',
          apps: [APP],
          resources: ['resource://billing-api'],
          scopes: ['billing:read'],
          methods: ['GET', 'HEAD'],
          paths: ['/v1/**'],
          description: 'read invoices',
        },
        { id: 'no-admin', effect: 'deny', apps: ['*'], resources: ['resource://billing-api'], scopes: ['*'], paths: ['/v1/admin/**'] },
      ],
    });
  });

  it('guesses the format from the first character', () => {
    expect(detectPolicyFormat(json)).toBe('json');
    expect(detectPolicyFormat(toml)).toBe('toml');
  });

  it('accepts inline-table rules in TOML', () => {
    const doc = parsePolicyDocument('rules = [\n  { id = "a", effect = "allow", apps = ["*"], resources = ["api"], scopes = ["s"] },\n]\n');
    expect(doc.rules.map((r) => r.id)).toEqual(['a']);
  });

  it.each<[string, string, number, number, string, RegExp]>([
    // case, TOML source, line, column, pointer, message
    ['an unknown rule key, with a suggestion', rule('methdos = ["GET"]'), 7, 1, '/rules/0/methdos', /unknown key "methdos" \(did you mean "methods"\?\)/],
    ['an unknown top-level key', `versoin = 1\n${rule('')}`, 1, 1, '/versoin', /unknown key "versoin" \(did you mean "version"\?\)/],
    ['an unknown method', rule('methods = ["GET", "FETCH"]'), 7, 19, '/rules/0/methods/1', /unknown method "FETCH": use GET, HEAD/],
    ['a bad glob', rule('paths = ["/ok", "v1/*"]'), 7, 17, '/rules/0/paths/1', /bad path glob "v1\/\*": a path glob must start with "\/"/],
    ['a glob with a partial wildcard', rule('paths = ["/v1/*.json"]'), 7, 10, '/rules/0/paths/0', /"\*" and "\*\*" must stand alone/],
    ['an empty scope list', rule('').replace('scopes = ["s"]', 'scopes = []'), 6, 1, '/rules/0/scopes', /"scopes" must not be empty/],
    ['an empty methods list', rule('methods = []'), 7, 1, '/rules/0/methods', /"methods" must not be empty: list methods, or leave "methods" out/],
    ['no rules at all', 'version = 1\n', 1, 1, '/rules', /missing required key "rules"/],
    ['an empty rule list', 'rules = []\n', 1, 1, '/rules', /a policy needs at least one rule/],
    ['a missing key', rule('').replace('effect = "allow"\n', ''), 1, 1, '/rules/0/effect', /missing required key "effect"/],
    ['a bad effect', rule('').replace('"allow"', '"permit"'), 3, 1, '/rules/0/effect', /"effect" must be "allow" or "deny"/],
    ['a wrong type', rule('').replace('scopes = ["s"]', 'scopes = "s"'), 6, 1, '/rules/0/scopes', /"scopes" must be a list of strings/],
    ['a bad app ID', rule('').replace('apps = ["*"]', 'apps = ["my-agent"]'), 4, 9, '/rules/0/apps/0', /"my-agent" is not an app ID/],
    ['a bad resource', rule('').replace('["api"]', '["Billing API"]'), 5, 14, '/rules/0/resources/0', /is not a resource ID/],
    ['a bad scope', rule('').replace('["s"]', '["has space"]'), 6, 11, '/rules/0/scopes/0', /is not a valid scope/],
    ['"*" mixed with entries', rule('').replace('["*"]', `["${APP}", "*"]`), 4, 43, '/rules/0/apps/1', /"\*" already covers every entry of "apps"/],
    ['a repeated entry', rule('').replace('["s"]', '["s", "s"]'), 6, 16, '/rules/0/scopes/1', /"s" is listed twice in "scopes"/],
    ['a bad version', `version = 2\n${rule('')}`, 1, 1, '/version', /"version" must be 1/],
    ['a bad rule id', rule('').replace('id = "r"', 'id = "-r"'), 2, 1, '/rules/0/id', /"id" must be 1–128 letters/],
    ['a duplicate rule id', `${rule('')}\n${rule('')}`, 9, 1, '/rules/1/id', /duplicate rule id "r" \(rule 1 already uses it\)/],
    ['a TOML syntax error', 'rules = [\n  1,\n  2\nx', 4, 1, '', /TOML syntax error/],
  ])('locates %s', (_case, source, line, column, pointer, message) => {
    const { error, details } = problemsOf(source, 'toml');
    expect(error.code).toBe('CRC_POLICY_INVALID');
    expect(details).toHaveLength(1);
    expect(details[0]).toMatchObject({ line, column, pointer });
    expect(details[0]?.message).toMatch(message);
    expect(error.message).toContain(`line ${line}, column ${column} (${pointer || '/'})`);
  });

  it('reports every problem at once, in source order', () => {
    const source = `${rule('methods = ["FETCH"]\npaths = ["nope"]')}\n\n[[rules]]\nid = "r"\neffect = "maybe"\napps = ["*"]\nresources = []\nscopes = ["s"]\n`;
    const { error, details } = problemsOf(source);
    expect(details.map((d) => [d.line, d.pointer])).toEqual([
      [7, '/rules/0/methods/0'],
      [8, '/rules/0/paths/0'],
      [11, '/rules/1/id'],
      [12, '/rules/1/effect'],
      [14, '/rules/1/resources'],
    ]);
    expect(error.message.split('\n')[0]).toBe('the TOML policy document is invalid (5 problems):');
    expect(error.hint).toMatch(/nothing was stored/);
  });

  it.each<[string, string, number, number, string, RegExp]>([
    ['an unknown key', '{"rules": [{"id": "a", "effect": "allow", "apps": ["*"],\n  "resources": ["api"], "scopes": ["s"], "verbs": ["GET"]}]}', 2, 42, '/rules/0/verbs', /unknown key "verbs"/],
    ['an unknown method', '{\n  "rules": [\n    {"id": "a", "effect": "allow", "apps": ["*"], "resources": ["api"], "scopes": ["s"],\n     "methods": ["GET", "YANK"]}\n  ]\n}', 4, 25, '/rules/0/methods/1', /unknown method "YANK"/],
    ['a missing key', '{"rules": [\n  {"id": "a", "apps": ["*"], "resources": ["api"], "scopes": ["s"]}\n]}', 2, 3, '/rules/0/effect', /missing required key "effect"/],
    ['a JSON syntax error', '{"rules": [\n  {"id": "a",}\n]}', 2, 14, '', /JSON syntax error/],
    ['truncated JSON', '{"rules": [', 1, 12, '', /JSON syntax error: Unexpected end of JSON input/],
    ['a key needing pointer escapes', '{"rules": [{"id": "a", "effect": "allow", "apps": ["*"], "resources": ["api"], "scopes": ["s"], "a/b~c": 1}]}', 1, 97, '/rules/0/a~1b~0c', /unknown key "a\/b~c"/],
  ])('locates %s in JSON by pointer, line and column', (_case, source, line, column, pointer, message) => {
    const { details } = problemsOf(source, 'json');
    expect(details).toHaveLength(1);
    expect(details[0]).toMatchObject({ line, column, pointer });
    expect(details[0]?.message).toMatch(message);
  });

  it('validates rules read back from storage, reporting pointers without lines', () => {
    expect(validatePolicyRules(parsePolicyDocument(toml).rules)).toEqual(parsePolicyDocument(toml).rules);
    try {
      validatePolicyRules([{ id: 'x', effect: 'allow', apps: ['*'], resources: ['api'], scopes: [] }]);
      expect.unreachable();
    } catch (error) {
      expect(isCaracalError(error, 'CRC_POLICY_INVALID')).toBe(true);
      expect((error as CaracalError).details).toEqual([
        { line: null, column: null, pointer: '/rules/0/scopes', message: expect.stringMatching(/must not be empty/) as unknown },
      ]);
    }
  });

  it('refuses documents larger than the limit before parsing them', () => {
    const { details } = problemsOf(`# ${'x'.repeat(9 * 1024 * 1024)}\n`);
    expect(details[0]?.message).toMatch(/larger than/);
  });
});
