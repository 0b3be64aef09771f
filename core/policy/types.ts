/** The policy engine's shared types (DESIGN.md §6). */

/** What a rule does when it matches. */
export type PolicyEffect = 'allow' | 'deny';

/** The HTTP methods a rule may name (upper case; documents may write them in any case). */
export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;
export type HttpMethod = (typeof httpMethods)[number];

/**
 * One validated rule. `apps`, `resources`, `scopes` and `methods` hold either concrete values or
 * exactly `["*"]`; resources are normalised to `resource://<slug>`. An absent `methods` or `paths`
 * clause matches every method or path.
 */
export interface PolicyRule {
  readonly id: string;
  readonly effect: PolicyEffect;
  readonly apps: readonly string[];
  readonly resources: readonly string[];
  readonly scopes: readonly string[];
  readonly methods?: readonly string[];
  readonly paths?: readonly string[];
  readonly description?: string;
}

/** A validated policy document. */
export interface PolicyDocument {
  readonly version: 1;
  readonly description?: string;
  readonly rules: readonly PolicyRule[];
}

/** One policy version's rules as they take part in a policy set. */
export interface PolicyVersionRules {
  readonly policyId: string;
  readonly version: number;
  readonly rules: readonly PolicyRule[];
}

/** Everything a policy set version compiles from: its identity and its ordered policy versions. */
export interface PolicySetInput {
  readonly policySetId: string;
  readonly version: number;
  readonly policies: readonly PolicyVersionRules[];
}

/** The Gateway question: may this token call this method on this path of this resource? */
export interface RequestQuery {
  readonly app: string;
  readonly resource: string;
  /** The token's scopes. */
  readonly scopes: readonly string[];
  readonly method: string;
  /** The request path as received (percent-encoded, query string ignored). */
  readonly path: string;
}

/** The token service question: may this app obtain these scopes on this resource? */
export interface MintQuery {
  readonly app: string;
  readonly resource: string;
  readonly scopes: readonly string[];
}

/** Stable reason codes of a deny (they feed audit `reason` and explain). */
export type DenyReason =
  | 'no_active_policy'
  | 'no_matching_rule'
  | 'scope_not_granted'
  | 'method_not_allowed'
  | 'path_not_allowed'
  | 'denied_by_rule';

/** A rule clause that can fail to match. */
export type PolicyClause = 'app' | 'resource' | 'scope' | 'method' | 'path';

/** One failed clause of a rule: what the rule expects and what the question had. */
export interface ClauseFailure {
  readonly clause: PolicyClause;
  readonly expected: readonly string[];
  readonly actual: string | readonly string[];
}

/** A rule near the question, with the clauses that kept it from deciding it. */
export interface NearestRule {
  readonly rule: string;
  /** `pol_…@3`. */
  readonly policy: string;
  readonly effect: PolicyEffect;
  readonly failed: readonly ClauseFailure[];
  /** The same in words, e.g. "rule `starter` allows GET but the request was POST". */
  readonly sentence: string;
}

/** Why a decision denied, structured and in words (what explain prints). */
export interface Diagnosis {
  readonly reason: DenyReason;
  /** One human sentence. */
  readonly summary: string;
  /** Allow rules close to the question (fewest failed clauses first); empty when none is near. */
  readonly nearest: readonly NearestRule[];
  /** For `denied_by_rule`: the deny rules that matched. */
  readonly denyingRules: readonly NearestRule[];
}

/** The outcome of a decision. Allow decisions are shared frozen objects: never mutate. */
export interface Decision {
  readonly effect: PolicyEffect;
  /** null for an allow. */
  readonly reason: DenyReason | null;
  /** The deciding rule IDs (the allowing rule, or the denying rules); empty when none decided. */
  readonly rules: readonly string[];
  readonly policySetId: string | null;
  readonly policySetVersion: number | null;
  /** Policy versions involved (`pol_…@3`): the deciding rules' policies, else every policy consulted. */
  readonly policies: readonly string[];
  /** Present on a deny; computed on first access. */
  readonly diagnosis?: Diagnosis;
}

/** A mint decision also says which requested scopes were granted and which were not. */
export interface MintDecision extends Decision {
  readonly scopes: { readonly granted: readonly string[]; readonly denied: readonly string[] };
}
