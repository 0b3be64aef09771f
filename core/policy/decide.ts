import { bucketsFor, queryResource } from './buckets.js';
import type { Bucket, CompiledPolicySet, CompiledRule } from './compile.js';
import { mintDenial, noActiveRequest, requestDeniedByRules, requestWithoutAllow } from './diagnose.js';
import { ENCODED, matchGlob, matchGlobRaw, pathSegments, scanPath, UNMATCHABLE, type PathSegments } from './glob.js';
import { methodBit } from './method-bits.js';
import type { Decision, DenyReason, MintDecision, MintQuery, RequestQuery } from './types.js';

/**
 * The two decisions (DESIGN.md §6), on a compiled set. Deny rules win; no active set or no
 * matching allow rule denies. The allow path allocates nothing: it returns the deciding rule's
 * shared frozen decision. A denial computes its reason code here, without allocating either, and
 * its diagnosis (diagnose.ts) only when someone reads it.
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

// The current request path and what has been worked out about it. Decisions are synchronous, so
// this state is never shared by two decisions in flight, and it spares a per-decision object.
// `scan` is NOT_SCANNED, UNMATCHABLE, ENCODED or the end of the path's segments (glob.ts scanPath).
const NOT_SCANNED = -3;
const current: { path: string; scan: number; segments: PathSegments | undefined } = { path: '', scan: NOT_SCANNED, segments: undefined };

function pathMatches(rule: CompiledRule): boolean {
  let scan = current.scan;
  if (scan === NOT_SCANNED) scan = current.scan = scanPath(current.path);
  if (scan === UNMATCHABLE) return false;
  if (rule.allPaths) {
    if (scan !== ENCODED) return true;
  }
  const globs = rule.globs;
  if (scan === ENCODED) {
    let segments = current.segments;
    if (segments === undefined) segments = current.segments = pathSegments(current.path);
    if (segments === null) return false;
    if (rule.allPaths) return true;
    for (let i = 0; i < globs.length; i++) if (matchGlob(globs[i]!, segments)) return true;
    return false;
  }
  for (let i = 0; i < globs.length; i++) if (matchGlobRaw(globs[i]!, current.path, scan)) return true;
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

function anyMatch(bucket: Bucket | undefined, bit: number, scopes: readonly string[]): boolean {
  if (bucket === undefined) return false;
  const list = bucket.deny;
  for (let i = 0; i < list.length; i++) if (matchesRequest(list[i]!, bit, scopes)) return true;
  return false;
}

function firstAllow(bucket: Bucket | undefined, bit: number, scopes: readonly string[], best: CompiledRule | null): CompiledRule | null {
  if (bucket === undefined) return best;
  const list = bucket.allow;
  for (let i = 0; i < list.length; i++) {
    const rule = list[i]!;
    if (best !== null && rule.ordinal >= best.ordinal) break;
    if (matchesRequest(rule, bit, scopes)) return rule;
  }
  return best;
}

const METHOD = 1;
const PATH = 2;
const SCOPE = 4;

/** Failed clauses as bits, ranked: fewer failures first, then a scope-only failure first. */
function rank(rule: CompiledRule, bit: number, scopes: readonly string[]): number {
  let failed = 0;
  if ((rule.methodMask & bit) === 0) failed |= METHOD;
  if (!scopesIntersect(rule, scopes)) failed |= SCOPE;
  if (!pathMatches(rule)) failed |= PATH;
  const count = (failed & 1) + ((failed >> 1) & 1) + ((failed >> 2) & 1);
  return (count << 4) | ((failed & SCOPE) === 0 ? 8 : 0) | failed;
}

let bestRank = 0;

function nearestIn(bucket: Bucket | undefined, bit: number, scopes: readonly string[]): void {
  if (bucket === undefined) return;
  const list = bucket.allow;
  for (let i = 0; i < list.length; i++) {
    const r = rank(list[i]!, bit, scopes);
    if (r < bestRank) bestRank = r;
  }
}

/** The reason code of a request no allow rule matched, from the nearest candidate's failures. */
function reasonWithoutAllow(b1: Bucket | undefined, b2: Bucket | undefined, b3: Bucket | undefined, b4: Bucket | undefined, bit: number, scopes: readonly string[]): DenyReason {
  bestRank = 1 << 10;
  nearestIn(b1, bit, scopes);
  nearestIn(b2, bit, scopes);
  nearestIn(b3, bit, scopes);
  nearestIn(b4, bit, scopes);
  if (bestRank === 1 << 10) return 'no_matching_rule';
  if ((bestRank & SCOPE) !== 0) return 'scope_not_granted';
  if ((bestRank & METHOD) !== 0) return 'method_not_allowed';
  return 'path_not_allowed';
}

/** Decides a Gateway request against a compiled set (null: no active set). */
export function decideRequest(set: CompiledPolicySet | null, query: RequestQuery): Decision {
  if (set === null) return noActiveRequest;
  const resource = queryResource(query.resource);
  const inner = set.exact.get(query.app);
  const b1 = inner === undefined ? undefined : inner.get(resource);
  let b2: Bucket | undefined;
  let b3: Bucket | undefined;
  let b4: Bucket | undefined;
  if (b1 === undefined || !b1.complete) {
    b2 = set.byResource.get(resource);
    b3 = set.byApp.get(query.app);
    b4 = set.any ?? undefined;
  }
  const bit = methodBit(query.method);
  const scopes = query.scopes;
  current.path = query.path;
  current.scan = NOT_SCANNED;
  current.segments = undefined;
  if (anyMatch(b1, bit, scopes) || anyMatch(b2, bit, scopes) || anyMatch(b3, bit, scopes) || anyMatch(b4, bit, scopes)) {
    const denying: CompiledRule[] = [];
    for (const bucket of [b1, b2, b3, b4]) {
      if (bucket !== undefined) for (const rule of bucket.deny) if (matchesRequest(rule, bit, scopes)) denying.push(rule);
    }
    return requestDeniedByRules(set, query, resource, denying.sort(byOrdinal));
  }
  let best = firstAllow(b1, bit, scopes, null);
  best = firstAllow(b2, bit, scopes, best);
  best = firstAllow(b3, bit, scopes, best);
  best = firstAllow(b4, bit, scopes, best);
  if (best !== null) return best.allowDecision!;
  return requestWithoutAllow(set, query, resource, reasonWithoutAllow(b1, b2, b3, b4, bit, scopes));
}

/** Decides a token mint against a compiled set (null: no active set). */
export function decideMint(set: CompiledPolicySet | null, query: MintQuery): MintDecision {
  const requested = [...new Set(query.scopes)];
  if (set === null) return mintDenial(null, query, query.resource, requested, { granted: [], denied: requested, allows: [], denies: [] });
  const resource = queryResource(query.resource);
  const buckets = bucketsFor(set, query.app, resource);
  const allows = buckets.flatMap((b) => b.allow).sort(byOrdinal);
  const denies = buckets.flatMap((b) => b.deny.filter((r) => r.allMethods && r.allPaths)).sort(byOrdinal);
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
    const rules = [...granting].sort(byOrdinal);
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
  return mintDenial(set, query, resource, requested, { granted, denied, allows, denies: [...denying].sort(byOrdinal) });
}

/** Scopes the allow rules for (app, resource) grant at mint, minus scopes denied outright. */
export function grantableScopes(set: CompiledPolicySet | null, app: string, resource: string): readonly string[] {
  if (set === null) return [];
  const buckets = bucketsFor(set, app, queryResource(resource));
  const denies = buckets.flatMap((b) => b.deny.filter((r) => r.allMethods && r.allPaths));
  if (denies.some((r) => r.allScopes)) return [];
  const out = new Set<string>();
  for (const rule of buckets.flatMap((b) => b.allow).sort(byOrdinal)) for (const s of rule.rule.scopes) out.add(s);
  for (const rule of denies) for (const s of rule.rule.scopes) out.delete(s);
  return [...out];
}

function byOrdinal(a: CompiledRule, b: CompiledRule): number {
  return a.ordinal - b.ordinal;
}
