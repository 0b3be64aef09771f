import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isId, normalizeResourceId } from '../../domain/ids.js';
import type { ActivePolicySet, PolicyRef, PolicySet, PolicySetVersion, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import type { Decision, MintDecision, NearestRule } from '../../policy/types.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { displayName } from './apps.js';
import { listQuery, pageArray, pageBody } from './paging.js';
import { requirePolicy, versionParam } from './policies.js';
import { scopeList } from './resources.js';
import { requireZone } from './zones.js';

const versionNumber = z.number().int().min(1);
const members = z
  .array(z.object({ policy: z.string().min(1).max(128), version: versionNumber.optional() }).strict())
  .min(1, 'list at least one policy version')
  .max(100, 'list at most 100 policies');
const setCreate = z
  .object({ name: displayName, description: z.string().max(500).default(''), policies: members.optional() })
  .strict();
const setVersionCreate = z.object({ policies: members }).strict();
const activateBody = z.object({ version: versionNumber.optional() }).strict();
const simulateBody = z
  .object({
    app: z.string().min(1).max(128),
    resource: z.string().min(1).max(200),
    scopes: scopeList,
    method: z.string().regex(/^[A-Za-z]{1,20}$/, 'a method is a word such as GET').default('GET'),
    path: z.string().regex(/^\/[\x21-\x7e]{0,2047}$/, 'a path starts with "/" and is printable ASCII').default('/'),
    policy_set: z.string().min(1).max(128).optional(),
    version: versionNumber.optional(),
  })
  .strict()
  .refine((v) => v.version === undefined || v.policy_set !== undefined, { message: '"version" needs a "policy_set"', path: ['version'] });

/** The API shape of a policy set. */
export function policySetView(set: PolicySet) {
  return {
    id: set.id,
    zone_id: set.zoneId,
    name: set.name,
    description: set.description,
    latest_version: set.latestVersion,
    created_at: set.createdAt,
  };
}
export type PolicySetView = ReturnType<typeof policySetView>;

/** The API shape of an immutable policy set version: its ordered policy versions. */
export function policySetVersionView(version: PolicySetVersion) {
  return {
    policy_set_id: version.policySetId,
    version: version.version,
    policies: version.policies.map((p) => ({ policy_id: p.policyId, version: p.version })),
    created_at: version.createdAt,
  };
}
export type PolicySetVersionView = ReturnType<typeof policySetVersionView>;

/** The API shape of the zone's active pointer. */
export function activeView(active: ActivePolicySet) {
  return { zone_id: active.zoneId, policy_set_id: active.policySetId, version: active.version, activated_at: active.activatedAt };
}
export type ActiveView = ReturnType<typeof activeView>;

/** The response of activate and rollback: the now-active pointer and the one it replaced. */
export interface ActivationView {
  readonly active: ActiveView;
  readonly previous: ActiveView | null;
}

function nearestView(rule: NearestRule) {
  return {
    rule: rule.rule,
    policy: rule.policy,
    effect: rule.effect,
    failed: rule.failed.map((f) => ({ clause: f.clause, expected: f.expected, actual: f.actual })),
    sentence: rule.sentence,
  };
}

/** The API shape of a policy decision, with the diagnosis of a deny (what explain prints). */
export function decisionView(decision: Decision) {
  const diagnosis = decision.effect === 'deny' ? decision.diagnosis : undefined;
  return {
    effect: decision.effect,
    reason: decision.reason,
    rules: decision.rules,
    policy_set_id: decision.policySetId,
    policy_set_version: decision.policySetVersion,
    policies: decision.policies,
    diagnosis:
      diagnosis === undefined
        ? null
        : {
            reason: diagnosis.reason,
            summary: diagnosis.summary,
            nearest: diagnosis.nearest.map(nearestView),
            denying_rules: diagnosis.denyingRules.map(nearestView),
          },
  };
}
export type DecisionView = ReturnType<typeof decisionView>;

/** A mint decision also names the granted and refused scopes. */
export function mintDecisionView(decision: MintDecision) {
  return { ...decisionView(decision), scopes: { granted: decision.scopes.granted, denied: decision.scopes.denied } };
}
export type MintDecisionView = ReturnType<typeof mintDecisionView>;

/** The response of a simulation: the Gateway decision for the request and the token-service decision for the scopes. */
export interface SimulationView {
  readonly decision: DecisionView;
  readonly mint: MintDecisionView;
}

/** Finds a policy set of the zone by ID or name, or throws a 404. */
export async function requirePolicySet(ctx: ControlContext, zone: Zone, ref: string): Promise<PolicySet> {
  const set = await ctx.store.getPolicySet(zone.id, ref);
  if (!set) {
    throw new CaracalError('CRC_NOT_FOUND', `policy set "${ref.slice(0, 80)}" does not exist in zone ${zone.name}`, {
      hint: `list the zone's policy sets with \`caracal policy-sets list --zone ${zone.name}\``,
    });
  }
  return set;
}

/** Something named in a request body that does not exist: an invalid body (422), not a missing URL (404). */
function invalidReference(error: unknown, path: string): never {
  if (error instanceof CaracalError && error.code === 'CRC_NOT_FOUND') {
    throw new CaracalError('CRC_VALIDATION', error.message, { details: [{ path, message: error.message }], ...(error.hint ? { hint: error.hint } : {}) });
  }
  throw error;
}

/** Resolves `{policy, version?}` members (IDs or names; the latest version when none is given). */
async function resolveMembers(ctx: ControlContext, zone: Zone, list: z.output<typeof members>): Promise<PolicyRef[]> {
  return Promise.all(
    list.map(async (member, index) => {
      const policy = await requirePolicy(ctx, zone, member.policy).catch((error: unknown) => invalidReference(error, `policies.${index}.policy`));
      const version = member.version ?? policy.latestVersion;
      if (version < 1 || version > policy.latestVersion) {
        const message =
          policy.latestVersion === 0
            ? `policy ${policy.name} has no version yet: add one with \`caracal policies add-version ${policy.name} FILE\``
            : `policy ${policy.name} has no version ${version} (latest is ${policy.latestVersion})`;
        throw new CaracalError('CRC_VALIDATION', message, { details: [{ path: `policies.${index}.version`, message }] });
      }
      return { policyId: policy.id, version };
    }),
  );
}

type SetParams = { Params: { zone: string; set: string } };

/**
 * `/v1/zones/:zone/policy-sets` (create, list, get, versions, activate) and the zone's policy
 * pointer `/v1/zones/:zone/policy/{active,rollback,simulate}`.
 */
export function policySetRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const service = ctx.policy;

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/policy-sets', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return pageBody(await ctx.store.listPolicySets(zone.id, listQuery(request.query)), policySetView);
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/policy-sets', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const input = parseInput(setCreate, request.body, 'policy set');
    // Names resolve first, so a bad reference is refused with its path; the set and its version 1
    // are then written in one transaction, so a version the store refuses leaves no set behind.
    const refs = input.policies === undefined ? undefined : await resolveMembers(ctx, zone, input.policies);
    const { policySet: set, version } = await service.createPolicySet(
      { zoneId: zone.id, name: input.name, description: input.description },
      refs,
    );
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'policy_set.create',
      subject: set.id,
      after: { ...policySetView(set), ...(version ? { version: policySetVersionView(version) } : {}) },
    });
    return reply.status(201).send({ ...policySetView(set), created_version: version ? policySetVersionView(version) : null });
  });

  app.get<SetParams>('/v1/zones/:zone/policy-sets/:set', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return policySetView(await requirePolicySet(ctx, zone, request.params.set));
  });

  app.post<SetParams>('/v1/zones/:zone/policy-sets/:set/versions', async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const set = await requirePolicySet(ctx, zone, request.params.set);
    const input = parseInput(setVersionCreate, request.body, 'policy set version');
    const version = await service.createSetVersion(zone.id, set.id, await resolveMembers(ctx, zone, input.policies));
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'policy_set.version.create',
      subject: `${set.id}@${version.version}`,
      after: policySetVersionView(version),
    });
    return reply.status(201).send(policySetVersionView(version));
  });

  app.get<SetParams>('/v1/zones/:zone/policy-sets/:set/versions', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const set = await requirePolicySet(ctx, zone, request.params.set);
    const versions = await ctx.store.listPolicySetVersions(set.id);
    return pageBody(pageArray(versions, listQuery(request.query)), policySetVersionView);
  });

  app.get<{ Params: { zone: string; set: string; version: string } }>('/v1/zones/:zone/policy-sets/:set/versions/:version', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const set = await requirePolicySet(ctx, zone, request.params.set);
    const number = versionParam(request.params.version);
    const version = await ctx.store.getPolicySetVersion(set.id, number);
    if (!version) throw new CaracalError('CRC_NOT_FOUND', `policy set ${set.name} has no version ${number} (latest is ${set.latestVersion})`);
    return policySetVersionView(version);
  });

  app.post<SetParams>('/v1/zones/:zone/policy-sets/:set/activate', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const set = await requirePolicySet(ctx, zone, request.params.set);
    const input = parseInput(activateBody, request.body ?? {}, 'activation');
    const version = input.version ?? set.latestVersion;
    if (version === 0) {
      throw new CaracalError('CRC_CONFLICT', `policy set ${set.name} has no version to activate`, {
        hint: `add one with \`caracal policy-sets add-version ${set.name} --policy P\``,
      });
    }
    if (version > set.latestVersion) {
      throw new CaracalError('CRC_NOT_FOUND', `policy set ${set.name} has no version ${version} (latest is ${set.latestVersion})`);
    }
    const { active, previous } = await service.activate(zone.id, set.id, version);
    const body: ActivationView = { active: activeView(active), previous: previous ? activeView(previous) : null };
    recordChange(ctx, request.id, { zone: zone.id, action: 'policy_set.activate', subject: `${set.id}@${version}`, before: body.previous, after: body.active });
    return body;
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/policy/rollback', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const { active, previous } = await service.rollback(zone.id);
    const body: ActivationView = { active: activeView(active), previous: previous ? activeView(previous) : null };
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'policy_set.rollback',
      subject: `${active.policySetId}@${active.version}`,
      before: body.previous,
      after: body.active,
    });
    return body;
  });

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/policy/active', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const active = await ctx.store.getActivePolicySet(zone.id);
    return { active: active ? activeView(active) : null };
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/policy/simulate', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const input = parseInput(simulateBody, request.body, 'simulation');
    const found = await ctx.store.getApp(zone.id, input.app);
    if (!found && !isId('app', input.app)) {
      const message = `app "${input.app.slice(0, 80)}" does not exist in zone ${zone.name}`;
      throw new CaracalError('CRC_VALIDATION', message, { details: [{ path: 'app', message }], hint: 'name an existing app, or give an app ID (app_…)' });
    }
    const query = { app: found?.id ?? input.app, resource: normalizeResourceId(input.resource), scopes: input.scopes };
    let matcher;
    if (input.policy_set === undefined) {
      matcher = await service.loadActiveMatcher(zone.id);
    } else {
      const set = await requirePolicySet(ctx, zone, input.policy_set).catch((error: unknown) => invalidReference(error, 'policy_set'));
      const version = input.version ?? set.latestVersion;
      if (version < 1 || version > set.latestVersion) {
        const message = `policy set ${set.name} has no version ${version} (latest is ${set.latestVersion})`;
        throw new CaracalError('CRC_VALIDATION', message, { details: [{ path: 'version', message }] });
      }
      matcher = await service.loadMatcher(zone.id, set.id, version);
    }
    const body: SimulationView = {
      decision: decisionView(matcher.decideRequest({ ...query, method: input.method.toUpperCase(), path: input.path })),
      mint: mintDecisionView(matcher.decideMint(query)),
    };
    return body;
  });
}
