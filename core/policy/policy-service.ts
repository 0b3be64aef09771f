import type { ActivePolicySet, Policy, PolicyFormat, PolicyRef, PolicySetVersion, PolicyVersion } from '../domain/types.js';
import { CaracalError } from '../errors.js';
import type { CreatedPolicySet, NewPolicySet, Store } from '../store/store.js';
import { compilePolicySet, inactiveMatcher, type PolicyMatcher } from './compile.js';
import { detectPolicyFormat, parsePolicyDocument, validatePolicyRules } from './document.js';
import type { Decision, MintDecision, MintQuery, PolicyDocument, RequestQuery } from './types.js';

/** A document as submitted: its text and, optionally, its format (guessed when absent). */
export interface PolicySource {
  readonly source: string;
  readonly format?: PolicyFormat;
}

/** A new policy with its first version. */
export interface NewPolicyWithSource extends PolicySource {
  readonly zoneId: string;
  readonly name: string;
  readonly description?: string;
}

/** The outcome of an activation or rollback: the now-active pointer and the one it replaced. */
export interface Activation {
  readonly active: ActivePolicySet;
  readonly previous: ActivePolicySet | null;
}

/** Store-backed policy operations (DESIGN.md §6). */
export interface PolicyService {
  /** Validates a document without storing anything (throws CRC_POLICY_INVALID). */
  validate(input: PolicySource): PolicyDocument;
  /** Creates a policy and its version 1; nothing is stored when the document is invalid. */
  createPolicy(input: NewPolicyWithSource): Promise<{ readonly policy: Policy; readonly version: PolicyVersion }>;
  /** Appends an immutable version to a policy; nothing is stored when the document is invalid. */
  addVersion(policyId: string, input: PolicySource): Promise<PolicyVersion>;
  /**
   * Creates a policy set and, when members are given, its version 1 (checked as createSetVersion
   * checks them) in one store transaction: refused members leave no set behind.
   */
  createPolicySet(input: NewPolicySet, firstVersion?: readonly PolicyRef[]): Promise<CreatedPolicySet>;
  /** Appends an immutable set version: an ordered list of existing policy versions of the zone. */
  createSetVersion(zoneId: string, policySetId: string, policies: readonly PolicyRef[]): Promise<PolicySetVersion>;
  /** Makes a set version the zone's active one (one store transaction); it is compiled first. */
  activate(zoneId: string, policySetId: string, version: number): Promise<Activation>;
  /**
   * Re-activates the set version that was active before the current one (after a deactivation:
   * the last one activated). Rolling back twice returns to where it started.
   */
  rollback(zoneId: string): Promise<Activation>;
  /** Removes the active pointer: everything in the zone is then denied. */
  deactivate(zoneId: string): Promise<ActivePolicySet | null>;
  /** The compiled matcher of a set version of the zone (cached: versions are immutable). */
  loadMatcher(zoneId: string, policySetId: string, version: number): Promise<PolicyMatcher>;
  /** The compiled matcher of the zone's active set version, or one that denies everything. */
  loadActiveMatcher(zoneId: string): Promise<PolicyMatcher>;
  /** Decides a request against any set version of the zone, active or not, with no side effects. */
  simulate(zoneId: string, policySetId: string, version: number, request: RequestQuery): Promise<Decision>;
  /** Decides a mint against any set version of the zone, with no side effects. */
  simulateMint(zoneId: string, policySetId: string, version: number, query: MintQuery): Promise<MintDecision>;
}

/** How many compiled set versions a service keeps (they are immutable, so never stale). */
const CACHE_SIZE = 16;

/** Refuses set members the store would take but no set should have: none at all, or a policy twice. */
function checkSetMembers(subject: string, policies: readonly PolicyRef[]): void {
  if (policies.length === 0) {
    throw new CaracalError('CRC_VALIDATION', `A version of ${subject} needs at least one policy version.`, {
      hint: 'to deny everything in the zone, deactivate its policy set instead',
    });
  }
  const seen = new Set<string>();
  for (const ref of policies) {
    if (seen.has(ref.policyId)) {
      throw new CaracalError('CRC_VALIDATION', `Policy ${ref.policyId} appears twice in the new version of ${subject}: list each policy once.`);
    }
    seen.add(ref.policyId);
  }
}

/** Creates the policy service over a store. */
export function createPolicyService(store: Store): PolicyService {
  const cache = new Map<string, Promise<PolicyMatcher>>();

  const parse = (input: PolicySource): { document: PolicyDocument; format: PolicyFormat } => {
    const format = input.format ?? detectPolicyFormat(input.source);
    return { document: parsePolicyDocument(input.source, format), format };
  };

  const compile = async (zoneId: string, policySetId: string, version: number): Promise<PolicyMatcher> => {
    const set = await store.getPolicySet(zoneId, policySetId);
    if (set === undefined || set.id !== policySetId) {
      throw new CaracalError('CRC_NOT_FOUND', `Policy set ${policySetId} does not exist in zone ${zoneId}.`, {
        hint: 'list the zone\'s policy sets with `caracal policy-sets`',
      });
    }
    const setVersion = await store.getPolicySetVersion(policySetId, version);
    if (setVersion === undefined) {
      throw new CaracalError('CRC_NOT_FOUND', `Policy set ${policySetId} has no version ${version} (latest is ${set.latestVersion}).`);
    }
    const policies = await Promise.all(
      setVersion.policies.map(async (ref) => {
        const stored = await store.getPolicyVersion(ref.policyId, ref.version);
        if (stored === undefined) {
          throw new CaracalError('CRC_STORE_CORRUPT', `Policy set ${policySetId}@${version} names ${ref.policyId}@${ref.version}, which is missing.`);
        }
        return { policyId: ref.policyId, version: ref.version, rules: validatePolicyRules(stored.rules) };
      }),
    );
    return compilePolicySet({ policySetId, version, policies });
  };

  const loadMatcher = (zoneId: string, policySetId: string, version: number): Promise<PolicyMatcher> => {
    const key = `${zoneId}\n${policySetId}\n${version}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const pending = compile(zoneId, policySetId, version);
    cache.set(key, pending);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    pending.catch(() => cache.delete(key));
    return pending;
  };

  const activate = async (zoneId: string, policySetId: string, version: number): Promise<Activation> => {
    // Compile first: a set version that cannot be compiled is never made active.
    await loadMatcher(zoneId, policySetId, version);
    const previous = await store.activatePolicySet(zoneId, policySetId, version);
    const active = await store.getActivePolicySet(zoneId);
    if (active === undefined) throw new CaracalError('CRC_INTERNAL', `Activation of ${policySetId}@${version} in zone ${zoneId} did not persist.`);
    return { active, previous };
  };

  return {
    validate: (input) => parse(input).document,

    async createPolicy(input) {
      const { document, format } = parse(input);
      // One store call, one transaction: a policy is never left without its version 1.
      const { policy, version } = await store.createPolicy(
        {
          zoneId: input.zoneId,
          name: input.name,
          ...(input.description === undefined ? {} : { description: input.description }),
        },
        { format, source: input.source, rules: document.rules },
      );
      if (version === null) throw new CaracalError('CRC_INTERNAL', `Policy ${policy.id} was created without its first version.`);
      return { policy, version };
    },

    async addVersion(policyId, input) {
      const { document, format } = parse(input);
      return store.addPolicyVersion(policyId, { format, source: input.source, rules: document.rules });
    },

    async createPolicySet(input, firstVersion) {
      if (firstVersion !== undefined) checkSetMembers(`policy set ${input.name}`, firstVersion);
      // One store call, one transaction: a refused version 1 never leaves an empty set behind.
      return store.createPolicySet(input, firstVersion);
    },

    async createSetVersion(zoneId, policySetId, policies) {
      const set = await store.getPolicySet(zoneId, policySetId);
      if (set === undefined || set.id !== policySetId) {
        throw new CaracalError('CRC_NOT_FOUND', `Policy set ${policySetId} does not exist in zone ${zoneId}.`);
      }
      checkSetMembers(`policy set ${policySetId}`, policies);
      return store.addPolicySetVersion(policySetId, policies);
    },

    activate,

    async rollback(zoneId) {
      const [current, history] = await Promise.all([store.getActivePolicySet(zoneId), store.listActivations(zoneId, 2)]);
      const same = (a: ActivePolicySet | undefined) =>
        a !== undefined && current !== undefined && a.policySetId === current.policySetId && a.version === current.version;
      const target = current === undefined ? history[0] : same(history[0]) ? history[1] : history[0];
      if (target === undefined) {
        throw new CaracalError('CRC_CONFLICT', `Zone ${zoneId} has no earlier policy set activation to roll back to.`);
      }
      return activate(zoneId, target.policySetId, target.version);
    },

    deactivate: (zoneId) => store.deactivatePolicySet(zoneId),

    loadMatcher,

    async loadActiveMatcher(zoneId) {
      const active = await store.getActivePolicySet(zoneId);
      return active === undefined ? inactiveMatcher : loadMatcher(zoneId, active.policySetId, active.version);
    },

    async simulate(zoneId, policySetId, version, request) {
      return (await loadMatcher(zoneId, policySetId, version)).decideRequest(request);
    },

    async simulateMint(zoneId, policySetId, version, query) {
      return (await loadMatcher(zoneId, policySetId, version)).decideMint(query);
    },
  };
}
