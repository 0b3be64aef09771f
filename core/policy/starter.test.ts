import { describe, expect, it } from 'vitest';
import { newId } from '../domain/ids.js';
import { isCaracalError } from '../errors.js';
import { createMatcher } from './compile.js';
import { parsePolicyDocument } from './document.js';
import { buildStarterPolicy } from './starter.js';

const APP = newId('app');

describe('the starter policy', () => {
  const starter = buildStarterPolicy({ app: APP, resource: 'billing-api', scopes: ['billing:read', 'billing:write'] });

  it('is one allow rule `starter` for the app, resource and scopes, every method and path', () => {
    expect(starter.format).toBe('toml');
    expect(starter.rules).toEqual([
      {
        id: 'starter',
        effect: 'allow',
        description: 'Allows the app its scopes on the resource, every method and path',
        apps: [APP],
        resources: ['resource://billing-api'],
        scopes: ['billing:read', 'billing:write'],
        methods: ['*'],
        paths: ['/**'],
      },
    ]);
    expect(starter.document.description).toBe(`Starter access for ${APP} to resource://billing-api`);
  });

  it('is TOML text that parses back to the same document', () => {
    expect(starter.source).toContain('[[rules]]\nid = "starter"\neffect = "allow"');
    expect(parsePolicyDocument(starter.source, 'toml')).toEqual(starter.document);
  });

  it('lets the app mint its scopes and call any method and path with them', () => {
    const matcher = createMatcher(starter.rules);
    expect(matcher.decideMint({ app: APP, resource: 'resource://billing-api', scopes: ['billing:read'] }).effect).toBe('allow');
    for (const method of ['GET', 'POST', 'DELETE', 'PROPFIND']) {
      const decision = matcher.decideRequest({ app: APP, resource: 'resource://billing-api', scopes: ['billing:write'], method, path: '/v1/x/y' });
      expect(decision.rules).toEqual(['starter']);
    }
    expect(matcher.decideRequest({ app: newId('app'), resource: 'resource://billing-api', scopes: ['billing:read'], method: 'GET', path: '/' }).effect).toBe('deny');
  });

  it.each([
    [{ app: 'not-an-app', resource: 'api', scopes: ['s'] }, 'CRC_POLICY_INVALID', /"not-an-app" is not an app ID/],
    [{ app: APP, resource: 'api', scopes: ['a b'] }, 'CRC_POLICY_INVALID', /"a b" is not a valid scope/],
    [{ app: APP, resource: 'api', scopes: [] }, 'CRC_POLICY_INVALID', /"scopes" must not be empty/],
    [{ app: APP, resource: 'Not A Slug', scopes: ['s'] }, 'CRC_VALIDATION', /is not a resource ID/],
  ] as const)('refuses bad input %j with a clear error', (input, code, message) => {
    try {
      buildStarterPolicy(input);
      expect.unreachable();
    } catch (error) {
      expect(isCaracalError(error, code)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });
});
