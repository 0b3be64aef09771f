import { bucketsFor } from './buckets.js';
import type { CompiledPolicySet, CompiledRule } from './compile.js';
import { matchGlob, pathSegments } from './glob.js';
import { methodBit } from './method-bits.js';
import type {
  ClauseFailure,
  Decision,
  DenyReason,
  Diagnosis,
  MintDecision,
  MintQuery,
  NearestRule,
  RequestQuery,
} from './types.js';

/**
 * Denials and their diagnosis: the stable reason code (computed with the decision) and, on first
 * access, the nearest allow rules with each failing clause named, structured and in words. This is
 * what explain prints. Only the deny path comes here, so it may allocate.
 */

/** How many nearest rules a diagnosis lists. */
const NEAREST = 3;

const noActiveDiagnosis: Diagnosis = Object.freeze({
  reason: 'no_active_policy',
  summary: 'Denied: no policy set is active in this zone, so everything is denied; activate a policy set version.',
  nearest: Object.freeze([]),
  denyingRules: Object.freeze([]),
});

/** The shared denial for any request when no policy set is active. */
export const noActiveRequest: Decision = Object.freeze({
  effect: 'deny',
  reason: 'no_active_policy',
  rules: Object.freeze([]),
  policySetId: null,
  policySetVersion: null,
  policies: Object.freeze([]),
  diagnosis: noActiveDiagnosis,
});

/** Which clauses of an allow rule fail for a request (methods, scopes, path). */
export function requestFailures(rule: CompiledRule, query: RequestQuery, resource: string): ClauseFailure[] {
  const failed: ClauseFailure[] = [];
  if (!rule.allApps && !rule.apps.has(query.app)) failed.push({ clause: 'app', expected: rule.rule.apps, actual: query.app });
  if (!rule.allResources && !rule.resources.has(resource)) {
    failed.push({ clause: 'resource', expected: rule.rule.resources, actual: resource });
  }
  if ((rule.methodMask & methodBit(query.method)) === 0) failed.push({ clause: 'method', expected: rule.rule.methods ?? ['*'], actual: query.method });
  const segments = pathSegments(query.path);
  if (segments === null || !rule.globs.some((g) => matchGlob(g, segments))) {
    failed.push({ clause: 'path', expected: rule.rule.paths ?? ['/**'], actual: query.path });
  }
  const shares = rule.allScopes ? query.scopes.length > 0 : query.scopes.some((s) => rule.scopes.has(s));
  if (!shares) failed.push({ clause: 'scope', expected: rule.rule.scopes, actual: query.scopes });
  return failed;
}

/**
 * Orders near rules as decide.ts ranks them for the reason code: fewest failed clauses first;
 * among equals, a rule failing on scope first (the fix is then to request that scope: RFC 6750
 * `insufficient_scope`), then a method failure before a path failure; then set order.
 */
function nearestFirst(a: Near, b: Near): number {
  return a.failed.length - b.failed.length || clauseRank(a) - clauseRank(b) || a.rule.ordinal - b.rule.ordinal;
}

const CLAUSE_BITS: Readonly<Record<string, number>> = { app: 16, resource: 32, method: 1, path: 2, scope: 4 };

function clauseRank(near: Near): number {
  const bits = near.failed.reduce((sum, f) => sum | (CLAUSE_BITS[f.clause] ?? 0), 0);
  return ((bits & 4) === 0 ? 64 : 0) | bits;
}

interface Near {
  readonly rule: CompiledRule;
  readonly failed: readonly ClauseFailure[];
}

/** Denial of a request that matched one or more deny rules (in set order). */
export function requestDeniedByRules(set: CompiledPolicySet, query: RequestQuery, resource: string, denying: readonly CompiledRule[]): Decision {
  return new Denial(set, 'denied_by_rule', denying, () => {
    const overridden = allowCandidates(set, query.app, resource).filter((r) => requestFailures(r, query, resource).length === 0);
    const first = denying[0]!;
    const others = denying.length > 1 ? ` (and ${denying.length - 1} more deny rule${denying.length > 2 ? 's' : ''})` : '';
    const wins = overridden.length > 0 ? `; deny rules win over allow rules such as ${ruleName(overridden[0]!)}` : '';
    return {
      reason: 'denied_by_rule',
      summary: `Denied by ${ruleName(first)}${others}, which denies ${query.method} ${query.path} for app ${query.app} on ${resource}${wins}.`,
      nearest: overridden.slice(0, NEAREST).map((r) => nearestRule(r, [], 'request')),
      denyingRules: denying.map((r) => nearestRule(r, [], 'request')),
    };
  });
}

/** Denial of a request that no allow rule matched; `reason` was ranked by decide.ts. */
export function requestWithoutAllow(set: CompiledPolicySet, query: RequestQuery, resource: string, reason: DenyReason): Decision {
  return new Denial(set, reason, [], () => {
    const near = allowCandidates(set, query.app, resource)
      .map((rule) => ({ rule, failed: requestFailures(rule, query, resource) }))
      .sort(nearestFirst);
    const list = near.length === 0 ? nearAcrossSet(set, query, resource) : near.slice(0, NEAREST);
    const nearest = list.map((n) => nearestRule(n.rule, n.failed, 'request'));
    const scopes = query.scopes.length > 0 ? query.scopes.join(' ') : 'no scopes';
    const head =
      near.length === 0
        ? `Denied: no allow rule covers app ${query.app} on ${resource}`
        : `Denied: no allow rule for app ${query.app} on ${resource} matches ${query.method} ${query.path} with ${scopes}`;
    const tail = nearest.length > 0 ? `; nearest: ${nearest.map((n) => n.sentence).join('; ')}` : '';
    return { reason, summary: `${head}${tail}.`, nearest, denyingRules: [] };
  });
}

function allowCandidates(set: CompiledPolicySet, app: string, resource: string): CompiledRule[] {
  return bucketsFor(set, app, resource)
    .flatMap((b) => b.allow)
    .sort((a, b) => a.ordinal - b.ordinal);
}

/** Allow rules anywhere in the set that match the app or the resource (for `no_matching_rule`). */
function nearAcrossSet(set: CompiledPolicySet, query: RequestQuery | MintQuery, resource: string): Near[] {
  const near: Near[] = [];
  for (const rule of set.rules) {
    if (!rule.allow) continue;
    const appOk = rule.allApps || rule.apps.has(query.app);
    const resourceOk = rule.allResources || rule.resources.has(resource);
    if (appOk === resourceOk) continue;
    const failed =
      'method' in query
        ? requestFailures(rule, query, resource)
        : [appOk ? { clause: 'resource' as const, expected: rule.rule.resources, actual: resource } : { clause: 'app' as const, expected: rule.rule.apps, actual: query.app }];
    near.push({ rule, failed });
  }
  return near.sort(nearestFirst).slice(0, NEAREST);
}

interface MintOutcome {
  readonly granted: readonly string[];
  readonly denied: readonly string[];
  /** Allow rules for (app, resource). */
  readonly allows: readonly CompiledRule[];
  /** Deny rules that hit a requested scope. */
  readonly denies: readonly CompiledRule[];
}

/** Denial of a mint: some requested scope was not granted or was denied (or none was requested). */
export function mintDenial(
  set: CompiledPolicySet | null,
  query: MintQuery,
  resource: string,
  requested: readonly string[],
  outcome: MintOutcome,
): MintDecision {
  const scopes = Object.freeze({ granted: outcome.granted, denied: outcome.denied });
  if (set === null) return Object.freeze({ ...noActiveRequest, scopes });
  const reason: DenyReason =
    outcome.denies.length > 0 ? 'denied_by_rule' : outcome.allows.length === 0 ? 'no_matching_rule' : 'scope_not_granted';
  return new MintDenial(set, reason, outcome.denies, scopes, () => {
    const missing = outcome.denied.join(' ');
    if (reason === 'denied_by_rule') {
      const denyingRules = outcome.denies.map((r) => nearestRule(r, [], 'mint'));
      return {
        reason,
        summary: `Denied: ${plural('scope', outcome.denied)} ${missing} on ${resource} ${outcome.denied.length === 1 ? 'is' : 'are'} not available to app ${query.app}: ${denyingRules.map((d) => d.sentence).join('; ')}.`,
        nearest: [],
        denyingRules,
      };
    }
    if (reason === 'no_matching_rule') {
      const nearest = nearAcrossSet(set, query, resource).map((n) => nearestRule(n.rule, n.failed, 'mint'));
      const tail = nearest.length > 0 ? `; nearest: ${nearest.map((n) => n.sentence).join('; ')}` : '';
      return { reason, summary: `Denied: no allow rule covers app ${query.app} on ${resource}${tail}.`, nearest, denyingRules: [] };
    }
    const nearest = outcome.allows.slice(0, NEAREST).map((rule) =>
      nearestRule(rule, [{ clause: 'scope', expected: rule.rule.scopes, actual: outcome.denied }], 'mint'),
    );
    const what = requested.length === 0 ? 'no scope was requested' : `no allow rule grants ${plural('scope', outcome.denied)} ${missing}`;
    return {
      reason,
      summary: `Denied: app ${query.app} may not obtain ${requested.join(' ') || 'a token'} on ${resource}: ${what}; nearest: ${nearest.map((n) => n.sentence).join('; ')}.`,
      nearest,
      denyingRules: [],
    };
  });
}

const NO_RULES: readonly string[] = Object.freeze([]);

/** A deny decision; its diagnosis is built on first access (and included in JSON). */
class Denial implements Decision {
  readonly effect = 'deny';
  readonly reason: DenyReason;
  readonly rules: readonly string[];
  readonly policySetId: string | null;
  readonly policySetVersion: number | null;
  readonly policies: readonly string[];
  #diagnose: (() => Diagnosis) | null;
  #diagnosis: Diagnosis | null = null;

  constructor(set: CompiledPolicySet, reason: DenyReason, deciding: readonly CompiledRule[], diagnose: () => Diagnosis) {
    this.reason = reason;
    this.rules = deciding.length === 0 ? NO_RULES : deciding.map((r) => r.rule.id);
    this.policySetId = set.policySetId;
    this.policySetVersion = set.policySetVersion;
    this.policies = deciding.length === 0 ? set.policies : [...new Set(deciding.map((r) => r.policy))];
    this.#diagnose = diagnose;
  }

  get diagnosis(): Diagnosis {
    if (this.#diagnosis === null) {
      this.#diagnosis = this.#diagnose!();
      this.#diagnose = null;
    }
    return this.#diagnosis;
  }

  toJSON(): Decision {
    const { effect, reason, rules, policySetId, policySetVersion, policies, diagnosis } = this;
    return { effect, reason, rules, policySetId, policySetVersion, policies, diagnosis };
  }
}

/** A denied mint, with the scopes granted and denied. */
class MintDenial extends Denial implements MintDecision {
  readonly scopes: MintDecision['scopes'];

  constructor(set: CompiledPolicySet, reason: DenyReason, deciding: readonly CompiledRule[], scopes: MintDecision['scopes'], diagnose: () => Diagnosis) {
    super(set, reason, deciding, diagnose);
    this.scopes = scopes;
  }

  override toJSON(): MintDecision {
    return { ...super.toJSON(), scopes: this.scopes };
  }
}

function ruleName(rule: CompiledRule): string {
  return `rule \`${rule.rule.id}\` (${rule.policy})`;
}

function plural(word: string, items: readonly unknown[]): string {
  return items.length === 1 ? word : `${word}s`;
}

function list(values: readonly string[]): string {
  return values.join(', ');
}

function nearestRule(rule: CompiledRule, failed: readonly ClauseFailure[], question: 'request' | 'mint'): NearestRule {
  const verb = rule.allow ? 'allows' : 'denies';
  let sentence: string;
  if (failed.length === 0) {
    sentence = rule.allow
      ? `${ruleName(rule)} would allow this ${question}`
      : `${ruleName(rule)} denies ${question === 'mint' ? `scopes ${list(rule.rule.scopes)}` : `${list(rule.rule.methods ?? ['every method'])} on ${list(rule.rule.paths ?? ['every path'])} with ${list(rule.rule.scopes)}`}`;
  } else {
    sentence = `${ruleName(rule)} ${failed.map((f) => clauseSentence(f, verb, question)).join(', and ')}`;
  }
  return { rule: rule.rule.id, policy: rule.policy, effect: rule.rule.effect, failed, sentence };
}

function clauseSentence(failure: ClauseFailure, verb: string, question: 'request' | 'mint'): string {
  const actual = typeof failure.actual === 'string' ? failure.actual : failure.actual.join(' ');
  const expected = list(failure.expected);
  switch (failure.clause) {
    case 'app':
      return `is for ${failure.expected.includes('*') ? 'every app' : `apps ${expected}`} but the app is ${actual}`;
    case 'resource':
      return `is for ${failure.expected.includes('*') ? 'every resource' : `resources ${expected}`} but the resource is ${actual}`;
    case 'method':
      return `${verb} ${expected} but the request was ${actual}`;
    case 'path':
      return pathSegments(actual) === null
        ? `${verb} paths ${expected} but the request path ${actual} has a dot segment or bad percent-encoding and matches no rule`
        : `${verb} paths ${expected} but the request path was ${actual}`;
    case 'scope':
      return question === 'mint'
        ? `grants ${expected} but ${actual || 'nothing'} was requested`
        : `needs one of the scopes ${expected} but the token has ${actual || 'no scopes'}`;
  }
}
