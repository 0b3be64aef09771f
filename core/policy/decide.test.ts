import { describe, expect, it } from 'vitest';
import { newId } from '../domain/ids.js';
import { compilePolicySet, createMatcher, inactiveMatcher } from './compile.js';
import { parsePolicyDocument } from './document.js';
import type { DenyReason, PolicyClause, RequestQuery } from './types.js';

const A = newId('app');
const B = newId('app');
const C = newId('app');
const BILLING = 'resource://billing-api';
const CRM = 'resource://crm';

const base = parsePolicyDocument(`
[[rules]]
id = "starter"
effect = "allow"
apps = ["${A}"]
resources = ["billing-api"]
scopes = ["billing:read"]
methods = ["GET", "HEAD"]
paths = ["/v1/**"]

[[rules]]
id = "writer"
effect = "allow"
apps = ["${A}"]
resources = ["billing-api"]
scopes = ["billing:write"]
methods = ["POST"]
paths = ["/v1/invoices"]

[[rules]]
id = "no-admin"
effect = "deny"
apps = ["*"]
resources = ["billing-api"]
scopes = ["*"]
paths = ["/v1/admin/**"]

[[rules]]
id = "crm-all"
effect = "allow"
apps = ["*"]
resources = ["crm"]
scopes = ["*"]
`);

const extra = parsePolicyDocument(`
[[rules]]
id = "no-export"
effect = "deny"
apps = ["${B}"]
resources = ["*"]
scopes = ["crm:export"]
`);

const matcher = compilePolicySet({
  policySetId: 'pset_TEST',
  version: 7,
  policies: [
    { policyId: 'pol_BASE', version: 3, rules: base.rules },
    { policyId: 'pol_EXTRA', version: 1, rules: extra.rules },
  ],
});

const request = (over: Partial<RequestQuery>): RequestQuery => ({
  app: A,
  resource: BILLING,
  scopes: ['billing:read'],
  method: 'GET',
  path: '/v1/invoices',
  ...over,
});

describe('request decisions', () => {
  it.each<[string, Partial<RequestQuery>, 'allow' | 'deny', DenyReason | null, string[], PolicyClause[]]>([
    // name, request, effect, reason, deciding rules, failed clauses of the nearest rule
    ['the starter rule allows a GET below /v1', {}, 'allow', null, ['starter'], []],
    ['HEAD is listed too', { method: 'HEAD' }, 'allow', null, ['starter'], []],
    ['methods compare case-insensitively', { method: 'get' }, 'allow', null, ['starter'], []],
    ['a bare resource slug is normalised', { resource: 'billing-api' }, 'allow', null, ['starter'], []],
    ['the writer rule allows POST with the write scope', { method: 'POST', scopes: ['billing:write'] }, 'allow', null, ['writer'], []],
    ['one shared scope is enough', { scopes: ['other', 'billing:read'] }, 'allow', null, ['starter'], []],
    ['method clause fails', { method: 'DELETE' }, 'deny', 'method_not_allowed', [], ['method']],
    ['unknown methods match only rules without methods', { method: 'PROPFIND' }, 'deny', 'method_not_allowed', [], ['method']],
    ['path clause fails', { path: '/v2/invoices' }, 'deny', 'path_not_allowed', [], ['path']],
    ['dot segments never match', { path: '/v1/../v1/invoices' }, 'deny', 'path_not_allowed', [], ['path']],
    ['encoded dot segments never match', { path: '/v1/%2e%2e/x' }, 'deny', 'path_not_allowed', [], ['path']],
    ['scope clause fails', { scopes: ['billing:write'] }, 'deny', 'scope_not_granted', [], ['scope']],
    ['a token without scopes shares none', { scopes: [] }, 'deny', 'scope_not_granted', [], ['scope']],
    ['a scope-only failure is nearer than a method failure', { method: 'POST' }, 'deny', 'scope_not_granted', [], ['scope']],
    ['no rule for the app on the resource', { app: C }, 'deny', 'no_matching_rule', [], ['app']],
    ['no rule for the resource', { resource: 'resource://unknown' }, 'deny', 'no_matching_rule', [], ['resource']],
    ['a deny rule wins over the starter rule', { path: '/v1/admin/users' }, 'deny', 'denied_by_rule', ['no-admin'], []],
    ['deny `*` scopes hit even a token without scopes', { path: '/v1/admin', scopes: [] }, 'deny', 'denied_by_rule', ['no-admin'], []],
    ['app wildcard with `*` scopes', { app: C, resource: CRM, scopes: ['crm:read'], method: 'DELETE', path: '/x' }, 'allow', null, ['crm-all'], []],
    ['`*` scopes still need one token scope', { app: C, resource: CRM, scopes: [], path: '/x' }, 'deny', 'scope_not_granted', [], ['scope']],
    ['a deny whose scopes do not intersect does not apply', { app: B, resource: CRM, scopes: ['crm:read'], path: '/x' }, 'allow', null, ['crm-all'], []],
    ['a deny whose scopes intersect applies', { app: B, resource: CRM, scopes: ['crm:read', 'crm:export'], path: '/x' }, 'deny', 'denied_by_rule', ['no-export'], []],
    ['the earliest allow rule in set order decides', { resource: CRM, path: '/v1/x' }, 'allow', null, ['crm-all'], []],
  ])('%s', (_name, over, effect, reason, rules, failed) => {
    const decision = matcher.decideRequest(request(over));
    expect(decision.effect).toBe(effect);
    expect(decision.reason).toBe(reason);
    expect(decision.rules).toEqual(rules);
    expect(decision.policySetId).toBe('pset_TEST');
    expect(decision.policySetVersion).toBe(7);
    if (effect === 'allow') {
      expect(decision.diagnosis).toBeUndefined();
    } else {
      expect(decision.diagnosis?.reason).toBe(reason);
      expect(decision.diagnosis?.summary).toMatch(/^Denied/);
      if (failed.length > 0) expect(decision.diagnosis?.nearest[0]?.failed.map((f) => f.clause)).toEqual(failed);
    }
  });

  it('names the failing clause of the nearest rule, structured and in words', () => {
    const decision = matcher.decideRequest(request({ method: 'DELETE' }));
    const nearest = decision.diagnosis?.nearest[0];
    expect(nearest).toEqual({
      rule: 'starter',
      policy: 'pol_BASE@3',
      effect: 'allow',
      failed: [{ clause: 'method', expected: ['GET', 'HEAD'], actual: 'DELETE' }],
      sentence: 'rule `starter` (pol_BASE@3) allows GET, HEAD but the request was DELETE',
    });
    expect(decision.diagnosis?.summary).toContain('nearest: rule `starter` (pol_BASE@3) allows GET, HEAD but the request was DELETE');
  });

  it('explains path and scope failures in words', () => {
    const path = matcher.decideRequest(request({ path: '/v2/x' }));
    expect(path.diagnosis?.nearest[0]?.sentence).toBe('rule `starter` (pol_BASE@3) allows paths /v1/** but the request path was /v2/x');
    const scope = matcher.decideRequest(request({ scopes: ['billing:write'] }));
    expect(scope.diagnosis?.nearest[0]?.sentence).toBe(
      'rule `starter` (pol_BASE@3) needs one of the scopes billing:read but the token has billing:write',
    );
    const dots = matcher.decideRequest(request({ path: '/v1/%2e%2e/x' }));
    expect(dots.diagnosis?.nearest[0]?.sentence).toContain('has a dot segment or bad percent-encoding');
  });

  it('for an unknown app, lists rules that match the app or the resource, fewest failures first', () => {
    const decision = matcher.decideRequest(request({ app: C }));
    expect(decision.diagnosis?.nearest.map((n) => [n.rule, n.failed.map((f) => f.clause)])).toEqual([
      ['starter', ['app']],
      ['crm-all', ['resource']],
      ['writer', ['app', 'method', 'scope']],
    ]);
    expect(decision.diagnosis?.nearest[0]?.failed).toEqual([{ clause: 'app', expected: [A], actual: C }]);
    expect(decision.diagnosis?.nearest[0]?.sentence).toBe(`rule \`starter\` (pol_BASE@3) is for apps ${A} but the app is ${C}`);
    expect(decision.diagnosis?.summary).toContain(`no allow rule covers app ${C} on ${BILLING}`);
    expect(decision.policies).toEqual(['pol_BASE@3', 'pol_EXTRA@1']);
  });

  it('names the deny rule and the allow rule it overrides', () => {
    const decision = matcher.decideRequest(request({ path: '/v1/admin/users' }));
    expect(decision.policies).toEqual(['pol_BASE@3']);
    expect(decision.diagnosis?.denyingRules.map((r) => r.rule)).toEqual(['no-admin']);
    expect(decision.diagnosis?.nearest.map((r) => r.rule)).toEqual(['starter']);
    expect(decision.diagnosis?.summary).toBe(
      `Denied by rule \`no-admin\` (pol_BASE@3), which denies GET /v1/admin/users for app ${A} on ${BILLING}; ` +
        'deny rules win over allow rules such as rule `starter` (pol_BASE@3).',
    );
  });

  it('returns the same frozen allow decision every time (no allocation on the allow path)', () => {
    const first = matcher.decideRequest(request({}));
    const second = matcher.decideRequest(request({ path: '/v1/other' }));
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first.policies).toEqual(['pol_BASE@3']);
  });

  it('computes the diagnosis once, on first access, and serialises it', () => {
    const decision = matcher.decideRequest(request({ method: 'DELETE' }));
    expect(decision.diagnosis).toBe(decision.diagnosis);
    const json = JSON.parse(JSON.stringify(decision)) as { diagnosis: { reason: string } };
    expect(json.diagnosis.reason).toBe('method_not_allowed');
  });

  it('denies everything with no_active_policy when no set is active', () => {
    const decision = inactiveMatcher.decideRequest(request({}));
    expect(decision).toMatchObject({ effect: 'deny', reason: 'no_active_policy', rules: [], policySetId: null, policySetVersion: null });
    expect(decision.diagnosis?.summary).toContain('no policy set is active');
  });
});

describe('mint decisions', () => {
  it.each<[string, { app?: string; resource?: string; scopes: string[] }, 'allow' | 'deny', DenyReason | null, string[], string[], string[]]>([
    // name, query, effect, reason, rules, granted, denied
    ['one granted scope', { scopes: ['billing:read'] }, 'allow', null, ['starter'], ['billing:read'], []],
    ['scopes granted by two rules', { scopes: ['billing:read', 'billing:write'] }, 'allow', null, ['starter', 'writer'], ['billing:read', 'billing:write'], []],
    ['a scope no rule grants', { scopes: ['billing:read', 'billing:admin'] }, 'deny', 'scope_not_granted', [], ['billing:read'], ['billing:admin']],
    ['no scope requested', { scopes: [] }, 'deny', 'scope_not_granted', [], [], []],
    ['a literal "*" is never granted', { resource: CRM, scopes: ['*'] }, 'deny', 'scope_not_granted', [], [], ['*']],
    ['`*` grants any scope', { app: C, resource: CRM, scopes: ['crm:read', 'crm:write'] }, 'allow', null, ['crm-all'], ['crm:read', 'crm:write'], []],
    ['a deny narrowed to paths does not stop minting', { app: C, resource: BILLING, scopes: ['x'] }, 'deny', 'no_matching_rule', [], [], ['x']],
    ['a deny for every method and path stops minting', { app: B, resource: CRM, scopes: ['crm:read', 'crm:export'] }, 'deny', 'denied_by_rule', ['no-export'], ['crm:read'], ['crm:export']],
    ['no rule for the app', { app: C, scopes: ['billing:read'] }, 'deny', 'no_matching_rule', [], [], ['billing:read']],
  ])('%s', (_name, query, effect, reason, rules, granted, denied) => {
    const decision = matcher.decideMint({ app: A, resource: BILLING, ...query });
    expect(decision.effect).toBe(effect);
    expect(decision.reason).toBe(reason);
    expect(decision.rules).toEqual(rules);
    expect(decision.scopes).toEqual({ granted, denied });
    if (effect === 'deny') expect(decision.diagnosis?.reason).toBe(reason);
  });

  it('says which scopes were not granted and what the nearest rule grants', () => {
    const decision = matcher.decideMint({ app: A, resource: BILLING, scopes: ['billing:admin'] });
    expect(decision.diagnosis?.nearest[0]).toMatchObject({
      rule: 'starter',
      failed: [{ clause: 'scope', expected: ['billing:read'], actual: ['billing:admin'] }],
      sentence: 'rule `starter` (pol_BASE@3) grants billing:read but billing:admin was requested',
    });
    expect(decision.diagnosis?.summary).toContain('no allow rule grants scope billing:admin');
  });

  it('denies minting with no_active_policy when no set is active', () => {
    const decision = inactiveMatcher.decideMint({ app: A, resource: BILLING, scopes: ['billing:read'] });
    expect(decision).toMatchObject({ effect: 'deny', reason: 'no_active_policy', scopes: { granted: [], denied: ['billing:read'] } });
  });

  it('lists the scopes an app can obtain', () => {
    expect(matcher.grantableScopes(A, BILLING)).toEqual(['billing:read', 'billing:write']);
    expect(matcher.grantableScopes(B, 'crm')).toEqual(['*']);
    expect(matcher.grantableScopes(C, 'resource://none')).toEqual([]);
  });
});

describe('the index', () => {
  it('checks wildcard buckets alongside the exact one and keeps set order across them', () => {
    const wild = createMatcher(
      parsePolicyDocument(`
[[rules]]
id = "everyone-health"
effect = "allow"
apps = ["*"]
resources = ["*"]
scopes = ["health"]
methods = ["GET"]
paths = ["/healthz"]

[[rules]]
id = "app-everywhere"
effect = "allow"
apps = ["${A}"]
resources = ["*"]
scopes = ["health", "read"]

[[rules]]
id = "exact"
effect = "allow"
apps = ["${A}"]
resources = ["crm"]
scopes = ["read"]
`).rules,
    );
    const ask = (app: string, resource: string, scopes: string[], path = '/healthz') =>
      wild.decideRequest({ app, resource, scopes, method: 'GET', path }).rules;
    expect(ask(C, 'resource://any', ['health'])).toEqual(['everyone-health']);
    expect(ask(A, CRM, ['health'])).toEqual(['everyone-health']);
    expect(ask(A, CRM, ['read'])).toEqual(['app-everywhere']);
    expect(ask(A, CRM, ['read'], '/data')).toEqual(['app-everywhere']);
    expect(ask(B, CRM, ['read'], '/data')).toEqual([]);
    expect(wild.decideMint({ app: C, resource: 'resource://any', scopes: ['health'] }).effect).toBe('allow');
  });

  it('keeps unrelated rules out of a decision: 10,000 other pairs do not change it', () => {
    const rules = Array.from({ length: 10_000 }, (_, i) => ({
      id: `r${i}`,
      effect: 'allow' as const,
      apps: [newId('app')],
      resources: [`resource://svc-${i}`],
      scopes: ['s'],
    }));
    const big = createMatcher([...rules, { id: 'mine', effect: 'allow', apps: [A], resources: [BILLING], scopes: ['s'] }]);
    expect(big.ruleCount).toBe(10_001);
    expect(big.compiled?.exact.get(A)?.get(BILLING)?.allow.map((r) => r.rule.id)).toEqual(['mine']);
    expect(big.decideRequest(request({ scopes: ['s'] })).rules).toEqual(['mine']);
  });
});
