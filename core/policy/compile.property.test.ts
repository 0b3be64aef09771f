import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicySet } from './compile.js';
import { validatePolicyRules } from './document.js';
import type { MintQuery, PolicyRule, RequestQuery } from './types.js';

/**
 * The compiled matcher must agree with a plain reference evaluator: no index, no precomputation,
 * a recursive glob matcher, every rule checked in set order.
 */

const APPS = ['app_01J00000000000000000000001', 'app_01J00000000000000000000002', 'app_01J00000000000000000000003'];
const RESOURCES = ['resource://one', 'resource://two'];
const SCOPES = ['s1', 's2', 's3'];
const METHODS = ['GET', 'POST', 'DELETE'];
const GLOBS = ['/**', '/', '/a/*', '/a/*/b', '/a/**', '/a/b', '/a/b/', '/b/**/c', '/a%20b/*', '/*/b'];
const PATHS = ['/', '/a', '/a/', '/a/b', '/a/b/', '/a/b/c', '/b/c', '/b/x/y/c', '/x/b', '/a/../b', '/a/%2e%2e', '/a%20b/x', '/a b/x', '/a/b?q=1', '/%zz', '/a//b', 'a/b'];

const listOf = (pool: readonly string[]) =>
  fc.oneof(fc.constant(['*']), fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: pool.length }));

const ruleArb = fc.record(
  {
    effect: fc.constantFrom('allow' as const, 'allow' as const, 'deny' as const),
    apps: listOf(APPS),
    resources: listOf(RESOURCES),
    scopes: listOf(SCOPES),
    methods: listOf(METHODS),
    paths: fc.uniqueArray(fc.constantFrom(...GLOBS), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['effect', 'apps', 'resources', 'scopes'] },
);

const setArb = fc.array(fc.array(ruleArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 });

const requestArb = fc.record({
  app: fc.constantFrom(...APPS, 'app_01J00000000000000000000009'),
  resource: fc.constantFrom(...RESOURCES, 'resource://three', 'one'),
  scopes: fc.uniqueArray(fc.constantFrom(...SCOPES, 'x'), { maxLength: 3 }),
  method: fc.constantFrom(...METHODS, 'PUT', 'get'),
  path: fc.constantFrom(...PATHS),
});

const mintArb = fc.record({
  app: fc.constantFrom(...APPS),
  resource: fc.constantFrom(...RESOURCES),
  scopes: fc.uniqueArray(fc.constantFrom(...SCOPES, 'x', '*'), { maxLength: 3 }),
});

interface Ordered {
  readonly rule: PolicyRule;
}

function refSegments(path: string): string[] | null {
  if (!path.startsWith('/')) return null;
  let p = path.split('?')[0] as string;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p === '/') return [];
  const out: string[] = [];
  for (const raw of p.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '.' || segment === '..') return null;
    out.push(segment);
  }
  return out;
}

function refGlob(glob: readonly string[], segments: readonly string[]): boolean {
  if (glob.length === 0) return segments.length === 0;
  const [head, ...tail] = glob;
  if (head === '**') return refGlob(tail, segments) || (segments.length > 0 && refGlob(glob, segments.slice(1)));
  if (segments.length === 0) return false;
  if (head === '*') return segments[0] !== '' && refGlob(tail, segments.slice(1));
  return decodeURIComponent(head as string) === segments[0] && refGlob(tail, segments.slice(1));
}

function globParts(glob: string): string[] {
  if (glob === '/') return [];
  const body = glob.endsWith('/') ? glob.slice(1, -1) : glob.slice(1);
  return body.split('/');
}

const norm = (resource: string) => (resource.startsWith('resource://') ? resource : `resource://${resource}`);
const has = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);

function refRequest(rules: readonly Ordered[], q: RequestQuery): { effect: string; rules: string[]; reason: string } {
  const segments = refSegments(q.path);
  const matches = (r: PolicyRule) =>
    has(r.apps, q.app) &&
    has(r.resources, norm(q.resource)) &&
    (r.methods === undefined || has(r.methods, q.method.toUpperCase())) &&
    segments !== null &&
    (r.paths ?? ['/**']).some((g) => refGlob(globParts(g), segments)) &&
    (r.scopes.includes('*') ? r.effect === 'deny' || q.scopes.length > 0 : q.scopes.some((s) => r.scopes.includes(s)));
  const denies = rules.filter(({ rule }) => rule.effect === 'deny' && matches(rule));
  if (denies.length > 0) return { effect: 'deny', rules: denies.map(({ rule }) => rule.id), reason: 'denied_by_rule' };
  const allow = rules.find(({ rule }) => rule.effect === 'allow' && matches(rule));
  if (allow) return { effect: 'allow', rules: [allow.rule.id], reason: 'allow' };
  const candidates = rules.some(({ rule }) => rule.effect === 'allow' && has(rule.apps, q.app) && has(rule.resources, norm(q.resource)));
  return { effect: 'deny', rules: [], reason: candidates ? 'clause' : 'no_matching_rule' };
}

function refMint(rules: readonly Ordered[], q: MintQuery): { effect: string; granted: string[]; denied: string[] } {
  const applies = (r: PolicyRule) => has(r.apps, q.app) && has(r.resources, q.resource);
  const everywhere = (r: PolicyRule) => (r.methods === undefined || r.methods.includes('*')) && (r.paths ?? ['/**']).includes('/**');
  const granted: string[] = [];
  const denied: string[] = [];
  for (const scope of q.scopes) {
    const deny = rules.some(({ rule }) => rule.effect === 'deny' && applies(rule) && everywhere(rule) && has(rule.scopes, scope));
    const allow = scope !== '*' && rules.some(({ rule }) => rule.effect === 'allow' && applies(rule) && has(rule.scopes, scope));
    (!deny && allow ? granted : denied).push(scope);
  }
  return { effect: q.scopes.length > 0 && denied.length === 0 ? 'allow' : 'deny', granted, denied };
}

function build(policies: readonly (readonly Omit<PolicyRule, 'id'>[])[], merge: boolean) {
  let n = 0;
  const withIds = policies.map((rules) => validatePolicyRules(rules.map((r) => ({ id: `r${n++}`, ...r }))));
  const matcher = compilePolicySet(
    { policySetId: 'pset_P', version: 1, policies: withIds.map((rules, i) => ({ policyId: `pol_${i}`, version: 1, rules })) },
    // Wildcard rules merged into exact buckets, or every bucket checked alongside: same answers.
    merge ? {} : { mergeLimit: 0 },
  );
  return { matcher, ordered: withIds.flat().map((rule) => ({ rule })) };
}

describe('compiled matcher against a reference evaluator', () => {
  it('agrees on request decisions, deciding rules and reason kinds', () => {
    fc.assert(
      fc.property(setArb, fc.array(requestArb, { minLength: 1, maxLength: 20 }), fc.boolean(), (policies, requests, merge) => {
        const { matcher, ordered } = build(policies, merge);
        for (const q of requests) {
          const got = matcher.decideRequest(q);
          const want = refRequest(ordered, q);
          expect({ effect: got.effect, rules: got.rules }).toEqual({ effect: want.effect, rules: want.rules });
          if (want.reason === 'clause') expect(['scope_not_granted', 'method_not_allowed', 'path_not_allowed']).toContain(got.reason);
          else if (want.effect === 'deny') expect(got.reason).toBe(want.reason);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees on mint decisions and the granted and denied scopes', () => {
    fc.assert(
      fc.property(setArb, fc.array(mintArb, { minLength: 1, maxLength: 10 }), fc.boolean(), (policies, queries, merge) => {
        const { matcher, ordered } = build(policies, merge);
        for (const q of queries) {
          const got = matcher.decideMint(q);
          const want = refMint(ordered, q);
          expect({ effect: got.effect, granted: got.scopes.granted, denied: got.scopes.denied }).toEqual(want);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
