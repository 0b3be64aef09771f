import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Policy, PolicyVersion, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { maxPolicySourceBytes } from '../../policy/document.js';
import { recordChange, type ControlContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { displayName } from './apps.js';
import { listQuery, pageArray, pageBody } from './paging.js';
import { requireZone } from './zones.js';

/** Policy documents may be larger than other bodies (DESIGN.md §6: a 10,000-rule policy is ~2 MB); JSON escaping of the source adds up to a quarter. */
export const policyBodyLimit = Math.ceil(maxPolicySourceBytes * 1.25);

const format = z.enum(['toml', 'json'], { error: 'format must be "toml" or "json"' });
const source = z.string().min(1, 'the policy document is empty');
const policyCreate = z
  .object({ name: displayName, description: z.string().max(500).default(''), document: source.optional(), format: format.optional() })
  .strict()
  .refine((v) => v.format === undefined || v.document !== undefined, { message: '"format" needs a "document"', path: ['format'] });
const versionCreate = z.object({ format: format.optional(), source }).strict();

/** The API shape of a policy. */
export function policyView(policy: Policy) {
  return {
    id: policy.id,
    zone_id: policy.zoneId,
    name: policy.name,
    description: policy.description,
    latest_version: policy.latestVersion,
    created_at: policy.createdAt,
  };
}
export type PolicyView = ReturnType<typeof policyView>;

/** The API shape of an immutable policy version: the document as submitted and its validated rules. */
export function policyVersionView(version: PolicyVersion) {
  return {
    policy_id: version.policyId,
    version: version.version,
    format: version.format,
    source: version.source,
    rules: version.rules,
    created_at: version.createdAt,
  };
}
export type PolicyVersionView = ReturnType<typeof policyVersionView>;

/** Finds a policy of the zone by ID or name, or throws a 404. */
export async function requirePolicy(ctx: ControlContext, zone: Zone, ref: string): Promise<Policy> {
  const policy = await ctx.store.getPolicy(zone.id, ref);
  if (!policy) {
    throw new CaracalError('CRC_NOT_FOUND', `policy "${ref.slice(0, 80)}" does not exist in zone ${zone.name}`, {
      hint: `list the zone's policies with \`caracal policies list --zone ${zone.name}\``,
    });
  }
  return policy;
}

/** Reads a `:version` path parameter: a whole number of at least 1. */
export function versionParam(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) {
    throw new CaracalError('CRC_BAD_REQUEST', `"${value.slice(0, 20)}" is not a version number: use a whole number from 1`);
  }
  return Number(value);
}

type PolicyParams = { Params: { zone: string; policy: string } };

/** `/v1/zones/:zone/policies`: create (with an optional first version), list, get, versions, validate (dry run). */
export function policyRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const service = ctx.policy;
  const large = { bodyLimit: policyBodyLimit };

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/policies', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return pageBody(await ctx.store.listPolicies(zone.id, listQuery(request.query)), policyView);
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/policies', large, async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const input = parseInput(policyCreate, request.body, 'policy');
    if (input.document === undefined) {
      const { policy } = await ctx.store.createPolicy({ zoneId: zone.id, name: input.name, description: input.description });
      recordChange(ctx, request.id, { zone: zone.id, action: 'policy.create', subject: policy.id, after: policyView(policy) });
      return reply.status(201).send({ ...policyView(policy), created_version: null });
    }
    const { policy, version } = await service.createPolicy({
      zoneId: zone.id,
      name: input.name,
      description: input.description,
      source: input.document,
      ...(input.format === undefined ? {} : { format: input.format }),
    });
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'policy.create',
      subject: policy.id,
      after: { ...policyView(policy), version: version.version, rules: version.rules.length },
    });
    return reply.status(201).send({ ...policyView(policy), created_version: policyVersionView(version) });
  });

  app.post<{ Params: { zone: string } }>('/v1/zones/:zone/policies/validate', large, async (request) => {
    await requireZone(ctx, request.params.zone);
    const input = parseInput(versionCreate, request.body, 'policy document');
    const document = service.validate({ source: input.source, ...(input.format === undefined ? {} : { format: input.format }) });
    return { valid: true, rules: document.rules, rule_count: document.rules.length };
  });

  app.get<PolicyParams>('/v1/zones/:zone/policies/:policy', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    return policyView(await requirePolicy(ctx, zone, request.params.policy));
  });

  app.post<PolicyParams>('/v1/zones/:zone/policies/:policy/versions', large, async (request, reply) => {
    const zone = await requireZone(ctx, request.params.zone);
    const policy = await requirePolicy(ctx, zone, request.params.policy);
    const input = parseInput(versionCreate, request.body, 'policy version');
    const version = await service.addVersion(policy.id, { source: input.source, ...(input.format === undefined ? {} : { format: input.format }) });
    recordChange(ctx, request.id, {
      zone: zone.id,
      action: 'policy.version.create',
      subject: `${policy.id}@${version.version}`,
      after: { policy_id: policy.id, version: version.version, format: version.format, rules: version.rules.length },
    });
    return reply.status(201).send(policyVersionView(version));
  });

  app.get<PolicyParams>('/v1/zones/:zone/policies/:policy/versions', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const policy = await requirePolicy(ctx, zone, request.params.policy);
    const versions = await ctx.store.listPolicyVersions(policy.id);
    return pageBody(pageArray(versions, listQuery(request.query)), policyVersionView);
  });

  app.get<{ Params: { zone: string; policy: string; version: string } }>('/v1/zones/:zone/policies/:policy/versions/:version', async (request) => {
    const zone = await requireZone(ctx, request.params.zone);
    const policy = await requirePolicy(ctx, zone, request.params.policy);
    const number = versionParam(request.params.version);
    const version = await ctx.store.getPolicyVersion(policy.id, number);
    if (!version) {
      throw new CaracalError('CRC_NOT_FOUND', `policy ${policy.name} has no version ${number} (latest is ${policy.latestVersion})`);
    }
    return policyVersionView(version);
  });
}
