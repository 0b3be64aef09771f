import { isResourceId, normalizeResourceId } from '../domain/ids.js';
import type { Bucket, CompiledPolicySet, CompiledRule } from './compile.js';
import { methodBits } from './compile.js';
import { mintDenial, noActiveRequest, requestDeniedByRules, requestWithoutAllow } from './diagnose.js';
import { isMatchablePath, matchGlob, pathSegments, type PathSegments } from './glob.js';
import type { Decision, MintDecision, MintQuery, RequestQuery } from './types.js';

/**
 * The two decisions (DESIGN.md §6), on a compiled set. Deny rules win; no active set or no
 * matching allow rule denies. The allow path allocates nothing: it returns the deciding rule's
 * shared frozen decision. Denials are built in diagnose.ts, their diagnosis on first access.
 *
 * Request: an allow rule for (app, resource) must match the method and the path and share at least
 * one scope with the token (`*` shares any scope with a non-empty token); a deny rule matches when
 * method and path match and its scopes intersect the token's or are `*`. Absent `methods`/`paths`
 * clauses mean every method / every valid path (see glob.ts for what a valid path is).
 *
 * Mint: each requested scope must be granted by an allow rule for (app, resource) — whatever its
 * methods and paths, since those are checked per request — and hit by no deny rule that applies
 * to every method and path (deny rules narrowed to some methods or paths are enforced per request
 * and do not stop a token from being minted).
 */

// The current request path and its lazily computed forms. Decisions are synchronous, so module
// state cannot be shared between two decisions in flight, and it spares a per-decision object.
let currentPath = '';
let matchable = -1;
let segments: PathSegments | undefined;

function pathMatches(rule: CompiledRule): boolean {
  if (rule.allPaths) {
    if (matchable < 0) matchable = isMatchablePath(currentPath) ? 1 : 0;
    return matchable === 1;
  }
  if (segments === undefined) segments = pathSegments(currentPath);
  if (segments === null) return false;
  const globs = rule.globs;
  for (let i = 0; i < globs.length; i++) if (matchGlob(globs[i]!, segments)) return true;
  return false;
}

function scopesIntersect(rule: CompiledRule, scopes: readonly string[]): boolean {
  if (rule.allScopes) return rule.allow ? scopes.length > 0 : true;
  const set = rule.scopes;
  for (let i = 0; i < scopes.length; i++) if (set.has(scopes[i]!)) return true;
  return false;
}

function matchesRequest(rule: CompiledRule, bit: number, scopes: readonly string[]): boolean {
  return (rule.methodMask & bit) !== 0 && scopesIntersect(rule, scopes) && pathMatches(rule);
}

function anyMatch(list: readonly CompiledRule[], bit: number, scopes: readonly string[]): boolean {
  for (let i = 0; i < list.length; i++) if (matchesRequest(list[i]!, bit, scopes)) return true;
  return false;
}

function firstAllow(list: readonly CompiledRule[], bit: number, scopes: readonly string[], best: CompiledRule | null): CompiledRule | null {
  for (let i = 0; i < list.length; i++) {
    const rule = list[i]!;
    if (best !== null && rule.ordinal >= best.ordinal) break;
    if (matchesRequest(rule, bit, scopes)) return rule;
  }
  return best;
}

/** Bit of a request method (case-insensitive); 1<<30 for methods no rule can list. */
function methodBit(method: string): number {
  return methodBits.get(method) ?? methodBits.get(method.toUpperCase()) ?? 1 << 30;
}

/** The resource as the index keys it: `resource://slug` (bare slugs normalised; junk kept as is). */
export function queryResource(resource: string): string {
  return resource.startsWith('resource://') || !isResourceId(resource) ? resource : normalizeResourceId(resource);
}

/** The four buckets that can hold rules for (app, resource), missing ones left out. */
export function bucketsFor(set: CompiledPolicySet, app: string, resource: string): Bucket[] {
  const out: Bucket[] = [];
  const exact = set.exact.get(app)?.get(resource);
  if (exact !== undefined) out.push(exact);
  const byResource = set.byResource.get(resource);
  if (byResource !== undefined) out.push(byResource);
  const byApp = set.byApp.get(app);
  if (byApp !== undefined) out.push(byApp);
  if (set.any !== null) out.push(set.any);
  return out;
}

/** Decides a Gateway request against a compiled set (null: no active set). */
export function decideRequest(set: CompiledPolicySet | null, query: RequestQuery): Decision {
  if (set === null) return noActiveRequest;
  const resource = queryResource(query.resource);
  const inner = set.exact.get(query.app);
  const b1 = inner === undefined ? undefined : inner.get(resource);
  const b2 = set.byResource.get(resource);
  const b3 = set.byApp.get(query.app);
  const b4 = set.any;
  const bit = methodBit(query.method);
  const scopes = query.scopes;
  currentPath = query.path;
  matchable = -1;
  segments = undefined;
  if (
    (b1 !== undefined && anyMatch(b1.deny, bit, scopes)) ||
    (b2 !== undefined && anyMatch(b2.deny, bit, scopes)) ||
    (b3 !== undefined && anyMatch(b3.deny, bit, scopes)) ||
    (b4 !== null && anyMatch(b4.deny, bit, scopes))
  ) {
    const denying = bucketsFor(set, query.app, resource).flatMap((b) => b.deny.filter((r) => matchesRequest(r, bit, scopes)));
    const overridden = bucketsFor(set, query.app, resource).flatMap((b) => b.allow.filter((r) => matchesRequest(r, bit, scopes)));
    return requestDeniedByRules(set, query, resource, sortByOrdinal(denying), sortByOrdinal(overridden));
  }
  let best: CompiledRule | null = null;
  if (b1 !== undefined) best = firstAllow(b1.allow, bit, scopes, best);
  if (b2 !== undefined) best = firstAllow(b2.allow, bit, scopes, best);
  if (b3 !== undefined) best = firstAllow(b3.allow, bit, scopes, best);
  if (b4 !== null) best = firstAllow(b4.allow, bit, scopes, best);
  if (best !== null) return best.allowDecision!;
  const candidates = sortByOrdinal(bucketsFor(set, query.app, resource).flatMap((b) => b.allow));
  return requestWithoutAllow(set, query, resource, candidates);
}

/** Decides a token mint against a compiled set (null: no active set). */
export function decideMint(set: CompiledPolicySet | null, query: MintQuery): MintDecision {
  const requested = [...new Set(query.scopes)];
  if (set === null) return mintDenial(null, query, query.resource, requested, { granted: [], denied: requested, allows: [], denies: [] });
  const resource = queryResource(query.resource);
  const buckets = bucketsFor(set, query.app, resource);
  const allows = sortByOrdinal(buckets.flatMap((b) => b.allow));
  const denies = sortByOrdinal(buckets.flatMap((b) => b.deny.filter((r) => r.allMethods && r.allPaths)));
  const granted: string[] = [];
  const denied: string[] = [];
  const granting = new Set<CompiledRule>();
  const denying = new Set<CompiledRule>();
  for (const scope of requested) {
    const deniers = denies.filter((r) => r.allScopes || r.scopes.has(scope));
    if (deniers.length > 0) {
      denied.push(scope);
      for (const r of deniers) denying.add(r);
      continue;
    }
    const grant = scope === '*' ? undefined : allows.find((r) => r.allScopes || r.scopes.has(scope));
    if (grant === undefined) denied.push(scope);
    else {
      granted.push(scope);
      granting.add(grant);
    }
  }
  if (requested.length > 0 && denied.length === 0) {
    const rules = sortByOrdinal([...granting]);
    return Object.freeze({
      effect: 'allow',
      reason: null,
      rules: rules.map((r) => r.rule.id),
      policySetId: set.policySetId,
      policySetVersion: set.policySetVersion,
      policies: [...new Set(rules.map((r) => r.policy))],
      scopes: { granted, denied },
    });
  }
  return mintDenial(set, query, resource, requested, { granted, denied, allows, denies: sortByOrdinal([...denying]) });
}

/** Scopes the allow rules for (app, resource) grant at mint, minus scopes denied outright. */
export function grantableScopes(set: CompiledPolicySet | null, app: string, resource: string): readonly string[] {
  if (set === null) return [];
  const buckets = bucketsFor(set, app, queryResource(resource));
  const denies = buckets.flatMap((b) => b.deny.filter((r) => r.allMethods && r.allPaths));
  if (denies.some((r) => r.allScopes)) return [];
  const out = new Set<string>();
  for (const rule of sortByOrdinal(buckets.flatMap((b) => b.allow))) for (const s of rule.rule.scopes) out.add(s);
  for (const rule of denies) for (const s of rule.rule.scopes) out.delete(s);
  return [...out];
}

function sortByOrdinal(rules: CompiledRule[]): CompiledRule[] {
  return rules.sort((a, b) => a.ordinal - b.ordinal);
}
