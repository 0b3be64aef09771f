import { compileGlob, type CompiledGlob } from './glob.js';
import { decideMint, decideRequest, grantableScopes } from './decide.js';
import { methodMask } from './method-bits.js';
import type {
  Decision,
  MintDecision,
  MintQuery,
  PolicyRule,
  PolicySetInput,
  RequestQuery,
} from './types.js';

/**
 * The policy compiler: turns a policy set version into an in-memory matcher indexed by
 * (app, resource). A decision looks at four buckets — exact (app, resource), (`*`, resource),
 * (app, `*`) and (`*`, `*`) — so its cost depends on the rules that can apply, not on how many
 * unrelated rules the set holds. Wildcard rules are also merged into each exact bucket they apply
 * to (up to MERGE_LIMIT), so the usual decision reads a single bucket. Rules keep their set order
 * (policy order, then rule order) as an ordinal; every bucket lists its rules in that order.
 */

/** A rule prepared for matching. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  /** Position in the set (policy order, then rule order). */
  readonly ordinal: number;
  /** `pol_…@3`. */
  readonly policy: string;
  readonly allow: boolean;
  readonly allApps: boolean;
  readonly apps: ReadonlySet<string>;
  readonly allResources: boolean;
  readonly resources: ReadonlySet<string>;
  readonly allScopes: boolean;
  readonly scopes: ReadonlySet<string>;
  readonly allMethods: boolean;
  readonly methodMask: number;
  /** No `paths` clause, or a `/**` glob: every valid path matches. */
  readonly allPaths: boolean;
  readonly globs: readonly CompiledGlob[];
  /** The shared, frozen decision this allow rule returns (null for deny rules). */
  readonly allowDecision: Decision | null;
}

/** Rules of one (app, resource) bucket, split by effect, each in set order. */
export interface Bucket {
  allow: CompiledRule[];
  deny: CompiledRule[];
  /**
   * For an exact (app, resource) bucket: whether the wildcard rules that apply to the pair were
   * merged into it at compile time, so that a decision needs to look at this bucket alone.
   */
  complete: boolean;
}

/** Wildcard rules merged into each exact bucket at most (beyond it, buckets are checked alongside). */
const MERGE_LIMIT = 64;

/** A compiled policy set version. */
export interface CompiledPolicySet {
  readonly policySetId: string | null;
  readonly policySetVersion: number | null;
  /** Every policy version of the set, `pol_…@3`, in set order. */
  readonly policies: readonly string[];
  readonly rules: readonly CompiledRule[];
  readonly exact: ReadonlyMap<string, ReadonlyMap<string, Bucket>>;
  /** Rules with apps = `*`, by resource. */
  readonly byResource: ReadonlyMap<string, Bucket>;
  /** Rules with resources = `*`, by app. */
  readonly byApp: ReadonlyMap<string, Bucket>;
  /** Rules with apps = `*` and resources = `*`. */
  readonly any: Bucket | null;
}

/** Answers the two policy questions for one compiled policy set version (or none). */
export interface PolicyMatcher {
  readonly policySetId: string | null;
  readonly policySetVersion: number | null;
  readonly policies: readonly string[];
  readonly ruleCount: number;
  /** The compiled set, or null when no set is active. */
  readonly compiled: CompiledPolicySet | null;
  /** May a token of app A with scopes S call method M on path P of resource R? */
  decideRequest(query: RequestQuery): Decision;
  /** May app A obtain scopes S on resource R? */
  decideMint(query: MintQuery): MintDecision;
  /** Scopes the allow rules for (app, resource) grant at mint (`*` when any scope is). */
  grantableScopes(app: string, resource: string): readonly string[];
}

/** Compiler tuning (tests use it to exercise the unmerged path). */
export interface CompileOptions {
  /** Wildcard rules merged into each exact bucket at most; default MERGE_LIMIT. */
  readonly mergeLimit?: number;
}

/** Compiles a policy set version into a matcher. */
export function compilePolicySet(input: PolicySetInput, options: CompileOptions = {}): PolicyMatcher {
  return matcherFor(compileSet(input.policySetId, input.version, input, options.mergeLimit ?? MERGE_LIMIT));
}

/** A matcher over one list of rules (a draft document, a test), with an optional identity. */
export function createMatcher(
  rules: readonly PolicyRule[],
  identity: { policyId?: string; policyVersion?: number; policySetId?: string | null; policySetVersion?: number | null } = {},
): PolicyMatcher {
  const policies = [{ policyId: identity.policyId ?? 'draft', version: identity.policyVersion ?? 0, rules }];
  return matcherFor(compileSet(identity.policySetId ?? null, identity.policySetVersion ?? null, { policies }, MERGE_LIMIT));
}

/** The matcher of a zone with no active policy set: it denies everything (`no_active_policy`). */
export const inactiveMatcher: PolicyMatcher = matcherFor(null);

function matcherFor(set: CompiledPolicySet | null): PolicyMatcher {
  return Object.freeze({
    policySetId: set?.policySetId ?? null,
    policySetVersion: set?.policySetVersion ?? null,
    policies: set?.policies ?? [],
    ruleCount: set?.rules.length ?? 0,
    compiled: set,
    decideRequest: (query: RequestQuery) => decideRequest(set, query),
    decideMint: (query: MintQuery) => decideMint(set, query),
    grantableScopes: (app: string, resource: string) => grantableScopes(set, app, resource),
  });
}

function compileSet(
  policySetId: string | null,
  policySetVersion: number | null,
  input: Pick<PolicySetInput, 'policies'>,
  mergeLimit: number,
): CompiledPolicySet {
  const exact = new Map<string, Map<string, Bucket>>();
  const byResource = new Map<string, Bucket>();
  const byApp = new Map<string, Bucket>();
  let any: Bucket | null = null;
  const rules: CompiledRule[] = [];
  const policies = input.policies.map((p) => `${p.policyId}@${p.version}`);
  const bucketIn = (map: Map<string, Bucket>, key: string): Bucket => {
    let bucket = map.get(key);
    if (bucket === undefined) map.set(key, (bucket = { allow: [], deny: [], complete: false }));
    return bucket;
  };
  const globs = new Map<string, CompiledGlob>();
  input.policies.forEach((policy, p) => {
    for (const rule of policy.rules) {
      const compiled = compileRule(rule, rules.length, policies[p] as string, policySetId, policySetVersion, globs);
      rules.push(compiled);
      const targets: Bucket[] = [];
      if (compiled.allApps && compiled.allResources) targets.push((any ??= { allow: [], deny: [], complete: false }));
      else if (compiled.allApps) for (const r of compiled.resources) targets.push(bucketIn(byResource, r));
      else if (compiled.allResources) for (const a of compiled.apps) targets.push(bucketIn(byApp, a));
      else {
        for (const a of compiled.apps) {
          let inner = exact.get(a);
          if (inner === undefined) exact.set(a, (inner = new Map<string, Bucket>()));
          for (const r of compiled.resources) targets.push(bucketIn(inner, r));
        }
      }
      for (const bucket of targets) (compiled.allow ? bucket.allow : bucket.deny).push(compiled);
    }
  });
  // Merge the wildcard rules that apply to each exact pair into its bucket (in set order), so the
  // common decision reads one bucket: two Map lookups, like a plain table.
  for (const [app, inner] of exact) {
    for (const [resource, bucket] of inner) {
      const extra = [byResource.get(resource), byApp.get(app), any ?? undefined].filter((b): b is Bucket => b !== undefined);
      if (extra.reduce((n, b) => n + b.allow.length + b.deny.length, 0) > mergeLimit) continue;
      const byOrdinal = (a: CompiledRule, b: CompiledRule) => a.ordinal - b.ordinal;
      bucket.allow = [bucket.allow, ...extra.map((b) => b.allow)].flat().sort(byOrdinal);
      bucket.deny = [bucket.deny, ...extra.map((b) => b.deny)].flat().sort(byOrdinal);
      bucket.complete = true;
    }
  }
  return { policySetId, policySetVersion, policies: Object.freeze(policies), rules, exact, byResource, byApp, any };
}

function compileRule(
  rule: PolicyRule,
  ordinal: number,
  policy: string,
  policySetId: string | null,
  policySetVersion: number | null,
  globCache: Map<string, CompiledGlob>,
): CompiledRule {
  const allow = rule.effect === 'allow';
  const methods = rule.methods ?? ['*'];
  const paths = rule.paths ?? ['/**'];
  const globs = paths.map((p) => {
    let glob = globCache.get(p);
    if (glob === undefined) globCache.set(p, (glob = compileGlob(p)));
    return glob;
  });
  const allMethods = methods.includes('*');
  return {
    rule,
    ordinal,
    policy,
    allow,
    allApps: rule.apps.includes('*'),
    apps: new Set(rule.apps),
    allResources: rule.resources.includes('*'),
    resources: new Set(rule.resources),
    allScopes: rule.scopes.includes('*'),
    scopes: new Set(rule.scopes),
    allMethods,
    methodMask: methodMask(rule.methods),
    allPaths: globs.some((g) => g.matchesAll),
    globs,
    allowDecision: allow
      ? Object.freeze({
          effect: 'allow',
          reason: null,
          rules: Object.freeze([rule.id]),
          policySetId,
          policySetVersion,
          policies: Object.freeze([policy]),
        })
      : null,
  };
}
